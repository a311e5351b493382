import io
import os

import pytest

from {{ cookiecutter.package_name }} import create_app


def read(client, name):
    """Return the status and bytes of GET /files/<name>, closing the file it streams."""
    with client.get(f"/files/{name}") as response:
        return response.status_code, response.data


def test_put_then_get_returns_the_same_bytes(client):
    """A stored file reads back byte for byte."""
    created = client.put("/files/report.csv", data=b"a,b\n1,2\n")
    assert created.status_code == 201
    assert created.json == {"name": "report.csv", "bytes": 8}
    assert read(client, "report.csv") == (200, b"a,b\n1,2\n")


def test_put_replaces_an_existing_file(client):
    """A second PUT replaces the file and answers 200."""
    client.put("/files/note.txt", data=b"first")
    replaced = client.put("/files/note.txt", data=b"second")
    assert replaced.status_code == 200
    assert read(client, "note.txt") == (200, b"second")


def test_list_shows_stored_files_only(client, tmp_path):
    """The listing names stored files, not uploads in progress."""
    client.put("/files/b.txt", data=b"b")
    client.put("/files/a.txt", data=b"a")
    (tmp_path / ".upload-half").write_bytes(b"partial")
    assert client.get("/files").json == {"files": ["a.txt", "b.txt"]}


def test_delete_removes_the_file(client):
    """DELETE answers 204 and the file is gone."""
    client.put("/files/gone.txt", data=b"x")
    assert client.delete("/files/gone.txt").status_code == 204
    assert read(client, "gone.txt")[0] == 404


@pytest.mark.parametrize("method", ["get", "delete"])
def test_missing_file_returns_json_404(client, method):
    """A file that does not exist is a JSON 404."""
    response = getattr(client, method)("/files/absent.txt")
    assert response.status_code == 404
    assert response.json["error"]["status"] == 404


@pytest.mark.parametrize(
    "name",
    ["../etc/passwd", "..", ".hidden", "a/b", "%2e%2e%2fsecret", "x" * 256, "bad name", "-dash"],
)
def test_bad_names_are_refused_with_400(client, tmp_path, name):
    """Traversal, folders, hidden and over-long names are refused and nothing is written."""
    response = client.put(f"/files/{name}", data=b"x")
    assert response.status_code == 400
    assert "invalid file name" in response.json["error"]["message"]
    assert os.listdir(tmp_path) == []
    assert not (tmp_path.parent / "passwd").exists()


def test_oversized_upload_returns_413_and_leaves_nothing(app, client, tmp_path):
    """An upload over the size limit is a JSON 413 and leaves no file behind."""
    app.config["MAX_CONTENT_LENGTH"] = 16
    response = client.put("/files/big.bin", data=b"x" * 17)
    assert response.status_code == 413
    assert response.json["error"]["status"] == 413
    assert os.listdir(tmp_path) == []


def test_oversized_streamed_upload_leaves_nothing(app, client, tmp_path):
    """A chunked upload that crosses the limit midway leaves no partial file."""
    app.config["MAX_CONTENT_LENGTH"] = 100_000

    # The server marks a chunked body as terminated; the test client must be told.
    response = client.put(
        "/files/stream.bin",
        input_stream=io.BytesIO(b"x" * 160_000),
        headers={"Transfer-Encoding": "chunked"},
        environ_overrides={"wsgi.input_terminated": True},
    )
    assert response.status_code == 413
    assert os.listdir(tmp_path) == []


def test_failed_write_keeps_the_previous_version(client, tmp_path, monkeypatch):
    """A write that fails midway leaves the old file intact and no temporary file."""
    client.put("/files/keep.txt", data=b"old")

    def fail(*args):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", fail)
    response = client.put("/files/keep.txt", data=b"new")
    monkeypatch.undo()
    assert response.status_code == 500
    assert read(client, "keep.txt") == (200, b"old")
    assert sorted(os.listdir(tmp_path)) == ["keep.txt"]


def test_readyz_is_unavailable_without_a_writable_data_folder(environ, tmp_path):
    """Readiness answers a JSON 503 naming the data folder when it cannot be written."""
    environ["DATA_DIR"] = str(tmp_path / "missing")
    response = create_app(environ).test_client().get("/readyz")
    assert response.status_code == 503
    assert response.json["status"] == "unavailable"
    assert response.json["check"] == "data_dir"
    assert "missing" in response.json["reason"]


def test_without_data_dir_there_is_no_file_store(environ):
    """An unset DATA_DIR means no /files route and no data folder check."""
    del environ["DATA_DIR"]
    client = create_app(environ).test_client()
    assert client.get("/files").status_code == 404
    assert client.get("/readyz").json == {"status": "ready"}
