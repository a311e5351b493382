"""The application factory of {{ cookiecutter.package_name }}."""

from collections.abc import Mapping

from flask import Flask

from . import errors, {% if cookiecutter.use_volume %}files, {% endif %}health, logging, request_id
from .settings import load_settings


def create_app(environ: Mapping[str, str] | None = None) -> Flask:
    """Create the application, configured from the environment."""
    settings = load_settings(environ)

    app = Flask(__name__)
    app.config["SETTINGS"] = settings
    app.config["MAX_CONTENT_LENGTH"] = settings.max_request_bytes
    app.json.sort_keys = False

    logging.configure(settings.log_level)
    request_id.init_app(app)
    logging.init_app(app)
    errors.init_app(app)

    app.register_blueprint(health.bp)
{%- if cookiecutter.use_volume %}
    app.register_blueprint(files.bp)
{%- endif %}
    return app
