"""Bearer tokens: the routes that change state, and the file store's reads, need one.

A resource protects every route of its blueprint with one line,
``bp.before_request(auth.require_token)``, and /openapi.json then says so for
each of them. API_TOKENS is a comma-separated list, so a token is rotated by
adding the new one, moving the clients, then removing the old one.
"""

import hmac
import logging

from apispec import BasePlugin
from flask import Flask, current_app, request
from flask_smorest import Api
from werkzeug.datastructures import WWWAuthenticate
from werkzeug.exceptions import Unauthorized

from .errors import ErrorSchema
from .settings import Settings, SettingsError

SCHEME = "bearerAuth"
_TOKENS = "auth_tokens"

log = logging.getLogger(__name__)


def require_token() -> None:
    """Refuse the request with a JSON 401 unless it carries one of API_TOKENS."""
    tokens = current_app.extensions[_TOKENS]
    if tokens is None:  # API_AUTH=off
        return
    scheme, _, credentials = request.headers.get("Authorization", "").partition(" ")
    # As bytes, which compare_digest takes whatever the characters; and against every
    # token, so the time taken says nothing about which one came close.
    given = credentials.strip().encode("utf-8", "replace")
    matches = [hmac.compare_digest(given, token) for token in tokens]
    if scheme.lower() != "bearer" or not any(matches):
        raise Unauthorized(
            "send a valid token as Authorization: Bearer <token>",
            www_authenticate=WWWAuthenticate("bearer"),
        )


class _SecurityPlugin(BasePlugin):
    """Document the bearer scheme on the operations of every blueprint that requires it."""

    def __init__(self, app: Flask) -> None:
        self.app = app

    def operation_helper(self, path=None, operations=None, **kwargs) -> None:
        rule = kwargs.get("rule")
        blueprint = rule.endpoint.rpartition(".")[0] if rule else ""
        if require_token in self.app.before_request_funcs.get(blueprint, ()):
            for operation in operations.values():
                operation["security"] = [{SCHEME: []}]
                operation.setdefault("responses", {})["401"] = "UNAUTHORIZED"


def refuse_without_tokens(settings: Settings) -> None:
    """Raise SettingsError when routes are protected but no token can open them."""
    if settings.api_auth and not settings.api_tokens:
        raise SettingsError(
            "API_TOKENS is empty: set it to one or more comma-separated bearer tokens"
            " (openssl rand -hex 32 makes one), or API_AUTH=off to serve without authentication"
        )


def init_app(app: Flask, api: Api) -> None:
    """Check tokens on protected routes; refuse to start without any, unless API_AUTH=off.

    Call before registering the blueprints, so that the document marks theirs.
    """
    settings = app.config["SETTINGS"]
    refuse_without_tokens(settings)
    if not settings.api_auth:
        app.extensions[_TOKENS] = None
        log.warning("API_AUTH=off: every route is open to anyone who can reach the service")
        return
    app.extensions[_TOKENS] = tuple(token.encode() for token in settings.api_tokens)
    api.spec.components.security_scheme(SCHEME, {"type": "http", "scheme": "bearer"})
    api.spec.components.response(
        "UNAUTHORIZED",
        {
            "description": "No valid bearer token: nothing was read or changed",
            "headers": {"WWW-Authenticate": {"schema": {"type": "string", "example": "Bearer"}}},
            "content": {"application/json": {"schema": ErrorSchema}},
        },
    )
    api.spec.plugins.append(_SecurityPlugin(app))
