"""The WSGI entry point that gunicorn serves."""

from gunicorn.errors import AppImportError

from . import create_app
from .settings import SettingsError


def __getattr__(name: str):
    # The app is made when gunicorn asks for it, in each worker, not on import: the
    # image's smoke check imports this module without the service's settings.
    if name != "app":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    try:
        app = create_app()
    except SettingsError as error:
        # gunicorn prints an AppImportError as one line and stops, where any other
        # error is a traceback for each worker it boots.
        raise AppImportError(str(error)) from None
    globals()["app"] = app
    return app
