"""The WSGI entry point that the server imports (serve.py)."""

from . import create_app

app = create_app()
