"""The update path: cruft brings template changes into a generated repo, and bakes reproduce.

An update diff holds only the template's real changes when the same options
always render the same bytes, so the reproducibility tests belong here too.
"""

import json
import shutil
import sys
from pathlib import Path

import pytest
from conftest import TEMPLATE, bake, file_digests, matrix_params, require, run
from cookiecutter.main import cookiecutter

# Options away from every default, so "the options were kept" means something.
CHOSEN = {
    "project_name": "Ledger API",
    "python_version": "3.12",
    "use_volume": True,
    "ci_provider": "gitlab",
    "aws_region": "eu-west-1",
    "container_port": "8080",
}
PROJECT = "ledger-api"
# What a template maintainer might change: a line of the Dockerfile, and a new file.
DOCKERFILE_NOTE = " (this line changed in the template)"
NEW_FILE = "docs/runbook.md"
NEW_FILE_TEXT = "# Runbook of {{ cookiecutter.project_name }}\n"
# Not the template's files: the local venvs, npm tools, caches and git state.
NOT_TEMPLATE = shutil.ignore_patterns(
    ".git", ".venv*", "node_modules", "__pycache__", ".*_cache", "*.py[cod]"
)


def commit_all(repo: Path, message: str) -> str:
    """Commit everything in repo and return the new commit's SHA."""
    run("git", "add", "--all", cwd=repo)
    run("git", "commit", "--quiet", "--message", message, cwd=repo)
    return run("git", "rev-parse", "HEAD", cwd=repo).stdout.strip()


def tree(root: Path) -> dict[str, tuple[bool, bytes]]:
    """Every file under root: relative path -> (executable?, content)."""
    return {
        path.relative_to(root).as_posix(): (bool(path.stat().st_mode & 0o111), path.read_bytes())
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


@pytest.fixture
def git_env(tmp_path, monkeypatch):
    """A git identity of its own, and no user or system git config to surprise the test."""
    require("git", "cruft clones the template and applies updates with git")
    empty = tmp_path / "gitconfig"
    empty.touch()
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(empty))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    for role in ("AUTHOR", "COMMITTER"):
        monkeypatch.setenv(f"GIT_{role}_NAME", "Template Test")
        monkeypatch.setenv(f"GIT_{role}_EMAIL", "template-test@example.invalid")


@pytest.fixture
def template_repo(tmp_path, git_env) -> Path:
    """A copy of the template's working tree, committed to a temporary git repository."""
    repo = tmp_path / "template"
    shutil.copytree(TEMPLATE, repo, ignore=NOT_TEMPLATE)
    run("git", "init", "--quiet", "--initial-branch", "main", cwd=repo)
    commit_all(repo, "Template as under test")
    return repo


def change_template(repo: Path) -> str:
    """Commit a changed Dockerfile line and a new file to the template; return the commit."""
    project = repo / "{{cookiecutter.project_slug}}"
    dockerfile = project / "Dockerfile"
    first, rest = dockerfile.read_text().split("\n", 1)
    dockerfile.write_text(first + DOCKERFILE_NOTE + "\n" + rest)
    (project / NEW_FILE).parent.mkdir(parents=True, exist_ok=True)
    (project / NEW_FILE).write_text(NEW_FILE_TEXT)
    return commit_all(repo, "Improve the template")


def cruft_create(template_repo: Path, tmp_path: Path, options: dict) -> Path:
    """Generate a repo with cruft create and commit it; return its folder."""
    out = tmp_path / "out"
    run(
        "cruft",
        "create",
        str(template_repo),
        "--no-input",
        "--output-dir",
        str(out),
        "--extra-context",
        json.dumps(options),
        cwd=tmp_path,
    )
    (project,) = out.iterdir()
    run("git", "init", "--quiet", "--initial-branch", "main", cwd=project)
    commit_all(project, "Generated with cruft")
    return project


