"""The WSGI entry point that gunicorn serves."""

from . import create_app

app = create_app()
