"""Headers every response carries."""

from flask import Flask
from flask.wrappers import Response


def _no_sniff(response: Response) -> Response:
    # Browsers then take a download for its declared type, never for a page to render.
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def init_app(app: Flask) -> None:
    """Add X-Content-Type-Options: nosniff to every response."""
    app.after_request(_no_sniff)
