"""Every combination of the shape options bakes into a clean, passing project."""

import hashlib
import json
import math
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml
from conftest import (
    CI_FILES,
    MATRIX,
    NOT_SHAPE_OPTIONS,
    PACKAGE,
    SHAPE_OPTIONS,
    TEMPLATE,
    CloudFormationLoader,
    assert_exited,
    exclusive,
    load_result,
    matrix_params,
    option_id,
    post_hook,
    removed_paths,
    run,
    store_result,
)

LEFTOVER_JINJA = re.compile(r"\{\{\s*cookiecutter|\{%|%\}|\{#|cookiecutter\.(?!json)[a-z_]+")
PARSERS = {
    ".json": json.loads,
    ".toml": tomllib.loads,
    ".yaml": lambda text: list(yaml.load_all(text, Loader=CloudFormationLoader)),
    ".yml": lambda text: list(yaml.load_all(text, Loader=CloudFormationLoader)),
}


def files(project: Path) -> list[Path]:
    return sorted(path for path in project.rglob("*") if path.is_file())


def relative(project: Path) -> set[str]:
    return {path.relative_to(project).as_posix() for path in files(project)}


@pytest.mark.parametrize("options", matrix_params())
def test_no_unrendered_jinja_in_paths_or_contents(baked, options):
    """No template syntax is left in any file name or file."""
    project = baked(options)
    for path in files(project):
        name = path.relative_to(project).as_posix()
        assert not LEFTOVER_JINJA.search(name), name
        text = path.read_text(encoding="utf-8")
        match = LEFTOVER_JINJA.search(text)
        assert match is None, f"{name}: {match and match.group(0)!r}"


@pytest.mark.parametrize("options", matrix_params())
def test_option_files_are_present_or_absent(baked, options):
    """Each option keeps the files its value needs; the hook's table removes the rest."""
    project = baked(options)
    removed = removed_paths(options)
    optional = {
        path.format(package_name=PACKAGE)
        for by_value in post_hook.UNNEEDED.values()
        for paths in by_value.values()
        for path in paths
    }
    for path in sorted(optional):
        assert (project / path).exists() is (path not in removed), path
    present = relative(project)
    for provider, ci_files in CI_FILES.items():
        if ci_files:
            assert (set(ci_files) <= present) is (options["ci_provider"] == provider), provider
    for always in (
        "Dockerfile",
        ".dockerignore",
        "compose.yaml",
        "compose.override.yaml",
        "infra/bootstrap.yaml",
        "infra/service.yaml",
        "Makefile",
        "README.md",
        "docs/development.md",
        "docs/deployment.md",
        "docs/operations.md",
        ".cookiecutter.json",
        "requirements.in",
        "requirements.txt",
        "requirements-dev.in",
        "requirements-dev.txt",
        "pyproject.toml",
        f"src/{PACKAGE}/__init__.py",
        f"src/{PACKAGE}/serve.py",
        f"src/{PACKAGE}/worker.py",
    ):
        assert always in present


# What only a database=postgres repo may name. .cookiecutter.json records the option itself.
DATABASE_TRACE = re.compile(r"sqlalchemy|alembic|postgres|DATABASE_|make (?:migrat|db-)", re.I)


@pytest.mark.parametrize("options", matrix_params([c for c in MATRIX if c["database"] == "none"]))
def test_a_repo_without_a_database_carries_no_trace_of_one(baked, options):
    """database=none: no SQLAlchemy, Alembic or PostgreSQL, no DATABASE_* and no db service."""
    project = baked(options)
    for path in sorted(project.rglob("*")):
        name = path.relative_to(project).as_posix()
        if path.is_file() and name != ".cookiecutter.json":
            match = DATABASE_TRACE.search(path.read_text(encoding="utf-8"))
            assert match is None, f"{name}: {match and match.group(0)!r}"
    services = yaml.safe_load((project / "compose.yaml").read_text())["services"]
    assert set(services) == {"app"}


@pytest.mark.parametrize("options", matrix_params())
def test_python_version_reaches_the_image_and_the_tools(baked, options):
    """The chosen Python is the image's base and ruff's target."""
    project = baked(options)
    version = options["python_version"]
    assert f"ARG PYTHON_VERSION={version}\n" in (project / "Dockerfile").read_text()
    pyproject = tomllib.loads((project / "pyproject.toml").read_text())
    assert pyproject["tool"]["ruff"]["target-version"] == "py" + version.replace(".", "")


@pytest.mark.parametrize("options", matrix_params())
def test_no_empty_folders(baked, options):
    """Removing optional files leaves no empty folder behind."""
    project = baked(options)
    empty = [p for p in project.rglob("*") if p.is_dir() and not any(p.iterdir())]
    assert empty == []


@pytest.mark.parametrize("options", matrix_params())
def test_structured_files_parse(baked, options):
    """Every JSON, TOML and YAML file parses."""
    project = baked(options)
    parsed = [p for p in files(project) if p.suffix in PARSERS]
    assert parsed
    for path in parsed:
        PARSERS[path.suffix](path.read_text(encoding="utf-8"))


