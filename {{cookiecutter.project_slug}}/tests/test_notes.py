"""/api/v1/notes: kept in PostgreSQL (db_client's database), and a JSON 503 without it."""

import pytest
from conftest import UNREACHABLE_DATABASE
from sqlalchemy import text

from {{ cookiecutter.package_name }} import create_app, db

URL = "/api/v1/notes"


@pytest.fixture
def down_client(environ, make_client):
    """A client of the app whose database is down."""
    return make_client(create_app({**environ, **UNREACHABLE_DATABASE}))


def create(client, words):
    response = client.post(URL, json={"text": words})
    assert response.status_code == 201, response.json
    return response.json


def test_a_created_note_can_be_read_back(db_client):
    """POST answers 201 with the stored note; GET by its id answers the same note."""
    created = create(db_client, "Call Ada")
    assert set(created) == {"id", "text", "created_at"}
    assert created["text"] == "Call Ada"
    response = db_client.get(f"{URL}/{created['id']}")
    assert response.status_code == 200
    assert response.json == created


def test_the_list_is_paginated_oldest_first(db_client):
    """page and page_size pick a page; the body says which, and how many notes there are."""
    ids = [create(db_client, f"note {n}")["id"] for n in range(5)]
    response = db_client.get(URL, query_string={"page": 2, "page_size": 2})
    assert response.status_code == 200
    assert [note["id"] for note in response.json["notes"]] == ids[2:4]
    assert {key: response.json[key] for key in ("page", "page_size", "total")} == {
        "page": 2,
        "page_size": 2,
        "total": 5,
    }


def test_a_page_past_the_end_is_empty(db_client):
    create(db_client, "only one")
    response = db_client.get(URL, query_string={"page": 2**31 - 1, "page_size": 100})
    assert (response.status_code, response.json["notes"], response.json["total"]) == (200, [], 1)


def test_a_page_size_over_the_limit_is_a_422(db_client):
    response = db_client.get(URL, query_string={"page_size": 101})
    assert response.status_code == 422
    assert "page_size" in response.json["error"]["message"]


def test_a_deleted_note_is_gone(db_client):
    """DELETE answers 204; the note is then a 404, and so is a second DELETE."""
    note = create(db_client, "temporary")
    assert db_client.delete(f"{URL}/{note['id']}").status_code == 204
    assert db_client.get(f"{URL}/{note['id']}").status_code == 404
    assert db_client.delete(f"{URL}/{note['id']}").status_code == 404
    assert db_client.get(URL).json["notes"] == []


@pytest.mark.parametrize("note_id", ["7", "2147483647"])
def test_a_missing_note_is_a_json_404(db_client, note_id):
    response = db_client.get(f"{URL}/{note_id}")
    assert response.status_code == 404
    assert response.json == {"error": {"status": 404, "message": f"no note has id {note_id}"}}


@pytest.mark.parametrize("note_id", ["0", "2147483648", "-1", "x"])
def test_an_id_outside_the_column_is_a_404_without_a_query(down_client, note_id):
    """Ids the integer column cannot hold never reach the database (no DataError, no 500):
    with the database down, a query would be a 503."""
    assert down_client.get(f"{URL}/{note_id}").status_code == 404


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({}, "body field 'text': Missing data for required field."),
        ({"text": ""}, "body field 'text': Length must be between 1 and 1000."),
        ({"text": "x" * 1001}, "body field 'text': Length must be between 1 and 1000."),
        ({"text": "a", "id": 3}, "body field 'id': Unknown field."),
        ({"text": "a\x00b"}, "body field 'text': NUL characters cannot be stored."),
    ],
)
def test_invalid_notes_are_a_json_422_naming_the_field(db_client, body, message):
    response = db_client.post(URL, json=body)
    assert response.status_code == 422
    assert response.json["error"]["message"] == message


def test_notes_need_a_token(db_app):
    response = db_app.test_client().post(URL, json={"text": "anonymous"})
    assert response.status_code == 401


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("post", URL, {"text": "lost?"}),
        ("get", URL, None),
        ("get", f"{URL}/1", None),
        ("delete", f"{URL}/1", None),
    ],
)
def test_without_the_database_every_route_is_a_json_503(down_client, method, path, body):
    """Never a 500 with a stack trace: a 503 in the shared shape, with Retry-After."""
    response = getattr(down_client, method)(path, json=body)
    assert response.status_code == 503
    assert response.json == {
        "error": {"status": 503, "message": "the database is unavailable; try again shortly"}
    }
    assert int(response.headers["Retry-After"]) > 0


def test_without_the_migrations_the_routes_are_a_json_503(db_app, make_client):
    """A database without the notes table (make migrate not run) is a 503 naming why."""
    with db.engine_of(db_app).begin() as connection:
        connection.execute(text("ALTER TABLE notes RENAME TO notes_away"))
    try:
        response = make_client(db_app).get(URL)
    finally:
        with db.engine_of(db_app).begin() as connection:
            connection.execute(text("ALTER TABLE notes_away RENAME TO notes"))
    assert response.status_code == 503
    assert response.json["error"]["message"] == "the database schema is not migrated yet"
