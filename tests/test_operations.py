"""`make status` and `make logs` of a baked repo against moto_server.

moto never runs a task or a health check (see test_deploy.py for the rest of what it
cannot show). Started with MOTO_ECS_SERVICE_RUNNING, it reports each service with that
many running tasks and its rollout completed, and a target registered by hand reads as
healthy: so both of make status's answers are shown, from moto's data, not from ECS's.
"""

import contextlib
import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
from test_deploy import (
    IMAGE,
    SCENARIOS,
    aws,
    deploy_without_ci,
    environment_for,
    make,
    moto_server,
    outputs,
    own_lines,
    parameters,
)


@pytest.fixture(scope="module")
def steady_env(tmp_path_factory):
    """An emulator whose ECS services report one running task; its AWS CLI environment."""
    log = tmp_path_factory.mktemp("moto") / "moto_server.log"
    with moto_server(log, MOTO_ECS_SERVICE_RUNNING="1") as url:
        yield environment_for(url, tmp_path_factory.mktemp("aws-home"))


@pytest.fixture(scope="module")
def deployed(baked, steady_env):
    """A staging service deployed on the emulator: (project, service name)."""
    project, name = baked(SCENARIOS[0]), "operated"
    deploy_without_ci(project, steady_env, name)
    return project, name


def target_group_of(env, name) -> str:
    """The service stack's target group, as make status finds it."""
    (arn,) = [
        resource["PhysicalResourceId"]
        for resource in aws(
            env, "cloudformation", "list-stack-resources", "--stack-name", f"{name}-staging-service"
        )["StackResourceSummaries"]
        if resource["LogicalResourceId"] == "TargetGroup"
    ]
    return arn


@pytest.mark.deploy
def test_make_status_exits_zero_only_when_steady_and_every_target_healthy(deployed, steady_env):
    """URL, counts, deployment and image, targets; non-zero until a healthy target is there."""
    project, name = deployed
    _, service = outputs(steady_env, f"{name}-staging-service")
    unhealthy = make(project, steady_env, "status", expect=None, SERVICE_NAME=name)
    assert unhealthy.returncode != 0
    lines = own_lines(unhealthy.stdout)
    assert (
        lines[0]
        == "==> environment staging (the default; ENV=NAME for another: production staging)"
    )
    assert f"==> service {name}-staging of cluster {name}-staging: {service['ServiceUrl']}" in lines
    assert "    tasks: 1 running, 0 pending, 1 desired" in lines
    revision = service["TaskDefinitionArn"].rsplit("/", 1)[1]
    assert f"    PRIMARY {revision}: 1 of 1 running, rollout COMPLETED" in lines
    assert f"      image {IMAGE}  (not in ECR)" in lines
    assert "    previous release: none (no earlier ACTIVE revision with another image)" in lines
    assert "    none registered" in lines
    (error,) = own_lines(unhealthy.stderr)
    assert error == (
        "ERROR: staging is not steady and healthy: 0 of 1 targets healthy. See the events"
        " above, and the logs: make logs ENV=staging"
    )

    target_group = target_group_of(steady_env, name)
    aws(steady_env, "elbv2", "register-targets", "--target-group-arn", target_group,
        "--targets", "Id=10.0.0.7,Port=8000")  # fmt: skip
    healthy = make(project, steady_env, "status", SERVICE_NAME=name)
    assert "    10.0.0.7:8000 healthy" in healthy.stdout
    assert own_lines(healthy.stdout)[-1] == "==> staging is steady and healthy"


@pytest.mark.deploy
def test_make_status_of_an_environment_not_deployed_names_the_deploy(deployed, steady_env):
    project, name = deployed
    result = make(project, steady_env, "status", expect=None, ENV="production", SERVICE_NAME=name)
    assert result.returncode != 0
    (error,) = own_lines(result.stderr)
    assert error == (
        f"ERROR: production is not deployed: there is no stack {name}-production-service in"
        " us-east-1. Deploy it: make deploy ENV=production"
    )


def put_lines(env, group, stream, *lines, age_seconds=0):
    """Write JSON lines to the log group as the awslogs driver does, age_seconds ago."""
    now_ms = int((time.time() - age_seconds) * 1000)
    events = [{"timestamp": now_ms + index, "message": line} for index, line in enumerate(lines)]
    aws(env, "logs", "put-log-events", "--log-group-name", group, "--log-stream-name", stream,
        "--log-events", json.dumps(events))  # fmt: skip


def log_line(at, message, **extra) -> str:
    """A line as the app logs it: one JSON object."""
    record = {"time": at, "level": "INFO", "logger": "app", "message": message}
    return json.dumps({**record, **extra})


REQUEST_A = log_line("t1", "request", request_id="req-aaa")
REQUEST_B = log_line("t2", "request", request_id="req-bbb")
OLD = log_line("t0", "started")


