"""The OpenAPI document at /openapi.json, generated from the code by flask-smorest."""

import flask_smorest
from flask import Flask

from .errors import ErrorSchema
from .json_provider import Parser

TITLE = {{ cookiecutter.project_name | tojson }}
DESCRIPTION = {{ cookiecutter.description | tojson }}
DOCUMENT_PATH = {
    "/openapi.json": {
        "get": {
            "summary": "This document: the API's contract, generated from the code",
            "operationId": "openapi",
            "responses": {
                "200": {
                    "description": "The OpenAPI document",
                    "content": {"application/json": {"schema": {"type": "object"}}},
                },
                "default": "DEFAULT_ERROR",  # the shared error shape, from errors.py
            },
        }
    }
}


class Api(flask_smorest.Api):
    # Documents every error response with the shape errors.py answers.
    ERROR_SCHEMA = ErrorSchema


class Blueprint(flask_smorest.Blueprint):
    """A resource's blueprint: its JSON bodies are parsed by json_provider, within bounds."""

    ARGUMENTS_PARSER = Parser()


def init_app(app: Flask) -> Api:
    """Serve /openapi.json and return the Api that resource blueprints register with."""
    app.config.update(
        API_TITLE=TITLE,
        API_VERSION="v1",
        # 3.0 rather than 3.1: API Gateway and most client generators import 3.0.
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/",
        OPENAPI_JSON_PATH="openapi.json",
        API_SPEC_OPTIONS={"info": {"description": DESCRIPTION}},
    )
    api = app.extensions["openapi"] = Api(app)
    document_views(app, DOCUMENT_PATH)
    return api


def document_views(app: Flask, paths: dict) -> None:
    """Add hand-written operations for plain Flask views, which flask-smorest does not see.

    Each path must already be a registered route, so the document cannot
    describe a route the app does not have.
    """
    rules = {rule.rule: rule for rule in app.url_map.iter_rules()}
    for path, operations in paths.items():
        if path not in rules:
            raise LookupError(f"cannot document {path}: register its blueprint first")
        app.extensions["openapi"].spec.path(rule=rules[path], operations=operations)


def document(app: Flask) -> dict:
    """Return the OpenAPI document of app, as /openapi.json serves it."""
    return app.extensions["openapi"].spec.to_dict()
