"""SCIM 2.0 (RFC 7643/7644) for an organization's identity provider, built on scim2-models."""