@pytest.fixture(scope="module")
def logged(deployed, steady_env):
    """The service's log group with two lines of just now and one of 20 minutes ago."""
    project, name = deployed
    group = f"/ecs/{name}/staging"
    aws(steady_env, "logs", "create-log-stream", "--log-group-name", group,
        "--log-stream-name", "app/app/task-1")  # fmt: skip
    put_lines(steady_env, group, "app/app/task-1", OLD, age_seconds=1200)
    put_lines(steady_env, group, "app/app/task-1", REQUEST_A, REQUEST_B, age_seconds=5)
    return project, name, group


@pytest.mark.deploy
def test_make_logs_prints_the_lines_as_logged_since_and_filtered(logged, steady_env):
    project, name, group = logged
    recent = make(project, steady_env, "logs", SERVICE_NAME=name)
    lines = own_lines(recent.stdout)
    assert lines[-3] == f"==> log group {group}, the last 10m"
    assert lines[-2:] == [REQUEST_A, REQUEST_B]
    hour = own_lines(make(project, steady_env, "logs", SINCE="1h", SERVICE_NAME=name).stdout)
    assert hour[-3:] == [OLD, REQUEST_A, REQUEST_B]
    one = make(project, steady_env, "logs", FILTER='"req-bbb"', SERVICE_NAME=name)
    assert own_lines(one.stdout)[-2:] == [
        f'==> log group {group}, the last 10m, matching "req-bbb"',
        REQUEST_B,
    ]
    pretty = make(project, steady_env, "logs", PRETTY="1", SERVICE_NAME=name)
    assert own_lines(pretty.stdout)[-1] == "t2 INFO app request request_id=req-bbb"


def start_make(project, env, *arguments) -> subprocess.Popen:
    """Start make in a session of its own, so that stop_make ends the script it runs too."""
    return subprocess.Popen(
        ["make", *arguments],
        cwd=project,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def stop_make(process: subprocess.Popen) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)


@pytest.mark.deploy
def test_make_logs_follows_new_lines(logged, steady_env):
    """FOLLOW=1 prints a line written after it started, once, until stopped."""
    project, name, group = logged
    follower = start_make(
        project, steady_env, "logs", "FOLLOW=1", "SINCE=1m", f"SERVICE_NAME={name}"
    )
    try:
        time.sleep(3)
        later = log_line("t3", "later")
        put_lines(steady_env, group, "app/app/task-1", later)
        time.sleep(5)
    finally:
        stop_make(follower)
    stdout, _ = follower.communicate(timeout=10)
    assert own_lines(stdout).count(later) == 1, stdout
    assert REQUEST_B in stdout


@pytest.mark.deploy
@pytest.mark.parametrize(
    ("variables", "reason"),
    [
        ({"SINCE": "ten"}, "SINCE=ten is not a duration"),
        ({"ENV": "production"}, "production has no log group /ecs/operated/production"),
    ],
)
def test_make_logs_refuses_with_one_line(deployed, steady_env, variables, reason):
    project, name = deployed
    result = make(project, steady_env, "logs", expect=None, SERVICE_NAME=name, **variables)
    assert result.returncode != 0
    (error,) = own_lines(result.stderr)
    assert reason in error


def without_session_manager_plugin(env) -> dict:
    """env with every PATH folder that holds the Session Manager plugin left out."""
    folders = env["PATH"].split(os.pathsep)
    kept = [f for f in folders if not (Path(f) / "session-manager-plugin").exists()]
    return {**env, "PATH": os.pathsep.join(kept)}


@pytest.mark.deploy
def test_make_exec_without_the_plugin_says_how_to_install_it(deployed, steady_env):
    project, name = deployed
    env = without_session_manager_plugin(steady_env)
    result = make(project, env, "exec", expect=None, SERVICE_NAME=name)
    assert result.returncode != 0
    error, how = own_lines(result.stderr)
    assert (
        error
        == "ERROR: make exec needs the AWS CLI's Session Manager plugin, which is not installed."
    )
    assert "session-manager-working-with-install-plugin.html" in how
    assert "make exec ENV=staging again" in how


def register_revision(env, family, image) -> str:
    container = json.dumps([{"name": "app", "image": image, "memory": 512}])
    registered = aws(env, "ecs", "register-task-definition", "--family", family,
                     "--container-definitions", container)  # fmt: skip
    return registered["taskDefinition"]["taskDefinitionArn"]


