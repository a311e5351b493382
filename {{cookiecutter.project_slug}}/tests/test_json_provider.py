import dataclasses
import datetime
import decimal

import pytest
from flask import jsonify

URL = "/api/v1/greetings"


@pytest.fixture
def environ(environ):
    # Room for the large hostile bodies, to show the parser refuses them by itself.
    environ["MAX_JSON_BYTES"] = str(1024 * 1024)
    return environ


@pytest.mark.parametrize(
    "body",
    [
        b"[" * 100_000 + b"]" * 100_000,
        b'{"name": ' + b"[" * 2_000 + b"]" * 2_000 + b"}",
        b'{"name": ' + b"9" * 5_000 + b"}",
        b'{"name": 1e400}',
        b'{"name": NaN}',
        b'{"name": "\xff"}',
    ],
    ids=["100000-deep", "2000-deep", "5000-digit-integer", "infinite-float", "nan", "not-utf-8"],
)
def test_hostile_json_is_a_json_400_without_a_traceback(client, caplog, body):
    """Deep nesting, huge numbers and bad bytes are refused by the parser, never a 500."""
    response = client.post(URL, data=body, content_type="application/json")
    assert response.status_code == 400
    assert response.json == {"error": {"status": 400, "message": "body: Invalid JSON body."}}
    assert not any(record.exc_info for record in caplog.records)


def test_an_empty_json_body_is_missing_data(client):
    """An empty body is no body: the schema names the missing field, as before."""
    response = client.post(URL, data=b"", content_type="application/json")
    assert response.status_code == 422
    assert "'name'" in response.json["error"]["message"]


def test_answers_keep_their_key_order_and_flask_types(app):
    """Keys come out in insertion order; Decimal, dates and dataclasses are written."""

    @dataclasses.dataclass
    class Point:
        x: int

    with app.app_context():
        body = jsonify(
            b=1, a=decimal.Decimal("1.50"), when=datetime.date(2026, 1, 2), point=Point(3)
        )
    assert body.get_data() == b'{"b":1,"a":"1.50","when":"2026-01-02","point":{"x":3}}'
    assert body.mimetype == "application/json"
