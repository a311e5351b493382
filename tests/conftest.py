"""Shared helpers: the option matrix read from cookiecutter.json, baking, and running tools."""

import contextlib
import fcntl
import hashlib
import importlib.util
import itertools
import json
import os
import shlex
import shutil
import socket
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import NoReturn

import pytest

TEMPLATE = Path(__file__).resolve().parent.parent
PROJECT_TEMPLATE = TEMPLATE / "{{cookiecutter.project_slug}}"
OPTIONS = json.loads((TEMPLATE / "cookiecutter.json").read_text())

# Options with a choice list or a bool that still do not change what a baked repo
# holds, so the matrix leaves them out. None yet: name one here with its reason.
NOT_SHAPE_OPTIONS: frozenset[str] = frozenset()


def choices(option: str) -> list:
    default = OPTIONS[option]
    if isinstance(default, bool):
        return [False, True]
    return list(default)


# The options that change the shape of the generated repo, in cookiecutter.json's
# order: every one whose default is a choice list or a bool (keys starting with _
# are cookiecutter's own), so a new option or choice is tested the day it is added.
SHAPE_OPTIONS = tuple(
    option
    for option, default in OPTIONS.items()
    if isinstance(default, list | bool)
    and not option.startswith("_")
    and option not in NOT_SHAPE_OPTIONS
)


def option_id(options: dict) -> str:
    """Read like the options: python_version:3.13-use_volume:false-ci_provider:github."""
    return "-".join(f"{k}:{json.dumps(v).strip(chr(34))}" for k, v in options.items())


MATRIX = [
    dict(zip(SHAPE_OPTIONS, values, strict=True))
    for values in itertools.product(*(choices(option) for option in SHAPE_OPTIONS))
]


def matrix_params(combinations=None):
    """Parametrize over combinations, each one's tests in one xdist_group.

    pytest 9.2 drops the group xdist writes into the node id (pytest-dev/pytest-xdist#1386),
    so a group's tests spread over the workers again; nothing here relies on the groups.
    Making them hold (with the fix xdist's #1388 proposes) cost the container tier its
    parallelism: the whole .ci/run took longer, so the groups stay as xdist leaves them.
    """
    return [
        pytest.param(c, id=option_id(c), marks=pytest.mark.xdist_group(option_id(c)))
        for c in (MATRIX if combinations is None else combinations)
    ]


def bake(cookies, **options) -> Path:
    """Bake the template with options, assert it worked, and return the project folder."""
    # pytest-cookies silently ignores keys cookiecutter.json does not have.
    unknown = set(options) - set(OPTIONS)
    assert not unknown, f"no such template options: {sorted(unknown)}"
    result = cookies.bake(extra_context=options)
    assert result.exception is None, result.exception
    assert result.exit_code == 0
    return Path(result.project_path)


@pytest.fixture(scope="session")
def baked(cookies_session):
    """Return a function that bakes each combination once per test session.

    Its ``as_baked(options)`` is the bake's file_digests as it was right after baking,
    before tests ran code in it.
    """
    projects: dict[str, Path] = {}
    as_baked: dict[str, dict[str, tuple[bool, str]]] = {}

    def get(options: dict) -> Path:
        key = option_id(options)
        if key not in projects:
            projects[key] = bake(cookies_session, **options)
            as_baked[key] = file_digests(projects[key])
        return projects[key]

    def digests_as_baked(options: dict) -> dict[str, tuple[bool, str]]:
        get(options)
        return as_baked[option_id(options)]

    get.as_baked = digests_as_baked
    return get