def test_cruft_update_brings_template_changes_and_keeps_options(template_repo, tmp_path):
    """cruft update applies a template change, keeps the options and local edits, and tests pass."""
    require("cruft", "creates and updates the generated repo")
    project = cruft_create(template_repo, tmp_path, CHOSEN)
    run("cruft", "check", cwd=project)

    # The team's own edit, which the update must leave alone.
    with (project / "README.md").open("a") as readme:
        readme.write("\nOn call: the ledger team.\n")
    commit_all(project, "Name the on-call team")

    template_commit = change_template(template_repo)
    run("cruft", "check", cwd=project, expect=1)
    run("cruft", "update", "--skip-apply-ask", cwd=project)

    assert (project / "Dockerfile").read_text().split("\n", 1)[0].endswith(DOCKERFILE_NOTE)
    assert (project / NEW_FILE).read_text() == "# Runbook of Ledger API\n"
    assert (project / "README.md").read_text().endswith("On call: the ledger team.\n")

    state = json.loads((project / ".cruft.json").read_text())
    assert state["commit"] == template_commit
    for option, value in CHOSEN.items():
        assert state["context"]["cookiecutter"][option] == value, option
    # The options still shape the tree: volume code, GitLab CI, the chosen Python.
    assert (project / "src/ledger_api/files.py").is_file()
    assert (project / ".gitlab-ci.yml").is_file()
    assert not (project / ".github").exists()
    assert "ARG PYTHON_VERSION=3.12" in (project / "Dockerfile").read_text()
    run("cruft", "check", cwd=project)

    tests = run(sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", cwd=project)
    assert " passed" in tests.stdout


def test_cruft_update_adds_ci_to_a_repo_made_without(template_repo, tmp_path):
    """As docs/deployment.md says, cruft update --variables-to-update adds CI to a repo without."""
    require("cruft", "updates the generated repo")
    project = cruft_create(template_repo, tmp_path, {**CHOSEN, "ci_provider": "none"})
    assert not (project / ".github").exists()
    run(
        "cruft",
        "update",
        "--skip-apply-ask",
        "--variables-to-update",
        json.dumps({"ci_provider": "github"}),
        cwd=project,
    )
    assert (project / ".github/workflows/deploy.yml").is_file()
    assert "AWS_DEPLOY_ROLE_ARN" in (project / "docs/ci-github.md").read_text()
    assert not (project / ".gitlab-ci.yml").exists()


def test_cruft_link_adopts_a_repo_made_with_plain_cookiecutter(template_repo, tmp_path):
    """A repo baked by cookiecutter links to its template from .cookiecutter.json, with no diff."""
    require("cruft", "links the repo to its template")
    project = Path(
        cookiecutter(
            str(template_repo),
            no_input=True,
            extra_context=CHOSEN,
            output_dir=str(tmp_path / "out"),
        )
    )
    stored = (project / ".cookiecutter.json").read_text()
    run("cruft", "link", str(template_repo), "--no-input", "--extra-context", stored, cwd=project)

    run("cruft", "diff", "--exit-code", cwd=project)
    context = json.loads((project / ".cruft.json").read_text())["context"]["cookiecutter"]
    for option, value in CHOSEN.items():
        assert context[option] == value, option


def test_stored_context_reproduces_the_tree(tmp_path):
    """Baking again with the options in .cookiecutter.json gives the same files."""
    first = Path(
        cookiecutter(
            str(TEMPLATE), no_input=True, extra_context=CHOSEN, output_dir=str(tmp_path / "first")
        )
    )
    stored = json.loads((first / ".cookiecutter.json").read_text())
    again = Path(
        cookiecutter(
            str(TEMPLATE), no_input=True, extra_context=stored, output_dir=str(tmp_path / "again")
        )
    )
    assert tree(again) == tree(first)


def test_replay_reproduces_the_tree(tmp_path):
    """cookiecutter --replay gives the same files as the bake it recorded."""
    config = tmp_path / "cookiecutter.yaml"
    config.write_text(
        f"replay_dir: {tmp_path / 'replay'}\ncookiecutters_dir: {tmp_path / 'cookiecutters'}\n"
    )
    first = Path(
        cookiecutter(
            str(TEMPLATE),
            no_input=True,
            extra_context=CHOSEN,
            output_dir=str(tmp_path / "first"),
            config_file=str(config),
        )
    )
    replayed = Path(
        cookiecutter(
            str(TEMPLATE),
            replay=True,
            output_dir=str(tmp_path / "replayed"),
            config_file=str(config),
        )
    )
    assert tree(replayed) == tree(first)


@pytest.mark.parametrize("options", matrix_params())
def test_baking_twice_gives_identical_trees(baked, cookies, options):
    """Nothing random, dated or machine-specific is rendered: two bakes match byte for byte."""
    # The session's bake as it was baked, before other tests ran code in it.
    first, again = baked.as_baked(options), file_digests(bake(cookies, **options))
    assert first.keys() == again.keys()
    differ = [path for path in first if first[path] != again[path]]
    assert not differ, f"these files differ between two bakes: {differ}"
