"""What the pipeline tests share: a committed bake, a failing test, a timed run, the verdicts."""

import re
import shlex
import subprocess
from pathlib import Path

import pytest
from conftest import docker_engine_available, run, skip_or_fail

# Generous next to one run of a job (the job logs' own "finished in" and durations).
JOB_TIMEOUT_S = 600
GIT = ("git", "-c", "user.name=Template Test", "-c", "user.email=template-test@example.invalid")
# The generated tests that need PostgreSQL: without DATABASE_HOST they skip, unless
# REQUIRE_DATABASE=1 (which CI sets) makes them fail. Every test in test_notes.py needs it.
DATABASE_TESTS = ("tests/test_db.py", "tests/test_notes.py", "tests/test_migrations.py")
NOTES_TESTS = "tests/test_notes.py"
# Asks the job's pytest for a line per test (-rA), without changing the job's commands.
REPORT_EVERY_TEST = "PYTEST_ADDOPTS=-rA"


def require_engine() -> None:
    """Skip without a Docker engine, except in CI (TEMPLATE_REQUIRE_ALL=1), where it fails."""
    if not docker_engine_available():
        skip_or_fail("no Docker engine is reachable (start one to run the container tier)")


def commit_all(project: Path) -> Path:
    """Make project a one-commit repository on a feature branch, as a fresh clone is."""
    run("git", "init", "--quiet", "--initial-branch=feature", cwd=project)
    run(*GIT, "add", "--all", cwd=project)
    run(*GIT, "commit", "--quiet", "--message", "Baked by the template's tests", cwd=project)
    return project


def add_failing_test(project: Path) -> None:
    """Add a lint-clean test that fails, so a pipeline that runs the suite must fail."""
    (project / "tests" / "test_broken.py").write_text(
        '"""A failing test, which must fail the pipeline."""\n\n\n'
        "def test_fails():\n"
        '    """One and one make three."""\n'
        "    assert 1 + 1 == 3\n"
    )


def run_pipeline(command: list[str], project: Path, env: dict, log: Path | None = None):
    """Run a local pipeline runner; return its result and the log a failure shows."""
    try:
        result = subprocess.run(
            command,
            cwd=project,
            env=env,
            capture_output=True,
            text=True,
            timeout=JOB_TIMEOUT_S,
            check=False,
        )
    except subprocess.TimeoutExpired as error:
        pytest.fail(f"{shlex.join(command)} ran over {JOB_TIMEOUT_S} s\n{error.stdout}")
    if log is None:
        return result, result.stdout + result.stderr
    return result, log.read_text() if log.exists() else f"(no job log at {log})"


def missing_image_hint(image: str) -> str:
    """Say how to provide image when the engine lacks it, else nothing."""
    if run("docker", "image", "inspect", image, expect=None).returncode == 0:
        return ""
    sandbox = f"SANDBOX_FULL_PYTHONS={image.split(':')[1]} ../shared/docker-sandbox/up"
    return f"\n{image} is not in the engine: pull it, or in the sandbox run {sandbox}"


def suite_passed(log: str) -> bool:
    """Whether log holds pytest's closing line with passes and no failure."""
    closing = re.findall(r"^.*=+ (.* in [\d.]+s) =+$", log, re.MULTILINE)
    return bool(closing) and "passed" in closing[-1] and "failed" not in closing[-1]


def require_database_tests(project: Path) -> None:
    """Skip (fail in CI) when the bake has no database tests for its pipeline to run."""
    if not (project / NOTES_TESTS).exists():
        skip_or_fail(f"the bake has no {NOTES_TESTS}: the database tests are not in the template")


def assert_database_tests_passed(log: str, note: str) -> None:
    """Assert pytest's -rA lines in log: tests/test_notes.py's passed, no database test skipped."""
    passed = re.findall(rf"\bPASSED {re.escape(NOTES_TESTS)}::", log)
    assert passed, f"no test of {NOTES_TESTS} passed\n{note}"
    # A skip in a shared fixture is reported at the fixture's line, so conftest.py counts too.
    skipped = [
        line
        for line in re.findall(r"\bSKIPPED \[\d+\] (tests/\S+?:\d+: .*)", log)
        if line.split(":")[0] in (*DATABASE_TESTS, "tests/conftest.py") or "DATABASE" in line
    ]
    assert not skipped, "database tests skipped:\n" + "\n".join(skipped) + f"\n{note}"