@pytest.mark.deploy
def test_make_rollback_deploys_the_previous_image_through_the_stack(baked, steady_env):
    """The newest earlier ACTIVE revision with another image, deployed by the stack; then status."""
    project, name = baked(SCENARIOS[0]), "rolled"
    # The release before: moto updates a stack's task definition in place, so the
    # earlier revision a real deploy would have kept is registered here first.
    earlier = register_revision(steady_env, f"{name}-staging", f"{IMAGE}-earlier")
    deploy_without_ci(project, steady_env, name)
    target_group = target_group_of(steady_env, name)
    aws(steady_env, "elbv2", "register-targets", "--target-group-arn", target_group,
        "--targets", "Id=10.0.0.8,Port=8000")  # fmt: skip

    status = own_lines(make(project, steady_env, "status", SERVICE_NAME=name).stdout)
    revision = earlier.rsplit("/", 1)[1]
    assert f"    previous release (make rollback goes back to it): {revision}" in status
    assert f"      image {IMAGE}-earlier  (not in ECR)" in status

    result = make(project, steady_env, "rollback", SERVICE_NAME=name)
    lines = own_lines(result.stdout)
    assert f"==> rolling back to {revision}: {IMAGE}-earlier" in lines
    assert parameters(steady_env, f"{name}-staging-service")["ImageUri"] == f"{IMAGE}-earlier"
    assert lines[-1] == "==> staging is steady and healthy"


@pytest.mark.deploy
def test_make_rollback_without_an_earlier_release_changes_nothing(deployed, steady_env):
    project, name = deployed
    before = parameters(steady_env, f"{name}-staging-service")
    result = make(project, steady_env, "rollback", expect=None, SERVICE_NAME=name)
    assert result.returncode != 0
    assert "no earlier ACTIVE revision with another image" in result.stderr
    assert "make deploy ENV=staging IMAGE_URI=" in result.stderr
    assert parameters(steady_env, f"{name}-staging-service") == before


@pytest.mark.deploy
def test_make_run_task_runs_the_override_prints_its_logs_and_exits_with_its_code(
    deployed, steady_env
):
    """The service's task definition and network, CMD through sh -c; moto stops it on request."""
    project, name = deployed
    cluster = f"{name}-staging"
    runner = start_make(
        project,
        steady_env,
        "run-task",
        "CMD=python -m migrate --to head",
        "TIMEOUT=60",
        f"SERVICE_NAME={name}",
    )
    try:
        deadline = time.monotonic() + 30
        while not (
            tasks := aws(
                steady_env,
                "ecs",
                "list-tasks",
                "--cluster",
                cluster,
                "--started-by",
                "make-run-task",
            )["taskArns"]
        ):
            assert time.monotonic() < deadline, "make run-task started no task"
            time.sleep(0.5)
        (task,) = aws(steady_env, "ecs", "describe-tasks", "--cluster", cluster, "--tasks", *tasks)[
            "tasks"
        ]
        (override,) = task["overrides"]["containerOverrides"]
        assert override == {"name": "app", "command": ["sh", "-c", "python -m migrate --to head"]}
        _, service = outputs(steady_env, f"{name}-staging-service")
        assert task["taskDefinitionArn"] == service["TaskDefinitionArn"]
        # What the task would log, then its end (moto never runs it).
        group, stream = f"/ecs/{name}/staging", f"app/app/{task['taskArn'].rsplit('/', 1)[1]}"
        aws(steady_env, "logs", "create-log-stream", "--log-group-name", group,
            "--log-stream-name", stream)  # fmt: skip
        put_lines(steady_env, group, stream, log_line("t9", "migrated to head"))
        time.sleep(4)
        aws(steady_env, "ecs", "stop-task", "--cluster", cluster, "--task", task["taskArn"])
        stdout, stderr = runner.communicate(timeout=60)
    finally:
        stop_make(runner)
    assert runner.returncode == 0, stderr
    lines = own_lines(stdout)
    assert log_line("t9", "migrated to head") in lines
    assert lines[-1] == f"==> task {task['taskArn'].rsplit('/', 1)[1]} exited with 0"


@pytest.fixture
def with_plugin(steady_env, tmp_path):
    """steady_env with a stand-in Session Manager plugin on PATH, so make exec goes on."""
    folder = tmp_path / "plugin"
    folder.mkdir()
    plugin = folder / "session-manager-plugin"
    plugin.write_text("#!/bin/sh\nexit 0\n")
    plugin.chmod(0o755)
    return {**steady_env, "PATH": f"{folder}{os.pathsep}{steady_env['PATH']}"}


@pytest.mark.deploy
def test_make_exec_on_a_service_without_ecs_exec_names_the_setting(deployed, with_plugin):
    """The answer of make exec where the service has no ECS Exec, and the setting to change.

    moto keeps no EnableExecuteCommand, so every service reads as without ECS Exec here,
    staging's too: this shows the script's answer; which environments turn exec on, and
    what that adds to the stack, tests/test_iam.py shows.
    """
    project, name = deployed
    (service,) = aws(with_plugin, "ecs", "describe-services", "--cluster", f"{name}-staging",
                     "--services", f"{name}-staging")["services"]  # fmt: skip
    assert not service.get("enableExecuteCommand")
    result = make(project, with_plugin, "exec", expect=None, SERVICE_NAME=name)
    assert result.returncode != 0
    error, how = own_lines(result.stderr)
    assert error == "ERROR: ECS Exec is off for staging."
    assert "ExecEnabled=true in infra/environments/staging.env" in how
