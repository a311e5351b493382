"""The WSGI entry point that the server imports (serve.py)."""

from . import create_app


def __getattr__(name: str):
    # The app is made when the server asks for it, in each worker, not on import: the
    # image's smoke check imports this module without the service's settings. serve.py
    # refuses bad settings in one line before any worker starts.
    if name != "app":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    app = globals()["app"] = create_app()
    return app
