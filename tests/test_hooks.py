"""The hooks, imported and tested as plain modules, without baking."""

import json

import pytest
from conftest import OPTIONS, TEMPLATE, choices, load_module
from conftest import post_hook as post

pre = load_module(TEMPLATE / "hooks" / "pre_gen_project.py")

VALID = {
    "project_slug": "orders-service",
    "package_name": "orders_service",
    "aws_region": "us-east-1",
    "fargate_cpu": "256",
    "fargate_memory": "512",
    "container_port": "8000",
    "desired_count": "2",
    "use_volume": False,
}


def test_valid_options_pass():
    """The defaults are accepted."""
    pre.check_options(VALID)


@pytest.mark.parametrize(
    ("option", "value", "accepted"),
    [
        ("project_slug", "Orders", "lowercase ASCII"),
        ("project_slug", "1orders", "starting with a letter"),
        ("project_slug", "orders--service", "single hyphens"),
        ("project_slug", "orders-", "lowercase ASCII"),
        ("project_slug", "a" * 51, "at most 50"),
        ("package_name", "orders-service", "Python identifier"),
        ("package_name", "class", "keyword"),
        ("package_name", "match", "keyword"),
        ("package_name", "json", "shadow"),
        ("package_name", "flask", "shadow"),
        ("package_name", "Orders", "lowercase"),
        ("package_name", "caf\u00e9", "Python identifier"),
        ("aws_region", "mars-north-1", "AWS region code"),
        ("aws_region", "US-EAST-1", "AWS region code"),
        ("fargate_cpu", "300", "256, 512, 1024"),
        ("fargate_cpu", "a lot", "whole number"),
        ("fargate_memory", "4096", "512, 1024, 2048 MiB"),
        ("container_port", "80", "1024 to 65535"),
        ("container_port", "70000", "1024 to 65535"),
        ("container_port", "8000.5", "whole number"),
        ("desired_count", "-1", "0 or more"),
        ("desired_count", "two", "whole number"),
        ("desired_count", True, "whole number"),
        ("use_volume", "maybe", "true or false"),
    ],
)
def test_bad_option_is_refused_with_one_sentence(option, value, accepted):
    """Each refusal names the option, the bad value and what would be accepted."""
    with pytest.raises(pre.OptionError) as error:
        pre.check_options({**VALID, option: value})
    message = str(error.value)
    assert message.startswith(f"{option}={value!r} is not accepted: ")
    assert accepted in message
    assert "\n" not in message


@pytest.mark.parametrize(
    ("cpu", "memory"),
    [
        ("256", "2048"),
        ("512", "4096"),
        ("1024", "2048"),
        ("4096", "30720"),
        ("8192", "61440"),
        ("16384", "122880"),
    ],
)
def test_every_fargate_size_at_its_bounds_is_accepted(cpu, memory):
    """The edges of Fargate's table are accepted."""
    pre.check_fargate_size(cpu, memory)


@pytest.mark.parametrize(
    ("cpu", "memory"), [("512", "512"), ("8192", "18432"), ("16384", "36864"), ("2048", "3072")]
)
def test_fargate_sizes_outside_the_table_are_refused(cpu, memory):
    """Memory must be a step of the table for that CPU."""
    with pytest.raises(pre.OptionError, match="fargate_memory"):
        pre.check_fargate_size(cpu, memory)


def test_region_list_matches_botocore():
    """The hook's offline region list holds every region botocore knows for AWS partitions."""
    botocore = pytest.importorskip("botocore")
    from pathlib import Path

    data = json.loads((Path(botocore.__file__).parent / "data" / "endpoints.json").read_text())
    known = {
        region
        for partition in data["partitions"]
        if partition["partition"] in {"aws", "aws-cn", "aws-us-gov"}
        for region in partition["regions"]
    }
    assert known <= pre.AWS_REGIONS, f"add to AWS_REGIONS: {sorted(known - pre.AWS_REGIONS)}"


def test_main_reads_the_rendered_context(monkeypatch, capsys):
    """Rendered, the hook parses its JSON context and exits 1 with the message on stderr."""
    monkeypatch.setattr(pre, "RENDERED", json.dumps({**VALID, "aws_region": "mars-north-1"}))
    assert pre.main() == 1
    assert capsys.readouterr().err.strip() == (
        "ERROR: aws_region='mars-north-1' is not accepted: use an AWS region code such as "
        "us-east-1, eu-west-1 or ap-southeast-2."
    )
    monkeypatch.setattr(pre, "RENDERED", json.dumps(VALID))
    assert pre.main() == 0


@pytest.mark.parametrize("name", ["post_gen_project", "pre_gen_project"])
def test_rendered_context_survives_quotes_and_backslashes(name):
    """Rendered by cookiecutter's Jinja environment, the context reads back exactly."""
    from cookiecutter.environment import StrictEnvironment

    context = {**VALID, "project_name": 'Caf\u00e9 "Orders" \\ \'\'\' """ {% raw %}'}
    source = (TEMPLATE / "hooks" / f"{name}.py").read_text()
    rendered = StrictEnvironment(context={"cookiecutter": context}).from_string(source)
    namespace = {"__name__": "rendered_hook"}
    exec(rendered.render(cookiecutter=context), namespace)
    assert json.loads(namespace["RENDERED"]) == context


@pytest.mark.parametrize(
    ("options", "removed"),
    [
        (
            {"use_volume": True, "ci_provider": "github", "database": "postgres"},
            [".gitlab-ci.yml", "docs/ci-gitlab.md"],
        ),
        (
            {"use_volume": False, "ci_provider": "gitlab", "database": "postgres"},
            [
                "src/pkg/files.py",
                "tests/test_files.py",
                "infra/volume.yaml",
                "docs/volume.md",
                ".github",
                "docs/ci-github.md",
            ],
        ),
        (
            {"use_volume": True, "ci_provider": "none", "database": "none"},
            [
                ".github",
                ".gitlab-ci.yml",
                "docs/ci-github.md",
                "docs/ci-gitlab.md",
                "src/pkg/db.py",
                "src/pkg/notes.py",
                "src/pkg/migrate.py",
                "src/pkg/migrations",
                "tests/test_db.py",
                "tests/test_notes.py",
                "tests/test_migrations.py",
                "tests/test_database_settings.py",
                "infra/database.yaml",
                "docs/database.md",
            ],
        ),
    ],
)
def test_unneeded_paths_follow_the_table(options, removed):
    """Each option value names the paths it does not need."""
    assert sorted(post.unneeded_paths({**options, "package_name": "pkg"})) == sorted(removed)


def test_every_option_in_the_table_exists_with_every_value():
    """The removal table only names real options and values."""
    for option, by_value in post.UNNEEDED.items():
        assert option in OPTIONS
        assert set(by_value) <= set(choices(option))


def test_remove_paths_deletes_files_folders_and_leaves_no_empty_folder(tmp_path):
    """Removing the last file of a folder removes the folder too."""
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "a" / "b" / "only.py").write_text("")
    (tmp_path / "keep").mkdir()
    (tmp_path / "keep" / "stay.py").write_text("")
    (tmp_path / "keep" / "go.py").write_text("")
    (tmp_path / "tree" / "deep").mkdir(parents=True)
    post.remove_paths(tmp_path, ["a/b/only.py", "keep/go.py", "tree", "never-existed.txt"])
    assert sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*")) == [
        "keep",
        "keep/stay.py",
    ]
