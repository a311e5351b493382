import io
import json
import logging
import re

import pytest

from {{ cookiecutter.package_name }} import create_app
from {{ cookiecutter.package_name }}.settings import SettingsError, load_settings

URL = "/api/v1/greetings"


def operations(document):
    """Yield (method, path with its parameters filled, effective security) of each operation."""
    default = document.get("security", [])
    for path, items in document["paths"].items():
        for method, operation in items.items():
            if method != "parameters":
                yield method, re.sub(r"{[^}]+}", "x.txt", path), operation.get("security", default)


@pytest.fixture
def document(client):
    return client.get("/openapi.json").json


def test_the_document_declares_the_bearer_scheme(document):
    """/openapi.json names the bearer scheme, and each protected operation requires it."""
    assert document["components"]["securitySchemes"] == {
        "bearerAuth": {"type": "http", "scheme": "bearer"}
    }
    protected = {(method, path) for method, path, security in operations(document) if security}
    assert ("post", URL) in protected
    requirements = [security for *_, security in operations(document) if security]
    assert all(security == [{"bearerAuth": []}] for security in requirements)


def test_what_the_document_protects_is_protected_and_the_rest_is_open(anonymous, document):
    """Every operation the document marks refuses a request without a token; the others
    (probes, the document itself) answer it."""
    for method, path, security in operations(document):
        response = anonymous.open(path, method=method.upper())
        if security:
            assert response.status_code == 401, (method, path)
            assert response.headers["WWW-Authenticate"] == "Bearer"
            assert response.json["error"]["status"] == 401
        else:
            assert response.status_code in (200, 503), (method, path)


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "Bearer",
        "Bearer wrong-token-0123456789abcdef",
        "Basic dXNlcjpwYXNz",
        "Bearer \u00e9t\u00e9-token-0123456789",
    ],
    ids=["none", "empty", "wrong-token", "other-scheme", "non-ascii"],
)
def test_a_missing_or_wrong_token_is_a_json_401(anonymous, authorization):
    """Without one of API_TOKENS the request is a JSON 401 with WWW-Authenticate: Bearer."""
    headers = {"Authorization": authorization} if authorization else {}
    response = anonymous.post(URL, json={"name": "Ada"}, headers=headers)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert response.json == {
        "error": {"status": 401, "message": "send a valid token as Authorization: Bearer <token>"}
    }


def test_every_listed_token_is_accepted_so_tokens_rotate_without_downtime(environ):
    """API_TOKENS holds several tokens: the old and the new one work during a rotation."""
    environ["API_TOKENS"] = "old-token-0123456789abcdef, new-token-0123456789abcdef"
    client = create_app(environ).test_client()
    for token in ("old-token-0123456789abcdef", "new-token-0123456789abcdef"):
        headers = {"Authorization": f"bearer {token}"}
        assert client.post(URL, json={"name": "Ada"}, headers=headers).status_code == 200


@pytest.fixture
def log_stream(app):
    """Capture what the app writes to its log stream."""
    (handler,) = logging.getLogger().handlers
    stream = io.StringIO()
    handler.setStream(stream)
    return stream


def test_tokens_never_reach_the_logs(app, client, anonymous, token, log_stream):
    """Neither the accepted token nor a wrong one is logged, nor the settings' repr."""
    stream = log_stream
    client.post(URL, json={"name": "Ada"})
    anonymous.post(URL, headers={"Authorization": "Bearer wrong-token-0123456789abcdef"})
    logged = stream.getvalue() + repr(app.config["SETTINGS"])
    assert '"status": 200' in stream.getvalue()
    assert token not in logged
    assert "wrong-token" not in logged


def test_without_a_token_the_service_refuses_to_start(environ):
    """No API_TOKENS and no API_AUTH=off stops start-up with one line naming both."""
    del environ["API_TOKENS"]
    with pytest.raises(SettingsError, match=r"^API_TOKENS is empty: .* or API_AUTH=off to serve"):
        create_app(environ)


def test_api_auth_off_opens_every_route_and_says_so_once(environ, capsys):
    """API_AUTH=off serves without tokens, with one warning, and documents no scheme."""
    del environ["API_TOKENS"]
    environ["API_AUTH"] = "off"
    app = create_app(environ)
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(line["level"], line["message"]) for line in lines] == [
        ("WARNING", "API_AUTH=off: every route is open to anyone who can reach the service")
    ]
    client = app.test_client()
    assert client.post(URL, json={"name": "Ada"}).status_code == 200
    document = client.get("/openapi.json").json
    assert "securitySchemes" not in document.get("components", {})
    assert not any(security for *_, security in operations(document))


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("short", "API_TOKENS: token 1 is not a bearer token; use 16 or more"),
        ("good-token-0123456789abcdef,has space in it xx", "API_TOKENS: token 2 is not"),
    ],
)
def test_a_malformed_token_is_refused_without_being_echoed(value, message):
    """A token that is too short or has characters a header cannot carry is refused by position."""
    with pytest.raises(SettingsError, match=re.escape(message)) as raised:
        load_settings({"API_TOKENS": value})
    assert "has space" not in str(raised.value)
    assert "short" not in str(raised.value)
