import pytest
from flask import request
from werkzeug.exceptions import BadRequest

from {{ cookiecutter.package_name }}.errors import validation_message


@pytest.fixture
def app(app):
    """Add routes that fail on purpose."""

    @app.get("/boom")
    def boom():
        raise RuntimeError("secret detail that must not leak")

    @app.post("/echo")
    def echo():
        return {"bytes": len(request.get_data())}

    @app.get("/bad")
    def bad():
        raise BadRequest("the 'size' query parameter must be a number")

    return app


def test_unknown_route_returns_json_404(client):
    """Unknown routes return a JSON 404, not an HTML page."""
    response = client.get("/nowhere")
    assert response.status_code == 404
    assert response.is_json
    assert response.json["error"]["status"] == 404
    assert response.json["error"]["message"]


def test_bad_request_returns_json_400_with_its_message(client):
    """A 400 carries the message that explains what to fix."""
    response = client.get("/bad")
    assert response.status_code == 400
    assert response.json == {
        "error": {"status": 400, "message": "the 'size' query parameter must be a number"}
    }


def test_doubled_slashes_are_not_redirected(client):
    """A path with //, merged by werkzeug into a redirect echoing the Host header, is a 404."""
    response = client.get("/openapi.json//", headers={"Host": "evil.example"})
    assert response.status_code == 404
    assert "Location" not in response.headers


def test_wrong_method_returns_json_405(client):
    """A wrong method returns a JSON 405 with the Allow header."""
    response = client.delete("/readyz")
    assert response.status_code == 405
    assert response.is_json
    assert set(response.headers["Allow"].split(", ")) >= {"GET"}


def test_oversized_body_returns_json_413(app, client):
    """A body over MAX_REQUEST_BYTES returns a JSON 413."""
    app.config["MAX_CONTENT_LENGTH"] = 10
    response = client.post("/echo", data=b"x" * 11)
    assert response.status_code == 413
    assert response.json["error"]["status"] == 413


def test_unexpected_exception_returns_json_500_without_details(client, caplog):
    """A crash returns a JSON 500 that leaks nothing, and is logged with its traceback."""
    response = client.get("/boom")
    assert response.status_code == 500
    assert response.json["error"]["status"] == 500
    assert "secret" not in response.get_data(as_text=True)
    assert "Traceback" not in response.get_data(as_text=True)
    assert any(record.exc_info for record in caplog.records)


@pytest.mark.parametrize(
    ("messages", "expected"),
    [
        ({"json": {"name": ["Too long."]}}, "body field 'name': Too long."),
        ({"json": {"_schema": ["Invalid input type."]}}, "body: Invalid input type."),
        ({"json": ["Invalid JSON body."]}, "body: Invalid JSON body."),
        (
            {"json": {"items": {0: {"qty": ["Not a valid integer."]}}}},
            "body field 'items.0.qty': Not a valid integer.",
        ),
        (
            {"query": {"page": ["Must be positive.", "Too big."]}, "json": {"a": ["Bad."]}},
            "query parameter 'page': Must be positive. Too big.; body field 'a': Bad.",
        ),
        ({"headers": {"X-Key": ["Missing."]}}, "headers field 'X-Key': Missing."),
    ],
)
def test_validation_messages_name_the_field_and_where_it_is(messages, expected):
    """Schema errors become one readable line naming each field and its location."""
    assert validation_message(messages) == expected
