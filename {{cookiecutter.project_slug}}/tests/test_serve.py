import json
import logging
import sys

import pytest
{%- if cookiecutter.database == "postgres" %}
from conftest import UNREACHABLE_DATABASE
{%- endif %}

from {{ cookiecutter.package_name }} import serve
from {{ cookiecutter.package_name }}.capacity import Limits
from {{ cookiecutter.package_name }}.settings import load_settings

MiB = 1024 * 1024
DEFAULT_SIZE = Limits(cpus=0.25, memory_bytes=512 * MiB)


@pytest.fixture(autouse=True)
def restore_logging():
    """Drop the handlers that configuring gunicorn or refusing settings installs."""
    yield
    for name in ("", "gunicorn.error", "gunicorn.access"):
        logging.getLogger(name).handlers.clear()


@pytest.fixture
def build():
    """Return a function that configures gunicorn from an environment, as at start-up."""

    def build(environ=None, limits=DEFAULT_SIZE, **options):
        return serve.Server(serve.server_options(load_settings(environ or {}), limits, **options))

    return build


def test_binds_all_interfaces_on_port_with_the_json_error_worker(build):
    """gunicorn binds 0.0.0.0:$PORT and runs the gevent worker that answers refusals as JSON."""
    config = build({"PORT": "9123"}).cfg
    assert config.bind == ["0.0.0.0:9123"]
    assert config.worker_class_str == serve.WORKER_CLASS
    assert config.worker_class.__name__ == "JsonErrorWorker"


@pytest.mark.parametrize(
    ("cpus", "memory_mib", "workers"),
    [(0.25, 512, 1), (2.0, 4096, 2), (8.0, 512, 4)],
    ids=["default-size", "two-vcpu", "memory-caps-cpu"],
)
def test_worker_count_is_derived_from_the_limits(build, cpus, memory_mib, workers):
    """Without an override the worker count comes from the cgroup limits, connections default."""
    config = build(limits=Limits(cpus=cpus, memory_bytes=memory_mib * MiB)).cfg
    assert (config.workers, config.worker_connections) == (workers, serve.CONNECTIONS)


def test_overrides_win_over_the_derived_size(build):
    """WEB_CONCURRENCY and WEB_CONNECTIONS override the workers and connections per worker."""
    config = build({"WEB_CONCURRENCY": "5", "WEB_CONNECTIONS": "200"}).cfg
    assert (config.workers, config.worker_connections) == (5, 200)


def test_requests_in_flight_finish_before_ecs_kills_the_task(build):
    """Workers get less than ECS's stopTimeout (30 s) to finish before they are killed."""
    assert build().cfg.graceful_timeout < 30


def test_the_load_balancer_closes_idle_connections_first(build):
    """Idle keep-alive connections outlive the ALB's 60 s idle timeout."""
    assert build().cfg.keepalive > 60


def test_nothing_is_written_to_the_read_only_root(build):
    """The workers' heartbeat files go to the /tmp tmpfs, and no control socket is made."""
    config = build().cfg
    assert config.worker_tmp_dir == "/tmp"
    assert config.control_socket_disable is True


def test_access_log_is_off_and_gunicorn_logs_json(build, capsys):
    """gunicorn's own lines are JSON at LOG_LEVEL; the app logs the requests itself."""
    config = build({"LOG_LEVEL": "warning"}).cfg
    assert config.accesslog is None
    assert not config.logconfig_dict
    # What gunicorn's arbiter does before it starts the workers.
    logger = config.logger_class(config)
    assert not logger.access_log_enabled
    logger.info("Listening at: http://0.0.0.0:8000")
    logger.warning("Worker (pid:7) was sent SIGKILL! Perhaps out of memory?")
    (line,) = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert (line["logger"], line["level"]) == ("gunicorn.error", "WARNING")
    assert line["message"].startswith("Worker (pid:7)")
    assert line["time"]


@pytest.fixture
def never_serve(monkeypatch):
    """Fail the test if gunicorn starts."""
    monkeypatch.setattr(serve.Server, "run", lambda self: pytest.fail("gunicorn was started"))


def test_bad_settings_stop_start_up_before_gunicorn_starts(monkeypatch, capsys, never_serve):
    """A malformed variable is logged as JSON and exits 1 before a server is configured."""
    monkeypatch.setenv("PORT", "0")
    assert serve.main([]) == 1
    (line,) = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert line["level"] == "CRITICAL"
    assert "PORT=0 is out of range" in line["message"]


def test_no_token_stops_start_up_before_gunicorn_starts(monkeypatch, capsys, never_serve):
    """Protected routes without API_TOKENS: one JSON line naming it, exit 1, no worker."""
    for name in ("API_TOKENS", "API_AUTH"):
        monkeypatch.delenv(name, raising=False)
    assert serve.main([]) == 1
    (line,) = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert line["message"].startswith("API_TOKENS is empty")


def test_reload_serves_one_worker_watching_the_source(build):
    """--reload (the development stack) serves one worker, restarted when src/ changes."""
    config = build({"WEB_CONCURRENCY": "4"}, reload=True).cfg
    assert (config.workers, config.reload) == (1, True)
    watched = config.reload_extra_files
    assert str(serve.SOURCE / "{{ cookiecutter.package_name }}" / "serve.py") in watched
    assert build().cfg.reload is False


def test_the_reload_flag_reaches_the_server(monkeypatch):
    """`--reload` runs gunicorn with its reloader on and one worker."""
    served = []
    monkeypatch.setattr(serve.Server, "run", lambda self: served.append(self.cfg))
    monkeypatch.setenv("API_TOKENS", "a-development-token-0123456789abcdef")
{%- if cookiecutter.database == "postgres" %}
    # The server starts only with a database named (never reached here).
    for name, value in UNREACHABLE_DATABASE.items():
        monkeypatch.setenv(name, value)
{%- endif %}
    assert serve.main(["--reload"]) == 0
    assert (served[0].reload, served[0].workers) == (True, 1)


def test_a_reloaded_worker_imports_the_source_afresh():
    """Under --reload a worker forgets the modules the arbiter imported from src/, no others."""
    saved = dict(sys.modules)
    try:
        serve.forget_source_modules()
        assert "{{ cookiecutter.package_name }}.health" not in sys.modules
        assert "gunicorn" in sys.modules and "json" in sys.modules
    finally:
        sys.modules.update(saved)


def test_an_import_error_under_reload_is_served_and_watched(build, monkeypatch):
    """A save that breaks the import answers with the error until the fix, under --reload only."""

    def broken(name):
        raise NameError("name 'typo' is not defined")

    monkeypatch.setattr(serve, "import_app", broken)
    # The modules stay: the tests after this one use them.
    monkeypatch.setattr(serve, "forget_source_modules", lambda: None)
    status = []
    app = build(reload=True).load()
    body = b"".join(app({}, lambda code, headers: status.append(code)))
    assert status[0].startswith("500") and b"NameError" in body
    with pytest.raises(NameError):
        build().load()


def test_describe_prints_the_derived_model_without_serving(monkeypatch, capsys, never_serve):
    """--describe prints the server, workers and connections derived here, then exits 0."""
    monkeypatch.setattr(serve, "read_limits", lambda: DEFAULT_SIZE)
    monkeypatch.setenv("API_AUTH", "off")
    assert serve.main(["--describe"]) == 0
    described = json.loads(capsys.readouterr().out.splitlines()[-1])
    expected = {"server": "gunicorn gevent", "workers": 1, "connections": serve.CONNECTIONS}
    assert described == expected
