import re

import pytest


def test_request_id_is_generated_when_absent(client):
    """Every response carries an X-Request-ID, made up when the caller sent none."""
    response = client.get("/healthz")
    assert re.fullmatch(r"[0-9a-f]{32}", response.headers["X-Request-ID"])


def test_well_formed_request_id_is_kept(client):
    """A well-formed incoming ID is returned unchanged, so callers can trace it."""
    response = client.get("/readyz", headers={"X-Request-ID": "abc-123.def:ghi_4"})
    assert response.headers["X-Request-ID"] == "abc-123.def:ghi_4"


@pytest.mark.parametrize(
    ("incoming", "why"),
    [
        ("x" * 129, "too long"),
        ("has space", "unsafe character"),
        ('quote"and\\slash', "unsafe characters"),
        ("-leading-dash", "must start with a letter or digit"),
        ("", "empty"),
    ],
)
def test_malformed_request_id_is_replaced(client, incoming, why):
    """A malformed incoming ID is replaced, never echoed or logged."""
    response = client.get("/healthz", headers={"X-Request-ID": incoming})
    assert response.headers["X-Request-ID"] != incoming, why
    assert re.fullmatch(r"[0-9a-f]{32}", response.headers["X-Request-ID"])


def test_errors_carry_the_request_id(client):
    """Error responses carry the request ID too."""
    response = client.get("/nowhere", headers={"X-Request-ID": "trace-me"})
    assert response.status_code == 404
    assert response.headers["X-Request-ID"] == "trace-me"
