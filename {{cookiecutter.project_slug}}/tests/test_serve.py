import json
import logging
import multiprocessing

import pytest
from granian.constants import HTTPModes, Interfaces
from granian.log import configure_logging

from {{ cookiecutter.package_name }} import serve
from {{ cookiecutter.package_name }}.capacity import Limits
from {{ cookiecutter.package_name }}.settings import load_settings

MiB = 1024 * 1024
DEFAULT_SIZE = Limits(cpus=0.25, memory_bytes=512 * MiB)


@pytest.fixture(autouse=True)
def restore_logging():
    """Drop the handlers that building a server or refusing settings installs."""
    yield
    for name in ("", "_granian", "granian.access"):
        logging.getLogger(name).handlers.clear()


@pytest.fixture
def build():
    """Return a function that builds the server from an environment, as at start-up."""

    def build(environ=None, limits=DEFAULT_SIZE, **options):
        return serve.build_server(load_settings(environ or {}), limits, **options)

    return build


def test_binds_all_interfaces_on_port_and_serves_wsgi(build):
    """The server binds 0.0.0.0:$PORT and serves the app's WSGI entry point over HTTP/1."""
    server = build({"PORT": "9123"})
    assert f"{server.bind_addr}:{server.bind_port}" == "0.0.0.0:9123"
    assert server.interface == Interfaces.WSGI
    assert server.target == "{{ cookiecutter.package_name }}.wsgi:app"
    assert server.http == HTTPModes.http1


@pytest.mark.parametrize(
    ("cpus", "memory_mib", "workers"),
    [(0.25, 512, 1), (2.0, 4096, 2), (8.0, 512, 4)],
    ids=["default-size", "two-vcpu", "memory-caps-cpu"],
)
def test_worker_count_is_derived_from_the_limits(build, cpus, memory_mib, workers):
    """Without an override the worker count comes from the cgroup limits, threads default."""
    server = build(limits=Limits(cpus=cpus, memory_bytes=memory_mib * MiB))
    assert (server.workers, server.blocking_threads) == (workers, serve.THREADS)


def test_overrides_win_over_the_derived_size(build):
    """WEB_CONCURRENCY and WEB_THREADS override the workers and threads per worker."""
    server = build({"WEB_CONCURRENCY": "5", "WEB_THREADS": "2"})
    assert (server.workers, server.blocking_threads) == (5, 2)


@pytest.mark.parametrize("threads", [None, "512"], ids=["default", "most-threads"])
def test_a_worker_takes_more_connections_than_it_has_threads(build, threads):
    """Idle keep-alive connections cannot keep a health check out while threads are free."""
    server = build({"WEB_THREADS": threads} if threads else {})
    assert server.backpressure > server.blocking_threads


def test_requests_in_flight_finish_before_ecs_kills_the_task(build):
    """Workers get less than ECS's stopTimeout (30 s) to finish before they are killed."""
    assert build().workers_kill_timeout < 30


def test_the_load_balancer_closes_idle_connections_first(build):
    """Idle keep-alive connections outlive the ALB's 60 s idle timeout."""
    assert build().http1_settings.header_read_timeout > 60_000


def test_access_log_is_off_and_granian_logs_json(build, capsys):
    """granian's own lines are JSON at LOG_LEVEL; the app logs the requests itself."""
    server = build({"LOG_LEVEL": "warning"})
    assert server.log_access is False
    # What each worker does before it serves.
    configure_logging(server.log_level, server.log_config, server.log_enabled)
    granian = logging.getLogger("_granian")
    granian.info("Listening at: http://0.0.0.0:8000")
    granian.warning("Killing worker-1 after it refused to gracefully stop")
    (line,) = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert (line["logger"], line["level"]) == ("_granian", "WARNING")
    assert line["message"].startswith("Killing worker-1")
    assert line["time"]


def test_bad_settings_stop_start_up_before_granian_starts(monkeypatch, capsys):
    """A malformed variable is logged as JSON and exits 1 before a server is built."""

    def refuse(*args, **kwargs):
        pytest.fail("granian was started with bad settings")

    monkeypatch.setenv("PORT", "0")
    monkeypatch.setattr(serve, "Granian", refuse)
    assert serve.main([]) == 1
    (line,) = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert line["level"] == "CRITICAL"
    assert "PORT=0 is out of range" in line["message"]


def test_reload_serves_one_worker_watching_the_source(build):
    """--reload (the development stack) serves one worker, restarted when src/ changes."""
    server = build({"WEB_CONCURRENCY": "4"}, reload=True)
    assert server.workers == 1
    assert server.reload_on_changes is True
    assert server.reload_paths == [serve.SOURCE]
    assert (serve.SOURCE / "{{ cookiecutter.package_name }}" / "serve.py").is_file()
    assert build().reload_on_changes is False


def test_the_reload_flag_reaches_the_server(monkeypatch):
    """`--reload` serves with the reloader on, each worker importing the edited source afresh."""
    served, methods = [], []

    class Recorder:
        def __init__(self, target, **options):
            self.options = options

        def serve(self):
            served.append(self.options)

    def set_start_method(method, force=False):
        methods.append(method)

    monkeypatch.setattr(serve, "Granian", Recorder)
    monkeypatch.setattr(multiprocessing, "set_start_method", set_start_method)
    monkeypatch.setenv("API_TOKENS", "a-development-token-0123456789abcdef")
    assert serve.main(["--reload"]) == 0
    assert (served[0]["reload"], served[0]["workers"]) == (True, 1)
    assert methods == ["spawn"]


def test_a_worker_that_dies_is_replaced(build):
    """An OOM-killed worker is respawned, as gunicorn's arbiter replaced one."""
    assert build().respawn_failed_workers is True


def test_describe_prints_the_derived_model_without_serving(monkeypatch, capsys):
    """--describe prints the server, workers and threads derived here, then exits 0."""
    monkeypatch.setattr(serve, "read_limits", lambda: DEFAULT_SIZE)
    monkeypatch.setattr(serve.Granian, "serve", lambda self: pytest.fail("it served"))
    monkeypatch.setenv("API_AUTH", "off")
    assert serve.main(["--describe"]) == 0
    described = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert described == {"server": "granian", "workers": 1, "threads": serve.THREADS}


def test_no_token_stops_start_up_before_granian_starts(monkeypatch, capsys):
    """Protected routes without API_TOKENS: one JSON line naming it, exit 1, no worker."""
    monkeypatch.setattr(serve, "Granian", lambda *a, **k: pytest.fail("granian was started"))
    for name in ("API_TOKENS", "API_AUTH"):
        monkeypatch.delenv(name, raising=False)
    assert serve.main([]) == 1
    (line,) = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert line["message"].startswith("API_TOKENS is empty")
