"""The database's settings: the same names in compose.yaml and in the task definition."""

import test_task_definition_parity as parity
from test_task_definition_parity import environment_names, task_environment_names

# The parity test's fixtures: compose.yaml's app service and the task definition's container.
service, container, task_definition = parity.service, parity.container, parity.task_definition

# The database's settings, the same names in compose.yaml (its db service) and on ECS.
DATABASE_SETTINGS = {
    "DATABASE_HOST",
    "DATABASE_PORT",
    "DATABASE_NAME",
    "DATABASE_USER",
    "DATABASE_PASSWORD",
    "DATABASE_SSLMODE",
}


def test_the_database_settings_have_the_same_names(service, container):
    """Both name every DATABASE_* setting; on ECS the user and password are the RDS secret's.

    The values differ by design: compose's db service has no TLS (DATABASE_SSLMODE disable),
    RDS requires it.
    """
    compose = {name for name in environment_names(service) if name.startswith("DATABASE_")}
    ecs = {name for name in task_environment_names(container) if name.startswith("DATABASE_")}
    assert compose == ecs == DATABASE_SETTINGS
    secrets = {s["Name"]: s["ValueFrom"] for s in container["Secrets"]}
    assert secrets["DATABASE_USER"] == {"Fn::Sub": "${DatabaseSecretArn}:username::"}
    assert secrets["DATABASE_PASSWORD"] == {"Fn::Sub": "${DatabaseSecretArn}:password::"}
    environment = {v["Name"]: v["Value"] for v in container["Environment"]}
    assert environment["DATABASE_SSLMODE"] == "require"
