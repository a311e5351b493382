"""Bad options, given the way a user gives them: on cookiecutter's command line."""

import sys

import pytest
from conftest import TEMPLATE, run


def run_cookiecutter(output_dir, *options, expect=0):
    command = (sys.executable, "-m", "cookiecutter", "--no-input", TEMPLATE, "-o", output_dir)
    return run(*command, *options, expect=expect)


@pytest.mark.parametrize(
    ("option", "message"),
    [
        ("project_slug=Bad Slug!", "project_slug='Bad Slug!' is not accepted"),
        ("project_name=2 Fast Services", "project_slug='2-fast-services' is not accepted"),
        ("package_name=import", "package_name='import' is not accepted"),
        ("package_name=os", "package_name='os' is not accepted"),
        ("aws_region=mars-north-1", "aws_region='mars-north-1' is not accepted"),
        ("fargate_memory=4096", "fargate_memory='4096' is not accepted: with fargate_cpu=256"),
        ("fargate_cpu=100", "fargate_cpu='100' is not accepted"),
        ("container_port=80", "container_port='80' is not accepted"),
        ("desired_count=-2", "desired_count='-2' is not accepted"),
        ("desired_count=1.5", "desired_count='1.5' is not accepted"),
    ],
    ids=lambda value: value.split("=")[0] if "=" in value else None,
)
def test_refusal_exits_non_zero_names_the_option_and_leaves_nothing(tmp_path, option, message):
    """A refused option stops cookiecutter with one clear line and an empty output folder."""
    result = run_cookiecutter(tmp_path, option, expect=None)
    assert result.returncode != 0
    errors = [line for line in result.stderr.splitlines() if line.startswith("ERROR: ")]
    assert len(errors) == 1, result.stderr
    assert message in errors[0]
    assert list(tmp_path.iterdir()) == []


def test_odd_but_valid_project_name_bakes_a_clean_project(tmp_path):
    """Accents, spaces, digits and quotes in the name give a clean slug and package."""
    run_cookiecutter(tmp_path, 'project_name=Caf\u00e9 "Commandes" 2 \\ Service')
    (project,) = tmp_path.iterdir()
    assert project.name == "cafe-commandes-2-service"
    assert (project / "src" / "cafe_commandes_2_service" / "__init__.py").is_file()