@pytest.mark.parametrize("options", matrix_params())
def test_stored_context_records_the_options(baked, options):
    """.cookiecutter.json records the options, for replay and update tools."""
    stored = json.loads((baked(options) / ".cookiecutter.json").read_text())
    for option, value in options.items():
        assert stored[option] == value


@pytest.mark.parametrize("options", matrix_params())
def test_ruff_passes(baked, options):
    """The generated code passes ruff check and ruff format --check."""
    project = baked(options)
    for command in (["check", "--no-cache", "."], ["format", "--no-cache", "--check", "."]):
        run(sys.executable, "-m", "ruff", *command, cwd=project)


# What cannot change what a baked repo's own suite does: CI files, the image recipe,
# the bootstrap stack and deploy script, prose (no generated test reads them, which
# test_generated_tests_read_no_ignored_file guards; the suite runs on this interpreter,
# not the image's). Bakes that differ only there run the suite once.
SUITE_IGNORES = (
    ".github/",
    ".gitlab-ci.yml",
    "docs/",
    ".cookiecutter.json",
    "infra/bootstrap.yaml",
    "scripts/",
)
# README.md is read by tests/test_readme.py through this block only, its `make help` lines.
README_HELP_BLOCK = re.compile(r"^```text\n((?:  make .*\n)+)```$", re.MULTILINE)
# What only the lock test reads (the locks and the Dockerfile's Python): bakes that differ
# only there, such as two Pythons, run that module alone once the rest of the suite passed.
LOCK_TEST = "tests/test_requirements_lock.py"
LOCK_TEST_READS = ("Dockerfile", "requirements")
# How a generated test would name one of them (a variable named requirements does not).
LOCK_TEST_FILE_NAME = re.compile(r"Dockerfile|requirements[-.*\w]*\.(?:in|txt)\b|requirements\*")


def suite_fingerprint(project: Path, ignores: tuple[str, ...] = SUITE_IGNORES) -> str:
    """Hash every file the generated suite sees; pyproject.toml and README.md as it reads them."""
    digest = hashlib.sha256()
    for path in files(project):
        name = path.relative_to(project).as_posix()
        if name.startswith(ignores):
            continue
        content = path.read_bytes()
        if name == "pyproject.toml":
            pytest_table = tomllib.loads(content.decode())["tool"]["pytest"]
            content = json.dumps(pytest_table, sort_keys=True).encode()
        if name == "README.md":
            block = README_HELP_BLOCK.search(content.decode())
            content = block[0].encode() if block else b""
        digest.update(name.encode() + b"\0" + content + b"\0")
    return digest.hexdigest()


def run_generated_suite(project: Path, scratch: Path, *paths: str) -> subprocess.CompletedProcess:
    # Keep Hypothesis's cache out of the shared bake, which other tests read file by file.
    environ = {**os.environ, "HYPOTHESIS_STORAGE_DIRECTORY": str(scratch / "hypothesis")}
    if paths == (LOCK_TEST,):
        # It needs no plugin; importing hypothesis's and schemathesis's is most of its time.
        environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    # A basetemp of its own: pytest numbering and pruning /tmp/pytest-of-<user> while other
    # sessions do the same can leave a scandir iterator open, which filterwarnings=error
    # turns into a failed run.
    command = (sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *paths)
    command += ("--basetemp", str(scratch / "basetemp"))
    return run(*command, cwd=project, env=environ, expect=None)


@pytest.mark.parametrize("options", matrix_params())
def test_generated_test_suite_passes(baked, options, shared_dir, tmp_path):
    """The baked repo's own tests pass (with the template's interpreter and pins).

    Once per distinct content across the xdist workers: under a lock per content without
    the lock test's files, the first bake runs the whole suite; a bake that differs from
    it only there (another Python) then runs the lock test alone.
    """
    project = baked(options)
    fingerprint = suite_fingerprint(project)
    without_locks = suite_fingerprint(project, SUITE_IGNORES + LOCK_TEST_READS)
    whole = shared_dir / f"suite-{fingerprint}.json"
    group_passed = shared_dir / f"passed-without-locks-{without_locks}"
    with exclusive(shared_dir / f"group-{without_locks}.lock"):
        if not group_passed.exists() and load_result(whole) is None:
            store_result(whole, run_generated_suite(project, tmp_path))
            if load_result(whole).returncode == 0:
                group_passed.touch()
    with exclusive(shared_dir / f"suite-{fingerprint}.lock"):
        if load_result(whole) is None:
            paths = (LOCK_TEST,) if group_passed.exists() else ()
            store_result(whole, run_generated_suite(project, tmp_path, *paths))
    result = assert_exited(load_result(whole))
    assert " passed" in result.stdout


