"""The generated GitLab pipeline's lint-test job, run for real by gitlab-ci-local.

gitlab-ci-local (locked in .tools/, `make install-tools`) reads the baked
.gitlab-ci.yml, evaluates its rules and runs the job's script in the job's own
image on the local Docker engine, as a GitLab runner's docker executor would.
Only lint-test runs: build-image and deploy need docker:*-cli and docker:*-dind
(Alpine images that add packages from Alpine's mirrors at job start) and deploy
needs AWS; template-update needs the template's repository.
"""

import os
import re
import shlex
import subprocess
from pathlib import Path

import pytest
import yaml
from conftest import assert_exited, bake, docker_engine_available, require, run, skip_or_fail

pytestmark = pytest.mark.container

JOB = "lint-test"
# Generous next to what one run of the job takes (see the job log's "finished in").
JOB_TIMEOUT_S = 600
# gitlab-ci-local 4.75 calls Set.prototype.union, which Node.js has from 22 on.
NODE_MAJOR = 22
GIT = ("git", "-c", "user.name=Template Test", "-c", "user.email=template-test@example.invalid")


def major_version(node: str) -> int:
    """Return the major version of the node binary at node."""
    return int(run(node, "--version").stdout.strip().lstrip("v").split(".")[0])


@pytest.fixture(scope="module")
def gitlab_ci_local() -> tuple[str, dict]:
    """Return gitlab-ci-local's path and an environment whose node runs it."""
    if not docker_engine_available():
        skip_or_fail("no Docker engine is reachable (start one to run the container tier)")
    tool = require("gitlab-ci-local", "make install-tools puts it in .tools")
    node = require("node", "make install-tools puts Node 22 in .tools")
    if major_version(node) < NODE_MAJOR:
        skip_or_fail(
            f"gitlab-ci-local needs Node {NODE_MAJOR}+, {node} is older (make install-tools)"
        )
    require("rsync", "gitlab-ci-local copies files with it: apt-get install rsync")
    # The tool's shebang is `env node`: the node found above must come first on PATH.
    return tool, {**os.environ, "PATH": f"{Path(node).parent}{os.pathsep}{os.environ['PATH']}"}


def commit_all(project: Path, branch: str) -> None:
    """Make project a one-commit git repository on branch, as a fresh clone is."""
    run("git", "init", "--quiet", f"--initial-branch={branch}", cwd=project)
    run(*GIT, "add", "--all", cwd=project)
    run(*GIT, "commit", "--quiet", "--message", "Baked by the template's tests", cwd=project)


def run_job(project: Path, gitlab_ci_local: tuple[str, dict], job: str = JOB):
    """Run one job of the project's pipeline; return the result and the job's log."""
    tool, env = gitlab_ci_local
    image = yaml.safe_load((project / ".gitlab-ci.yml").read_text())[job]["image"]
    command = [
        tool,
        job,
        # A runner's default is `always`; the engine may hold images it cannot pull.
        "--pull-policy",
        "if-not-present",
        # The helper container only chowns the job's volumes: the job's image does that.
        "--helper-image",
        image,
    ]
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
    log = project / ".gitlab-ci-local" / "output" / f"{job}.log"
    note = f"job log ({log.name})\n" + (log.read_text() if log.exists() else "(none written)")
    if run("docker", "image", "inspect", image, expect=None).returncode != 0:
        note += (
            f"\n{image} is not in the engine: in the sandbox, "
            f"SANDBOX_FULL_PYTHONS={image.split(':')[1]} ../shared/docker-sandbox/up"
        )
    return result, note


def summary_line(job: str, verdict: str) -> re.Pattern:
    """Match gitlab-ci-local's closing line for job, e.g. ' PASS  lint-test'."""
    return re.compile(rf"^\s*{verdict}\s+{re.escape(job)}\s*$", re.MULTILINE)


def test_lint_test_job_passes(cookies, gitlab_ci_local):
    project = bake(cookies, ci_provider="gitlab")
    commit_all(project, "feature")
    result, note = run_job(project, gitlab_ci_local)
    assert_exited(result, 0, note)
    assert summary_line(JOB, "PASS").search(result.stdout), note
    # The job ran the pipeline's own script, and pytest's closing line says all passed.
    assert "$ make lint" in note and "$ make test" in note, note
    assert re.search(r"^=+ \d+ passed[\w ,.]* in [\d.]+s =+$", note, re.MULTILINE), note


def test_lint_test_job_fails_on_a_failing_test(cookies, gitlab_ci_local):
    project = bake(cookies, ci_provider="gitlab")
    (project / "tests" / "test_broken.py").write_text(
        '"""A failing test, which must fail the job."""\n\n\n'
        "def test_fails():\n"
        '    """One and one make three."""\n'
        "    assert 1 + 1 == 3\n"
    )
    commit_all(project, "feature")
    result, note = run_job(project, gitlab_ci_local)
    assert_exited(result, 1, note)
    assert summary_line(JOB, "FAIL").search(result.stdout), note
    assert "FAILED tests/test_broken.py::test_fails" in note, note
