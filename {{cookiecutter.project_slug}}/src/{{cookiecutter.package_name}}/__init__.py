"""The application factory of {{ cookiecutter.package_name }}."""

from collections.abc import Mapping

from flask import Flask

from . import (
    auth,
    bodies,
{%- if cookiecutter.database == "postgres" %}
    db,
{%- endif %}
    errors,
{%- if cookiecutter.use_volume %}
    files,
{%- endif %}
    greetings,
    headers,
    health,
    json_provider,
    logging,
{%- if cookiecutter.database == "postgres" %}
    notes,
{%- endif %}
    openapi,
    request_id,
)
from .settings import load_settings


def create_app(environ: Mapping[str, str] | None = None) -> Flask:
    """Create the application, configured from the environment."""
    settings = load_settings(environ)

    # No static folder: the service serves JSON only, and /openapi.json lists every route.
    app = Flask(__name__, static_folder=None)
    # No redirect from /a//b to /a/b: its Location would echo the client's Host header.
    app.url_map.merge_slashes = False
    app.config["SETTINGS"] = settings
    app.config["MAX_CONTENT_LENGTH"] = settings.max_request_bytes
    app.json = json_provider.OrjsonProvider(app)

    logging.configure(settings.log_level)
    request_id.init_app(app)
    logging.init_app(app)
    bodies.init_app(app)
    headers.init_app(app)
    api = openapi.init_app(app)
    errors.init_app(app)  # after the Api, whose own error handler this replaces
    auth.init_app(app, api)  # before the blueprints, so their documents name the scheme
{%- if cookiecutter.database == "postgres" %}
    db.init_app(app, environ)
{%- endif %}

    # The probes stay plain Flask views, so no validation layer slows them.
    app.register_blueprint(health.bp)
    openapi.document_views(app, health.OPENAPI_PATHS)
    api.register_blueprint(greetings.bp)
{%- if cookiecutter.use_volume %}
    files.init_app(app, api)
{%- endif %}
{%- if cookiecutter.database == "postgres" %}
    notes.init_app(app, api)
{%- endif %}
    return app