def test_suite_fingerprint_tells_code_changes_from_ci_changes(baked):
    """Only CI and prose differences share a suite run; code and lock differences do not."""
    base = {"python_version": "3.13", "use_volume": False, "ci_provider": "github"}
    fingerprint = suite_fingerprint(baked(base))
    assert suite_fingerprint(baked({**base, "ci_provider": "none"})) == fingerprint
    # Each Python has its own locks (tests/test_requirements_lock.py reads them).
    other_python = baked({**base, "python_version": "3.14"})
    assert suite_fingerprint(other_python) != fingerprint
    # ... and nothing else: it runs the lock test alone once the suite passed on 3.13.
    without_locks = SUITE_IGNORES + LOCK_TEST_READS
    assert suite_fingerprint(other_python, without_locks) == suite_fingerprint(
        baked(base), without_locks
    )
    assert suite_fingerprint(baked({**base, "use_volume": True})) != fingerprint


def test_matrix_covers_every_choice():
    """The matrix is every combination of the choices in cookiecutter.json, each once."""
    shape = {
        option: [False, True] if isinstance(default, bool) else default
        for option, default in json.loads((TEMPLATE / "cookiecutter.json").read_text()).items()
        if isinstance(default, list | bool)
        and not option.startswith("_")
        and option not in NOT_SHAPE_OPTIONS
    }
    assert list(shape) == list(SHAPE_OPTIONS)
    assert len(MATRIX) == math.prod(len(values) for values in shape.values())
    assert len({option_id(options) for options in MATRIX}) == len(MATRIX)
    for option, values in shape.items():
        assert {options[option] for options in MATRIX} == set(values), option


def test_generated_tests_read_no_ignored_file():
    """The suite's fingerprint may skip what it skips only while no generated test reads it."""
    tests = TEMPLATE / "{{cookiecutter.project_slug}}" / "tests"
    for path in tests.glob("*.py"):
        text = path.read_text()
        for ignored in SUITE_IGNORES:
            needle = ignored.strip("./").removesuffix("/").split("/")[-1]
            assert needle not in text, f"{path.name} mentions {ignored}: update SUITE_IGNORES"
        if path.name != Path(LOCK_TEST).name:
            named = LOCK_TEST_FILE_NAME.search(text)
            assert not named, f"{path.name} mentions {named[0]}: update LOCK_TEST_READS"
        if "README" in text:
            assert path.name == "test_readme.py", f"{path.name} reads README.md"
            assert README_HELP_BLOCK.pattern in text, "fingerprint README.md as it is read"


# "# HOST_PORT=8080" in .env.example, and compose's "${HOST_PORT:-8080}".
ENV_EXAMPLE_PORT = re.compile(r"^# ?([A-Z_]+_PORT)=(\S+)", re.MULTILINE)
COMPOSE_DEFAULT = re.compile(r"\$\{([A-Z_]+):-([^}]*)\}")


def test_env_example_names_the_ports_compose_publishes(baked):
    """Each *_PORT that .env.example shows is the port compose publishes without it."""
    # A port other than the default, and the database's port too.
    options = {**MATRIX[0], "database": "postgres", "container_port": "8080"}
    project = baked(options)
    shown = dict(ENV_EXAMPLE_PORT.findall((project / ".env.example").read_text()))
    compose = "".join(path.read_text() for path in sorted(project.glob("compose*.yaml")))
    defaults = dict(COMPOSE_DEFAULT.findall(compose))
    assert shown
    for name, port in shown.items():
        assert defaults.get(name) == port, f".env.example shows {name}={port}"


# [text](file#anchor), outside code fences; a target with a scheme is not the repo's.
MARKDOWN_LINK = re.compile(r"\]\(([^)\s#]*)(?:#([^)\s]*))?\)")
MARKDOWN_FENCE = re.compile(r"^```.*?^```", re.MULTILINE | re.DOTALL)
MARKDOWN_HEADING = re.compile(r"^#{1,6} +(.+?) *$", re.MULTILINE)


def heading_anchor(heading):
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces as hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-")


def test_heading_anchor_is_githubs():
    assert heading_anchor("What `make destroy` keeps") == "what-make-destroy-keeps"
    assert heading_anchor("Provenance and the scan gate") == "provenance-and-the-scan-gate"
    assert heading_anchor("A deploy went bad: an example") == "a-deploy-went-bad-an-example"


def markdown_anchors(page):
    headings = MARKDOWN_HEADING.findall(MARKDOWN_FENCE.sub("", page.read_text()))
    return {heading_anchor(heading) for heading in headings}


@pytest.mark.parametrize("options", matrix_params())
def test_relative_markdown_links_resolve(baked, options):
    """Each relative link in a baked repo's Markdown names a file of the bake, and a heading."""
    project = baked(options)
    for page in project.rglob("*.md"):
        for target, fragment in MARKDOWN_LINK.findall(MARKDOWN_FENCE.sub("", page.read_text())):
            if "://" in target:
                continue
            linked = page.parent / target if target else page
            where = f"{page.relative_to(project)}: {target}#{fragment}"
            assert linked.exists(), where
            if fragment and linked.suffix == ".md":
                assert fragment in markdown_anchors(linked), where
