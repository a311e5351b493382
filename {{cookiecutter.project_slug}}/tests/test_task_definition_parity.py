"""compose.yaml runs the container as the ECS task definition in infra/service.yaml does.

Edit one and forget the other, and these tests say which setting drifted, before a deploy.
"""

import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent


class CloudFormationLoader(yaml.SafeLoader):
    """Read CloudFormation YAML: short-form tags become their long form (!Ref X -> {"Ref": X})."""


def _construct_intrinsic(loader, tag_suffix, node):
    name = tag_suffix if tag_suffix in ("Ref", "Condition") else f"Fn::{tag_suffix}"
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
        if tag_suffix == "GetAtt":
            value = value.split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    return {name: value}


CloudFormationLoader.add_multi_constructor("!", _construct_intrinsic)


# What `make deploy` gives the service stack from the volume stack's outputs, when the
# repo has a volume; any well-formed IDs do here.
VOLUME_OUTPUTS = {
    "FileSystemId": "fs-0123456789abcdef0",
    "AccessPointId": "fsap-0123456789abcdef0",
    "FileSystemSecurityGroupId": "sg-0123456789abcdef0",
}
NO_VALUE = object()  # AWS::NoValue: the property or list item is left out


def deployed_parameters(template) -> dict:
    """The parameters of `make deploy` without overrides: the defaults, and the volume's IDs."""
    values = {name: p["Default"] for name, p in template["Parameters"].items() if "Default" in p}
    if (ROOT / "infra" / "volume.yaml").exists():
        values.update(VOLUME_OUTPUTS)
    # The other stacks' outputs (a database's, say): any value, as long as it is one.
    for name, parameter in template["Parameters"].items():
        values.setdefault(name, parameter.get("Default", f"<{name}>"))
    return values


def evaluate(condition, parameters, conditions) -> bool:
    """Evaluate a condition of the template's Conditions section."""
    ((function, argument),) = condition.items()
    if function == "Condition":
        return evaluate(conditions[argument], parameters, conditions)
    if function == "Fn::Equals":
        left, right = (resolve(item, parameters, conditions) for item in argument)
        return left == right
    results = [evaluate(item, parameters, conditions) for item in argument]
    operators = {"Fn::Not": lambda r: not r[0], "Fn::And": all, "Fn::Or": any}
    return operators[function](results)


def resolve(value, parameters, conditions):
    """Resolve Ref to parameters and Fn::If by the conditions, as CloudFormation would."""
    if isinstance(value, dict):
        if set(value) == {"Ref"} and value["Ref"] == "AWS::NoValue":
            return NO_VALUE
        if set(value) == {"Ref"} and value["Ref"] in parameters:
            return parameters[value["Ref"]]
        if set(value) == {"Fn::If"}:
            name, when_true, when_false = value["Fn::If"]
            chosen = when_true if evaluate(conditions[name], parameters, conditions) else when_false
            return resolve(chosen, parameters, conditions)
        items = {key: resolve(item, parameters, conditions) for key, item in value.items()}
        return {key: item for key, item in items.items() if item is not NO_VALUE}
    if isinstance(value, list):
        items = [resolve(item, parameters, conditions) for item in value]
        return [item for item in items if item is not NO_VALUE]
    return value


def seconds(duration: str) -> float:
    """Read a compose duration such as 10s, 1m30s or 500ms."""
    units = {"h": 3600, "m": 60, "s": 1, "ms": 0.001, "us": 1e-6}
    parts = re.findall(r"(\d+(?:\.\d+)?)(ms|us|h|m|s)", str(duration))
    assert parts, f"not a compose duration: {duration!r}"
    return sum(float(number) * units[unit] for number, unit in parts)


def mebibytes(size) -> float:
    """Read a compose byte size such as 512m, 1g or 536870912."""
    match = re.fullmatch(r"(\d+(?:\.\d+)?)\s*([bkmg]?)b?", str(size).strip().lower())
    assert match, f"not a compose byte size: {size!r}"
    number, unit = float(match[1]), match[2] or "b"
    return number * {"b": 2**-20, "k": 2**-10, "m": 1, "g": 2**10}[unit]


@pytest.fixture(scope="module")
def task_definition():
    text = (ROOT / "infra" / "service.yaml").read_text()
    template = yaml.load(text, CloudFormationLoader)  # noqa: S506 - a SafeLoader subclass
    properties = template["Resources"]["TaskDefinition"]["Properties"]
    return resolve(properties, deployed_parameters(template), template.get("Conditions", {}))


@pytest.fixture(scope="module")
def container(task_definition):
    (app,) = [c for c in task_definition["ContainerDefinitions"] if c["Name"] == "app"]
    return app


