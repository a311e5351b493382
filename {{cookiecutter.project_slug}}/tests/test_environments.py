"""The environment files under infra/environments/ hold stack parameters only.

Each setting goes to the stack whose template declares it: the database stack's own
(infra/database.yaml, where the repo has one) to it, every other one to the service stack.
"""

from pathlib import Path

import pytest
import yaml
from test_task_definition_parity import CloudFormationLoader

ROOT = Path(__file__).resolve().parent.parent
ENVIRONMENTS = sorted((ROOT / "infra" / "environments").glob("*.env"))


def settings(path: Path) -> dict[str, str]:
    """Read an environment file's Name=value lines, without comments and blank lines."""
    lines = (line.split("#", 1)[0].strip() for line in path.read_text().splitlines())
    return dict(line.split("=", 1) for line in lines if line)


@pytest.fixture(scope="module")
def service_parameters() -> set[str]:
    """The parameters of the service stack, and of the database stack where there is one."""
    names = set()
    for name in ("service.yaml", "database.yaml"):
        if (path := ROOT / "infra" / name).exists():
            template = yaml.load(path.read_text(), CloudFormationLoader)  # noqa: S506 - SafeLoader
            names |= set(template["Parameters"])
    return names


def test_staging_and_production_exist():
    """The repo ships a staging and a production environment."""
    assert {"staging", "production"} <= {path.stem for path in ENVIRONMENTS}


@pytest.mark.parametrize("path", ENVIRONMENTS, ids=lambda path: path.stem)
def test_every_setting_is_a_service_stack_parameter(path, service_parameters):
    """A misspelt setting fails here, not in the middle of a deploy."""
    unknown = set(settings(path)) - service_parameters
    assert not unknown, f"{path.name}: not parameters of infra/*.yaml: {sorted(unknown)}"


@pytest.mark.parametrize("path", ENVIRONMENTS, ids=lambda path: path.stem)
def test_the_deploy_sets_the_image_and_the_name(path):
    """ImageUri and EnvironmentName come from make deploy, never from the file."""
    assert not {"ImageUri", "EnvironmentName", "ServiceName"} & set(settings(path))
