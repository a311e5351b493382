import json
import runpy
from pathlib import Path

import pytest

CONF = Path(__file__).resolve().parent.parent / "gunicorn.conf.py"


def load_conf(monkeypatch, **environ):
    for name in ("PORT", "WEB_CONCURRENCY", "GUNICORN_THREADS", "LOG_LEVEL"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(CONF))


def test_binds_all_interfaces_on_port(monkeypatch):
    """gunicorn binds 0.0.0.0:$PORT, so the container port is reachable."""
    conf = load_conf(monkeypatch, PORT="9123")
    assert conf["bind"] == "0.0.0.0:9123"
    assert conf["wsgi_app"] == "{{ cookiecutter.package_name }}.wsgi:app"


def test_overrides_win_over_the_derived_size(monkeypatch):
    """WEB_CONCURRENCY and GUNICORN_THREADS override the size derived from the quotas."""
    conf = load_conf(monkeypatch, WEB_CONCURRENCY="5", GUNICORN_THREADS="2")
    assert (conf["workers"], conf["threads"]) == (5, 2)


def test_worker_count_is_derived_from_the_quotas(monkeypatch):
    """Without an override the worker count comes from the cgroup limits."""
    from {{ cookiecutter.package_name }} import capacity

    monkeypatch.setattr(capacity, "read_limits", lambda: capacity.Limits(0.25, 512 * 2**20))
    assert load_conf(monkeypatch)["workers"] == 1
    monkeypatch.setattr(capacity, "read_limits", lambda: capacity.Limits(2.0, 4096 * 2**20))
    assert load_conf(monkeypatch)["workers"] == 2
    monkeypatch.setattr(capacity, "read_limits", lambda: capacity.Limits(8.0, 512 * 2**20))
    assert load_conf(monkeypatch)["workers"] == 4  # the memory limit, not the CPU, decides


def test_graceful_timeout_is_shorter_than_the_ecs_stop_timeout(monkeypatch):
    """In-flight requests finish before ECS's SIGKILL (stopTimeout 30 s)."""
    conf = load_conf(monkeypatch)
    assert conf["graceful_timeout"] < 30


def test_nothing_is_written_to_the_root_file_system(monkeypatch):
    """Heartbeat files go to /tmp (a tmpfs) and the control socket is off."""
    conf = load_conf(monkeypatch)
    assert conf["worker_tmp_dir"] == "/tmp"
    assert conf["control_socket_disable"] is True
    assert conf["accesslog"] is None


def test_gunicorn_accepts_the_settings_and_logs_json(monkeypatch, capsys):
    """gunicorn takes every setting; its own log lines are JSON and it builds no access log."""
    from gunicorn.config import Config

    config = Config()
    for name, value in load_conf(monkeypatch).items():
        if name in config.settings:
            config.set(name, value)
    logger = config.logger_class(config)
    # An access log record built for every request, printed or not, costs throughput.
    assert not logger.access_log_enabled
    logger.error("starting")
    line = json.loads(capsys.readouterr().err.splitlines()[-1])
    assert line["logger"] == "gunicorn.error"
    assert (line["level"], line["message"]) == ("ERROR", "starting")


def test_bad_settings_stop_gunicorn_from_starting(monkeypatch):
    """A malformed variable stops gunicorn before it forks a worker."""
    from {{ cookiecutter.package_name }}.settings import SettingsError

    with pytest.raises(SettingsError, match="PORT"):
        load_conf(monkeypatch, PORT="0")
