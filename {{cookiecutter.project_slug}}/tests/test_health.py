def test_healthz_answers_ok(client):
    """Liveness answers 200 with a JSON status."""
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok"}


def test_readyz_answers_ready(client):
    """Readiness answers 200 when the service can do its work."""
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json == {"status": "ready"}
{%- if cookiecutter.use_volume %}


def test_readyz_is_unavailable_without_a_writable_data_folder(environ, tmp_path):
    """Readiness answers a JSON 503 with a reason when the volume cannot be written."""
    from {{ cookiecutter.package_name }} import create_app

    environ["DATA_DIR"] = str(tmp_path / "missing")
    response = create_app(environ).test_client().get("/readyz")
    assert response.status_code == 503
    assert response.json["status"] == "unavailable"
    assert "missing" in response.json["reason"]
{%- endif %}


def test_health_routes_refuse_other_methods(client):
    """Probes are read-only: POST gets a JSON 405 that names the allowed methods."""
    response = client.post("/healthz")
    assert response.status_code == 405
    assert response.json["error"]["status"] == 405
    assert "GET" in response.headers["Allow"]
