"""Server-rendered pages: the API's gate and actions, dressed as HTML for owners and members."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from starlette.staticfiles import StaticFiles

from tokenward.http.route_table import include_flat
from tokenward.web.error_pages import install_page_errors
from tokenward.web.router import PAGE_ROUTERS

__all__ = ["install_web"]

STATIC_DIRECTORY = Path(__file__).parent / "static"


def install_web(app: FastAPI) -> None:
    """Pages, their static files (served locally, no CDN), and HTML error pages."""
    for router in PAGE_ROUTERS:
        include_flat(app, router)
    app.mount("/static", StaticFiles(directory=STATIC_DIRECTORY), name="static")
    install_page_errors(app)
