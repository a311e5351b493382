import errno
import io
import os
import time

import pytest

from {{ cookiecutter.package_name }} import create_app, files


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


def test_a_chunked_upload_is_refused_with_411_and_replaces_nothing(client, tmp_path):
    """Without a Content-Length a body cut short looks complete: a JSON 411, nothing stored."""
    client.put("/files/keep.txt", data=b"the good version")
    # The server marks a chunked body as terminated; the test client must be told.
    response = client.put(
        "/files/keep.txt",
        input_stream=io.BytesIO(b"x" * 100),
        headers={"Transfer-Encoding": "chunked"},
        environ_overrides={"wsgi.input_terminated": True},
    )
    assert response.status_code == 411
    assert "Content-Length" in response.json["error"]["message"]
    assert read(client, "keep.txt") == (200, b"the good version")
    assert sorted(os.listdir(tmp_path)) == ["keep.txt"]


def test_an_upload_of_exactly_the_limit_is_stored(app, client):
    """MAX_REQUEST_BYTES is the largest upload accepted."""
    app.config["MAX_CONTENT_LENGTH"] = 200_000
    body = b"x" * 200_000
    assert client.put("/files/max.bin", data=body).status_code == 201
    assert read(client, "max.bin") == (200, body)
    assert client.put("/files/over.bin", data=body + b"x").status_code == 413


def test_an_upload_cut_short_keeps_the_previous_version(client, tmp_path):
    """A body that ends before its Content-Length is a JSON 400 and replaces nothing."""
    client.put("/files/keep.txt", data=b"the good version")
    response = client.put(
        "/files/keep.txt", data=b"x" * 100, environ_overrides={"CONTENT_LENGTH": "3000000"}
    )
    assert response.status_code == 400
    assert response.json["error"]["status"] == 400
    assert read(client, "keep.txt") == (200, b"the good version")
    assert os.listdir(tmp_path) == ["keep.txt"]


def test_a_json_file_is_not_held_to_the_json_body_limit(environ, make_client):
    """MAX_JSON_BYTES bounds parsed bodies; an upload typed application/json is stored."""
    environ["MAX_JSON_BYTES"] = "10"
    client = make_client(create_app(environ))
    response = client.put(
        "/files/data.json", data=b"[" + b"1," * 50 + b"1]", content_type="application/json"
    )
    assert response.status_code == 201


def test_a_name_with_an_encoded_slash_is_refused_without_a_redirect(client):
    """/files/%2fetc is a JSON 404, not a redirect whose Location echoes the Host header."""
    response = client.get("/files/%2fetc", headers={"Host": "evil.example"})
    assert (response.status_code, response.json["error"]["status"]) == (404, 404)
    assert "Location" not in response.headers


@pytest.mark.parametrize(
    ("code", "status"),
    [(errno.ENOSPC, 507), (errno.EDQUOT, 507), (errno.EIO, 500)],
    ids=["volume-full", "quota-exceeded", "io-error"],
)
def test_failed_write_keeps_the_previous_version(client, tmp_path, monkeypatch, code, status):
    """A write that fails midway leaves the old file intact and no temporary file; a full
    volume is a JSON 507 that says how much room there is."""
    client.put("/files/keep.txt", data=b"old")

    def fail(*args):
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(os, "fsync", fail)
    response = client.put("/files/keep.txt", data=b"new")
    monkeypatch.undo()
    assert response.status_code == status
    if status == 507:
        assert "DATA_MIN_FREE_BYTES=" in response.json["error"]["message"]
    assert read(client, "keep.txt") == (200, b"old")
    assert sorted(os.listdir(tmp_path)) == ["keep.txt"]


def test_an_upload_that_would_leave_too_little_room_is_a_json_507(
    environ, tmp_path, monkeypatch, make_client
):
    """An upload that would leave less than DATA_MIN_FREE_BYTES free is refused before writing."""
    monkeypatch.setattr(files, "free_bytes", lambda folder: 1000)
    environ["DATA_MIN_FREE_BYTES"] = "500"
    client = make_client(create_app(environ))
    assert client.put("/files/fits.bin", data=b"x" * 500).status_code == 201
    response = client.put("/files/big.bin", data=b"x" * 501)
    assert response.status_code == 507
    assert response.json["error"]["message"] == (
        "no room for 501 bytes; 1000 bytes free, of which DATA_MIN_FREE_BYTES=500 stay free"
    )
    assert sorted(os.listdir(tmp_path)) == ["fits.bin"]


def test_readyz_is_unavailable_with_too_little_free_space(environ, tmp_path):
    """Readiness answers a JSON 503 when the volume has less than DATA_MIN_FREE_BYTES free."""
    environ["DATA_MIN_FREE_BYTES"] = str(2**60)
    response = create_app(environ).test_client().get("/readyz")
    assert response.status_code == 503
    assert response.json["check"] == "data_free_space"
    assert f"under DATA_MIN_FREE_BYTES={2**60}" in response.json["reason"]


def make_upload_file(folder, name, age_seconds):
    """Leave a temporary upload file last written age_seconds ago."""
    path = folder / name
    path.write_bytes(b"partial")
    then = time.time() - age_seconds
    os.utime(path, (then, then))
    return path


def test_dead_uploads_are_swept_at_start(environ, tmp_path):
    """Starting removes upload files unwritten for an hour, and keeps the live ones."""
    dead = make_upload_file(tmp_path, ".upload-dead", files.STALE_UPLOAD_SECONDS + 60)
    live = make_upload_file(tmp_path, ".upload-live", 5)
    stored = make_upload_file(tmp_path, "old-report.csv", files.STALE_UPLOAD_SECONDS + 60)
    create_app(environ)
    assert not dead.exists()
    assert live.exists()
    assert stored.exists()


def test_dead_uploads_are_swept_while_serving(client, tmp_path, monkeypatch):
    """Uploads sweep the dead ones too, once per SWEEP_INTERVAL_SECONDS."""
    monkeypatch.setattr(files, "SWEEP_INTERVAL_SECONDS", 0)
    dead = make_upload_file(tmp_path, ".upload-dead", files.STALE_UPLOAD_SECONDS + 60)
    assert client.put("/files/new.txt", data=b"x").status_code == 201
    assert not dead.exists()


def test_an_upload_swept_while_stalled_is_a_json_408(client, tmp_path):
    """An upload whose temporary file was swept while it stalled is refused, not a 500."""

    class Stalling(io.BytesIO):
        def readinto(self, buffer):
            for path in tmp_path.glob(".upload-*"):
                path.unlink()
            return super().readinto(buffer)

    response = client.put("/files/slow.bin", input_stream=Stalling(b"x" * 10))
    assert response.status_code == 408
    assert os.listdir(tmp_path) == []


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
