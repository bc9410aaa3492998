"""Tokenward: organizations decide which API tokens may act on them."""

__version__ = "0.2.0"
