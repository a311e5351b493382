import pytest

from {{ cookiecutter.package_name }} import health


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


def test_readyz_names_the_first_registered_check_that_fails(app, client):
    """Readiness runs the checks in order and answers a JSON 503 naming the one that failed."""
    ran = []

    def check(name, reason):
        def run():
            ran.append(name)
            return reason

        return run

    health.register_check(app, "cache", check("cache", None))
    health.register_check(app, "queue", check("queue", "queue is unreachable"))
    health.register_check(app, "last", check("last", "never reached"))
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json == {
        "status": "unavailable",
        "check": "queue",
        "reason": "queue is unreachable",
    }
    assert ran == ["cache", "queue"]


def test_a_check_name_is_registered_once(app):
    """Two features cannot register checks under the same name."""
    health.register_check(app, "cache", lambda: None)
    with pytest.raises(ValueError, match="'cache' is already registered"):
        health.register_check(app, "cache", lambda: None)


def test_health_routes_refuse_other_methods(client):
    """Probes are read-only: POST gets a JSON 405 that names the allowed methods."""
    response = client.post("/healthz")
    assert response.status_code == 405
    assert response.json["error"]["status"] == 405
    assert "GET" in response.headers["Allow"]
