import io

import pytest
from flask import request


@pytest.fixture
def environ(environ):
    environ.update(MAX_REQUEST_BYTES="1000", MAX_JSON_BYTES="100")
    return environ


@pytest.fixture
def app(app):
    """Add a route that reads the whole body, as every body-reading route does."""

    @app.post("/echo")
    def echo():
        return {"bytes": len(request.get_data())}

    return app


def chunked(client, body, **kwargs):
    # The server marks a chunked body as terminated; the test client must be told.
    return client.post(
        "/echo",
        input_stream=body,
        headers={"Transfer-Encoding": "chunked"},
        environ_overrides={"wsgi.input_terminated": True},
        **kwargs,
    )


def test_a_body_of_exactly_the_limit_is_accepted(client):
    """MAX_REQUEST_BYTES is the largest body accepted, with a Content-Length or chunked."""
    assert client.post("/echo", data=b"x" * 1000).json == {"bytes": 1000}
    assert chunked(client, io.BytesIO(b"x" * 1000)).json == {"bytes": 1000}


@pytest.mark.parametrize("framing", ["content-length", "chunked"])
def test_a_byte_over_the_limit_is_a_json_413_naming_it(client, framing):
    """One byte over the limit is refused with a 413 that names the limit."""
    body = b"x" * 1001
    if framing == "content-length":
        response = client.post("/echo", data=body)
    else:
        response = chunked(client, io.BytesIO(body))
    assert response.status_code == 413
    assert response.json["error"]["message"] == "the body is over 1000 bytes, this request's limit"


def test_a_body_shorter_than_its_content_length_is_a_json_400(client, caplog):
    """A client that hangs up before the end of its body gets a 400; no traceback is logged."""
    response = client.post("/echo", data=b"x" * 10, environ_overrides={"CONTENT_LENGTH": "100"})
    assert response.status_code == 400
    assert "ended before its Content-Length" in response.json["error"]["message"]
    assert not any(record.exc_info for record in caplog.records)


def test_json_bodies_have_a_limit_of_their_own(client):
    """A JSON body over MAX_JSON_BYTES is a 413, though far under MAX_REQUEST_BYTES."""
    assert client.post("/echo", json="x" * 96).json == {"bytes": 98}
    response = client.post("/echo", json="x" * 99)
    assert response.status_code == 413
    assert response.json["error"]["message"] == "the body is over 100 bytes, this request's limit"
    assert client.post("/echo", data=b"x" * 900, content_type="text/plain").status_code == 200