def file_digests(root: Path) -> dict[str, tuple[bool, str]]:
    """Every file under root: relative path -> (executable?, SHA-256 of its content)."""
    return {
        path.relative_to(root).as_posix(): (
            bool(path.stat().st_mode & 0o111),
            hashlib.sha256(path.read_bytes()).hexdigest(),
        )
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


def load_module(path: Path) -> ModuleType:
    """Import a Python file that is not on sys.path (a hook, a script) as a module."""
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# The post-generation hook, whose tables say which files each option keeps.
post_hook = load_module(TEMPLATE / "hooks" / "post_gen_project.py")
PACKAGE = "orders_service"  # the package name of every bake: the default project name's


def removed_paths(options: dict) -> set[str]:
    """The paths the post-generation hook removes from a bake with these options."""
    return set(post_hook.unneeded_paths({**options, "package_name": PACKAGE}))


def _ci_files() -> dict[str, list[str]]:
    """Map each ci_provider to the template's files under the CI paths the post-gen hook keeps.

    The CI guides under docs/ go with them but are prose, not pipeline configuration.
    """
    removed = post_hook.UNNEEDED["ci_provider"]
    every = {path for paths in removed.values() for path in paths if not path.startswith("docs/")}
    return {
        provider: sorted(
            path.relative_to(PROJECT_TEMPLATE).as_posix()
            for kept in every - set(removed.get(provider, []))
            for path in (PROJECT_TEMPLATE / kept, *(PROJECT_TEMPLATE / kept).rglob("*"))
            if path.is_file()
        )
        for provider in choices("ci_provider")
    }


# ci_provider -> the CI files a repo baked with it holds, e.g. "gitlab": [".gitlab-ci.yml"].
CI_FILES = _ci_files()


# Output beyond this many characters of each stream is cut from a failure message.
OUTPUT_TAIL = 6000


def _tail(text: str) -> str:
    if len(text) <= OUTPUT_TAIL:
        return text
    return f"[... {len(text) - OUTPUT_TAIL} characters cut ...]\n{text[-OUTPUT_TAIL:]}"


def assert_exited(
    result: subprocess.CompletedProcess, expect: int = 0, note: str = ""
) -> subprocess.CompletedProcess:
    """Assert result exited with expect; the message holds the command, its output and note."""
    command = shlex.join(map(str, result.args))
    assert result.returncode == expect, (
        f"{command} exited {result.returncode}, expected {expect}\n"
        f"--- stdout\n{_tail(result.stdout)}\n--- stderr\n{_tail(result.stderr)}"
        + (f"\n--- {note}" if note else "")
    )
    return result


def run(
    *command, cwd=None, env=None, expect: int | None = 0, note: str = "", input: str | None = None
) -> subprocess.CompletedProcess:
    """Run command with its output captured as text; unless expect is None, assert its status.

    ``input`` is the command's stdin; without it, stdin is empty rather than the terminal's.
    """
    result = subprocess.run(
        [str(part) for part in command],
        cwd=cwd,
        env=env,
        input="" if input is None else input,
        capture_output=True,
        text=True,
        check=False,
    )
    return result if expect is None else assert_exited(result, expect, note)


@pytest.fixture(scope="session")
def shared_dir(tmp_path_factory) -> Path:
    """A folder every xdist worker of this session sees (pytest's basetemp's parent)."""
    if os.environ.get("PYTEST_XDIST_WORKER"):
        path = tmp_path_factory.getbasetemp().parent / "shared"
    else:
        path = tmp_path_factory.getbasetemp() / "shared"
    path.mkdir(exist_ok=True)
    return path


@contextlib.contextmanager
def exclusive(lock_file: Path):
    """Hold an exclusive lock on lock_file: one worker at a time runs the block."""
    with lock_file.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def store_result(path: Path, result: subprocess.CompletedProcess) -> None:
    fields = {"args": [str(a) for a in result.args], "returncode": result.returncode}
    fields |= {"stdout": result.stdout, "stderr": result.stderr}
    path.write_text(json.dumps(fields))


def load_result(path: Path) -> subprocess.CompletedProcess | None:
    """The result store_result wrote at path, or None before it did."""
    if not path.exists():
        return None
    return subprocess.CompletedProcess(**json.loads(path.read_text()))


# Where `make install-tools` puts the npm tools (Node 22, gitlab-ci-local).
NPM_TOOLS = TEMPLATE / ".tools" / "node_modules" / ".bin"


def tool_path(tool: str) -> str | None:
    """Find a tool beside this interpreter (the test venv), then in .tools, then on PATH."""
    for folder in (Path(sys.executable).parent, NPM_TOOLS):
        if (folder / tool).exists():
            return str(folder / tool)
    return shutil.which(tool)


def skip_or_fail(message: str) -> NoReturn:
    """Skip with message; in CI (TEMPLATE_REQUIRE_ALL=1), where nothing may be missing, fail."""
    if os.environ.get("TEMPLATE_REQUIRE_ALL") == "1":
        pytest.fail(f"required in CI: {message}")
    pytest.skip(message)


def require(tool: str, reason: str) -> str:
    """Return the tool's path; skip when it is missing, except in CI, where that fails."""
    path = tool_path(tool)
    if path is None:
        skip_or_fail(f"{tool} not found: {reason}")
    return path


def docker_engine_available() -> bool:
    if shutil.which("docker") is None:
        return False
    return run("docker", "info", expect=None).returncode == 0


def free_port() -> int:
    """Return a TCP port of 127.0.0.1 that nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def distinct_files(baked, relative: str, combinations=None) -> dict[Path, list[str]]:
    """Map one baked copy of relative per distinct content to the combinations rendering it.

    Linters run once per distinct rendering; a failure names every combination it covers.
    """
    first: dict[str, Path] = {}
    owners: dict[Path, list[str]] = {}
    for options in MATRIX if combinations is None else combinations:
        path = baked(options) / relative
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        owners.setdefault(first.setdefault(digest, path), []).append(option_id(options))
    return owners


# The generated repo's own CloudFormation readers, so both suites read a template alike.
_template_reader = load_module(PROJECT_TEMPLATE / "tests" / "test_task_definition_parity.py")
# A yaml.SafeLoader subclass: short-form tags become their long form, !Ref X ->
# {"Ref": X}, !Sub s -> {"Fn::Sub": s}, !GetAtt a.b -> {"Fn::GetAtt": [a, b]}.
CloudFormationLoader = _template_reader.CloudFormationLoader
# resolve(value, parameters, conditions): Ref to a parameter becomes its value, Fn::If its
# chosen branch, AWS::NoValue leaves the item out; evaluate(condition, ...) is one condition.
resolve = _template_reader.resolve
evaluate = _template_reader.evaluate


def environment_settings(path: Path) -> dict[str, str]:
    """The Name=value lines of an environment file, as a dict, comments and blanks left out."""
    lines = (line.split("#", 1)[0].strip() for line in path.read_text().splitlines())
    return dict(line.split("=", 1) for line in lines if line)