@pytest.fixture(scope="module")
def service():
    # compose.yaml alone, as `make dev-up-ecs` runs it: the override is for development only.
    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    return compose["services"]["app"]


def environment_names(service) -> set[str]:
    environment = service.get("environment") or {}
    if isinstance(environment, list):
        return {item.split("=", 1)[0] for item in environment}
    return set(environment)


def task_environment_names(container) -> set[str]:
    """The task's variables: its Environment and its Secrets, which ECS sets as variables too."""
    secrets = container.get("Secrets", [])
    return {v["Name"] for v in container["Environment"]} | {s["Name"] for s in secrets}


def test_the_container_listens_on_the_same_port(service, container):
    """The published container port, the port mapping and PORT agree."""
    published = {str(port).rsplit(":", 1)[-1].split("/")[0] for port in service["ports"]}
    mapped = {str(mapping["ContainerPort"]) for mapping in container["PortMappings"]}
    assert published == mapped
    assert str(service["environment"]["PORT"]) == str(
        next(v["Value"] for v in container["Environment"] if v["Name"] == "PORT")
    )


def test_the_same_non_root_user_runs_it(service, container):
    """Both run the image as UID:GID 10001:10001."""
    assert str(service["user"]) == container["User"] == "10001:10001"


def test_the_root_file_system_is_read_only_with_tmp_writable(service, container):
    """Read-only root, with a tmpfs at /tmp in both."""
    assert service["read_only"] is True
    assert container["ReadonlyRootFilesystem"] is True
    tmpfs = {mount["ContainerPath"] for mount in container["LinuxParameters"]["Tmpfs"]}
    assert set(service["tmpfs"]) == tmpfs


def test_every_linux_capability_is_dropped(service, container):
    """cap_drop and Capabilities.Drop are ALL and nothing is added back; compose forbids escalation.

    no-new-privileges is compose's alone: Fargate takes no security options.
    """
    assert service["cap_drop"] == ["ALL"]
    assert not service.get("cap_add")
    capabilities = container["LinuxParameters"]["Capabilities"]
    assert capabilities["Drop"] == ["ALL"]
    assert not capabilities.get("Add")
    assert "no-new-privileges:true" in service["security_opt"]


def test_an_init_process_forwards_signals(service, container):
    """compose's init: true is ECS's initProcessEnabled."""
    assert service.get("init", False) == container["LinuxParameters"]["InitProcessEnabled"]


def test_the_health_check_is_the_same(service, container):
    """Same command, interval, timeout, retries and start period."""
    compose, ecs = service["healthcheck"], container["HealthCheck"]
    assert compose["test"] == ecs["Command"]
    assert seconds(compose["interval"]) == ecs["Interval"]
    assert seconds(compose["timeout"]) == ecs["Timeout"]
    assert compose["retries"] == ecs["Retries"]
    assert seconds(compose["start_period"]) == ecs["StartPeriod"]


def test_the_stop_timeout_is_the_same(service, container):
    """SIGKILL follows SIGTERM after the same grace period (above gunicorn's graceful_timeout)."""
    assert seconds(service["stop_grace_period"]) == container["StopTimeout"]
    assert container["StopTimeout"] > 20


def test_cpu_and_memory_are_the_same(service, task_definition):
    """compose's cpus and mem_limit are the task size (1024 CPU units is one vCPU)."""
    assert float(service["cpus"]) * 1024 == int(task_definition["Cpu"])
    assert mebibytes(service["mem_limit"]) == int(task_definition["Memory"])


def test_the_same_environment_variables_are_set(service, container):
    """The same variable names, secrets included, so no setting exists in one place only."""
    assert environment_names(service) == task_environment_names(container)


def test_secrets_are_passed_through_never_written(service, container):
    """Each task secret is interpolated in compose (from .env), so no value is in compose.yaml.

    Only a default (`:-`) or a refusal (`:?`) may follow the name, as for a local
    database's user and password.
    """
    for secret in container.get("Secrets", []):
        name = secret["Name"]
        assert re.fullmatch(r"\$\{" + name + r"(:[-?][^}$]*)?\}", service["environment"][name])
        assert secret["ValueFrom"]


def test_the_volume_is_mounted_at_the_same_path(service, container):
    """The named volume and the EFS volume are mounted at the same paths (or neither exists)."""
    compose_paths = {str(volume).split(":")[1] for volume in service.get("volumes", [])}
    ecs_paths = {mount["ContainerPath"] for mount in container.get("MountPoints", [])}
    assert compose_paths == ecs_paths
    data_dirs = {v["Value"] for v in container["Environment"] if v["Name"] == "DATA_DIR"}
    assert data_dirs <= ecs_paths
