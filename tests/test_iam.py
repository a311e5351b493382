"""Every IAM role of the rendered stacks holds what its users need, and no more, offline.

- The CloudFormation role (infra/bootstrap.yaml) allows every permission that the
  resource handlers of the service, volume and database stacks' types list under `handlers`
  in their resource provider schemas, the copies cfn-lint ships.
- The CI deploy role calls directly exactly what the deploy scripts call (each
  `aws <service> <command>` mapped to its IAM action through botocore's service
  models), docker push and the scan gate of build_image, and passes that one role, and
  with a database the task roles to the migrations' task.
- The execution and task roles hold each permission something in the repo uses,
  as the tables below say, and nothing else.

IAM matching is by action name with IAM's wildcards; which resources a statement names
is checked where it matters (iam:PassRole, "*" only where IAM has no resource type).
What AWS would do with the policies is not run here: tests/test_deploy.py runs the
CI role's actions against moto, which enforces actions but not resources or conditions.
"""

import fnmatch
import hashlib
import re
from functools import cache

import botocore.session
import pytest
import yaml
from cfnlint.data import AdditionalSpecs
from cfnlint.helpers import load_resource
from cfnlint.schema import PROVIDER_SCHEMA_MANAGER
from conftest import MATRIX, PROJECT_TEMPLATE, CloudFormationLoader, option_id

REGION = "us-east-1"
# CloudFormation calls read after create and update, so its permissions count too.
HANDLERS = ("create", "read", "update", "delete")
STACKS = ("infra/service.yaml", "infra/volume.yaml", "infra/database.yaml")
ROLE_TYPES = ("AWS::IAM::Role",)
# The Service Authorization Reference as cfn-lint ships it: service -> actions -> resource types.
SERVICE_AUTHORIZATION = load_resource(AdditionalSpecs, "Policies.json")

# Actions on "*" although the reference lists a resource type for them: the type is
# optional and the handler's call names none.
STAR_DESPITE_RESOURCE_TYPE = {
    "cloudwatch:GetMetricData": "a metrics dataset ARN applies only to calls that name one",
}

# CLI commands that are no API operation of their own name, and what they call.
CLI_COMMAND_ACTIONS = {
    "cloudformation deploy": [
        # awscli/customizations/cloudformation/deployer.py, in call order.
        "cloudformation:DescribeStacks",
        "cloudformation:GetTemplateSummary",
        "cloudformation:CreateChangeSet",
        "cloudformation:DescribeChangeSet",
        "cloudformation:ExecuteChangeSet",
    ],
    "ecr get-login-password": ["ecr:GetAuthorizationToken"],
    # AWS asks no permission of GetCallerIdentity.
    "sts get-caller-identity": [],
}

# What CI calls beyond the scripts' aws commands, and why.
CI_BEYOND_AWS_COMMANDS = {
    # docker push to ECR (the ECR user guide's "pushing an image" policy).
    "ecr:BatchCheckLayerAvailability": "docker push",
    "ecr:InitiateLayerUpload": "docker push",
    "ecr:UploadLayerPart": "docker push",
    "ecr:CompleteLayerUpload": "docker push",
    "ecr:PutImage": "docker push",
    "ecr:GetDownloadUrlForLayer": "docker pull of a pushed layer (buildx cache, attestations)",
    "iam:PassRole": "aws cloudformation deploy --role-arn",
}

# Permission -> what in the repo uses it. Each is needed, and none is missing.
EXECUTION_ROLE_USES = {
    "ecr:GetAuthorizationToken": "ECS logs in to ECR to pull the image (ImageUri)",
    "ecr:BatchCheckLayerAvailability": "ECS pulls the image from this service's repository",
    "ecr:BatchGetImage": "ECS pulls the image from this service's repository",
    "ecr:GetDownloadUrlForLayer": "ECS pulls the image from this service's repository",
    "logs:CreateLogStream": "the awslogs driver of the container's LogConfiguration",
    "logs:PutLogEvents": "the awslogs driver of the container's LogConfiguration",
    "ssm:GetParameters": "ECS reads the container's Secrets (API_TOKENS) as the task starts",
    "secretsmanager:GetSecretValue": (
        "ECS reads DATABASE_USER and DATABASE_PASSWORD from the database's secret (with a database)"
    ),
}
TASK_ROLE_USES = {
    "elasticfilesystem:ClientMount": "the task mounts the volume with IAM authorization",
    "elasticfilesystem:ClientWrite": "the volume's mount point is writable (files.py writes /data)",
    "ssmmessages:CreateControlChannel": "ECS Exec's SSM agent in the task (make exec)",
    "ssmmessages:CreateDataChannel": "ECS Exec's SSM agent in the task (make exec)",
    "ssmmessages:OpenControlChannel": "ECS Exec's SSM agent in the task (make exec)",
    "ssmmessages:OpenDataChannel": "ECS Exec's SSM agent in the task (make exec)",
}
# Where ECS Exec's SSM agent writes, which the read-only root refuses.
EXEC_AGENT_PATHS = {"/managed-agents", "/var/lib/amazon/ssm", "/var/log/amazon/ssm"}


def load(path):
    return yaml.load(path.read_text(), CloudFormationLoader)


def as_list(value):
    return value if isinstance(value, list) else [value]


def role_statements(template: dict, role: str) -> list[dict]:
    """The statements of a role's inline policies and of the AWS::IAM::Policy naming it."""
    resources = template["Resources"]
    documents = [p["PolicyDocument"] for p in resources[role]["Properties"].get("Policies", [])]
    documents += [
        resource["Properties"]["PolicyDocument"]
        for resource in resources.values()
        if resource["Type"] == "AWS::IAM::Policy"
        and {"Ref": role} in resource["Properties"]["Roles"]
    ]
    return [statement for document in documents for statement in document["Statement"]]


def allowed_actions(statements: list[dict]) -> set[str]:
    return {
        action
        for statement in statements
        if statement["Effect"] == "Allow"
        for action in as_list(statement["Action"])
    }


def allows(statements: list[dict], action: str) -> bool:
    """IAM's action matching: case-insensitive, with * and ? wildcards."""
    return any(
        fnmatch.fnmatchcase(action.lower(), pattern.lower())
        for pattern in allowed_actions(statements)
    )


def is_iam_action(action: str) -> bool:
    service, name = action.split(":", 1)
    return name.lower() in SERVICE_AUTHORIZATION.get(service, {}).get("Actions", {})


@cache
def handler_permissions(resource_type: str) -> dict[str, set[str]]:
    """Map each IAM action a type's handlers list to the handlers listing it."""
    schema = PROVIDER_SCHEMA_MANAGER.get_resource_schema(REGION, resource_type).schema
    needed: dict[str, set[str]] = {}
    for handler in HANDLERS:
        for permission in schema.get("handlers", {}).get(handler, {}).get("permissions", []):
            # Some schemas list API operation names that IAM has no action for (such as
            # s3:DeleteBucketCors, which IAM authorizes as s3:PutBucketCORS): IAM never
            # checks those, and cfn-lint's W3037 refuses them in a policy.
            if is_iam_action(permission):
                needed.setdefault(permission, set()).add(handler)
    return needed


def missing_handler_permissions(statements: list[dict], stacks: list[dict]) -> list[str]:
    """Name each handler permission the statements do not allow, with the type needing it."""
    return sorted(
        f"{action} (needed by {resource_type}: {', '.join(sorted(handlers))})"
        for resource_type in sorted(
            {r["Type"] for stack in stacks for r in stack["Resources"].values()}
        )
        for action, handlers in handler_permissions(resource_type).items()
        if not allows(statements, action)
    )


@pytest.fixture(scope="session")
def variants(baked):
    """Each distinct rendering of the bootstrap, service and volume stacks, with its options."""
    found: dict[str, dict] = {}
    for options in MATRIX:
        project = baked(options)
        paths = [
            project / "infra/bootstrap.yaml",
            *(p for s in STACKS if (p := project / s).exists()),
        ]
        digest = hashlib.sha256(b"".join(path.read_bytes() for path in paths)).hexdigest()
        variant = found.setdefault(
            digest,
            {
                "project": project,
                "bootstrap": load(paths[0]),
                "stacks": [load(p) for p in paths[1:]],
            },
        )
        variant.setdefault("combinations", []).append(option_id(options))
    return list(found.values())


def test_the_variants_cover_the_ci_providers_and_the_volume(variants):
    """Every CI provider, volume setting and database renders a stack set checked here."""
    assert {len(variant["stacks"]) for variant in variants} == {1, 2, 3}
    providers = {
        variant["bootstrap"]["Parameters"]["CiProvider"]["Default"] for variant in variants
    }
    assert providers == {"github", "gitlab", "none"}


def test_the_cloudformation_role_allows_every_handler_permission(variants):
    """Each action the handlers of the stacks' resource types need is allowed, in every variant."""
    for variant in variants:
        statements = role_statements(variant["bootstrap"], "CloudFormationExecutionRole")
        missing = missing_handler_permissions(statements, variant["stacks"])
        assert not missing, (
            f"{variant['combinations']}: infra/bootstrap.yaml's CloudFormationExecutionRole "
            "lacks:\n" + "\n".join(missing)
        )


def test_a_removed_action_fails_the_check_naming_it_and_the_type_needing_it(variants):
    """Without ecs:TagResource the check names it and the resource types whose handlers need it."""
    (variant, *_) = variants
    statements = [
        {**s, "Action": [a for a in as_list(s["Action"]) if a != "ecs:TagResource"]}
        for s in role_statements(variant["bootstrap"], "CloudFormationExecutionRole")
    ]
    missing = missing_handler_permissions(statements, variant["stacks"])
    assert "ecs:TagResource (needed by AWS::ECS::Service: create, update)" in missing
    assert all(line.startswith("ecs:TagResource ") for line in missing), missing
    assert {re.search(r"AWS::\w+::\w+", line).group() for line in missing} == {
        "AWS::ECS::Cluster",
        "AWS::ECS::Service",
        "AWS::ECS::TaskDefinition",
    }


def every_role(variant):
    """(stack, logical ID, statements) of every role in a variant's stacks."""
    for name, template in (
        ("bootstrap", variant["bootstrap"]),
        *(("stack", t) for t in variant["stacks"]),
    ):
        for logical_id, resource in template["Resources"].items():
            if resource["Type"] in ROLE_TYPES:
                yield name, logical_id, role_statements(template, logical_id)


def test_no_role_allows_every_action_of_a_service(variants):
    """No role has a "*" action, a service's every action (iam:*), or a NotAction."""
    for variant in variants:
        for stack, role, statements in every_role(variant):
            for statement in statements:
                assert "NotAction" not in statement, (stack, role, statement)
                for action in as_list(statement["Action"]):
                    assert action != "*" and not action.endswith(":*"), (stack, role, action)


def test_a_role_names_every_resource_iam_can_scope(variants):
    """A statement on "*" holds only actions for which IAM knows no resource type."""
    for variant in variants:
        for stack, role, statements in every_role(variant):
            for statement in statements:
                if statement.get("Resource") != "*":
                    continue
                for action in as_list(statement["Action"]):
                    service, name = action.split(":", 1)
                    types = SERVICE_AUTHORIZATION[service]["Actions"][name.lower()].get("Resources")
                    assert not types or action in STAR_DESPITE_RESOURCE_TYPE, (
                        f"{stack} {role}: {action} on '*', but IAM scopes it to {types}"
                    )


def passed_roles(statements: list[dict]) -> list[tuple]:
    """(resources, the service they are passed to) of each iam:PassRole statement."""
    return [
        (as_list(s["Resource"]), s["Condition"]["StringEquals"]["iam:PassedToService"])
        for s in statements
        if allows([s], "iam:PassRole")
    ]


def service_role_arns(*suffixes: str) -> list[dict]:
    """The ARN patterns of the service stack's roles named <service>-<environment>-<suffix>."""
    return [
        {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/${ServiceName}-*-" + suffix}
        for suffix in suffixes
    ]


def test_each_role_passes_only_the_roles_it_must(variants):
    """CloudFormation passes the task and traffic roles to ECS, CI the CloudFormation role.

    With a database CI also passes the task roles to ECS: the migrations' task runs as the
    service's tasks do (scripts/deploy.sh, run_migrations).
    """
    migrations = (service_role_arns("execution", "task"), "ecs-tasks.amazonaws.com")
    expected = {
        "CloudFormationExecutionRole": [
            (service_role_arns("execution", "task"), "ecs-tasks.amazonaws.com"),
            (service_role_arns("traffic"), "ecs.amazonaws.com"),
        ],
        "DeployRole": [
            (
                [{"Fn::GetAtt": ["CloudFormationExecutionRole", "Arn"]}],
                "cloudformation.amazonaws.com",
            )
        ],
    }
    for variant in variants:
        has_database = (variant["project"] / "infra/database.yaml").exists()
        for stack, role, statements in every_role(variant):
            passed = expected.get(role, [])
            if role == "DeployRole" and has_database:
                passed = [*passed, migrations]
            assert passed_roles(statements) == passed, (stack, role)
        service = next(t for t in variant["stacks"] if "TaskDefinition" in t["Resources"])
        properties = service["Resources"]["TaskDefinition"]["Properties"]
        # The two roles passed are the task definition's.
        names = [
            service["Resources"][properties[key]["Fn::GetAtt"][0]]["Properties"]["RoleName"]
            for key in ("ExecutionRoleArn", "TaskRoleArn")
        ]
        assert names == [
            {"Fn::Sub": "${ServiceName}-${EnvironmentName}-execution"},
            {"Fn::Sub": "${ServiceName}-${EnvironmentName}-task"},
        ]
        # The third is the service's own, for CANARY and BLUE_GREEN.
        (load_balancer,) = service["Resources"]["Service"]["Properties"]["LoadBalancers"]["Fn::If"][
            1
        ]
        role = load_balancer["AdvancedConfiguration"]["RoleArn"]["Fn::GetAtt"][0]
        assert service["Resources"][role]["Properties"]["RoleName"] == {
            "Fn::Sub": "${ServiceName}-${EnvironmentName}-traffic"
        }


def test_the_traffic_role_is_ecs_s_with_aws_s_policy_for_load_balancers_only(variants):
    """ECS alone assumes it; it holds the managed policy ECS documents and no policy of its own.

    The managed policy's statements are AWS's and not shipped offline, so they are not read here.
    """
    for variant in variants:
        (service,) = [t for t in variant["stacks"] if "TaskDefinition" in t["Resources"]]
        role = service["Resources"]["LoadBalancerTrafficRole"]
        assert role["Condition"] == "ShiftsTraffic"
        (trust,) = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
        assert trust["Principal"] == {"Service": "ecs.amazonaws.com"}
        assert role["Properties"]["ManagedPolicyArns"] == [
            {
                "Fn::Sub": "arn:${AWS::Partition}:iam::aws:policy/"
                "AmazonECSInfrastructureRolePolicyForLoadBalancers"
            }
        ]
        assert role_statements(service, "LoadBalancerTrafficRole") == []


@cache
def cli_actions(service: str, command: str, argument: str = "") -> tuple[str, ...]:
    """The IAM actions an `aws service command` calls, from botocore's service model."""
    if f"{service} {command}" in CLI_COMMAND_ACTIONS:
        return tuple(CLI_COMMAND_ACTIONS[f"{service} {command}"])
    session = botocore.session.get_session()
    model = session.get_service_model(service)
    if command == "wait":
        waiter_name = "".join(part.title() for part in argument.split("-"))
        operation = session.get_waiter_model(service).get_waiter(waiter_name).operation
    else:
        (operation,) = [
            name
            for name in model.operation_names
            if botocore.xform_name(name).replace("_", "-") == command
        ]
    return (f"{model.signing_name}:{operation}",)


# An aws command where one starts (line start, $(, |, if/!), not one quoted in a message.
AWS_COMMAND = re.compile(
    r"(?:^|\$\(|\|\s*|\bif\s+(?:!\s+)?)aws ([a-z0-9-]+) ([a-z0-9-]+)(?: ([a-z-]+))?"
)


# make destroy, the secrets (make secret-set, -list, -unset) and the operations targets
# (status, logs, exec, rollback, run-task) are a person's; CI runs deploy.sh and whatever
# it sources or calls, so a file that deploy.sh sources is CI's too (with a database, the
# migrations' one_off_task.sh and log_events.sh).
PERSON_ONLY_SCRIPTS = {
    "destroy.sh",
    "exec.sh",
    "log_events.sh",
    "one_off_task.sh",
    "logs.sh",
    "releases.sh",
    "rollback.sh",
    "run_task.sh",
    "secrets.sh",
    "status.sh",
}


# A file a script sources: source "$(dirname "${BASH_SOURCE[0]}")/name.sh".
SOURCED = re.compile(
    r'^source "\$\(dirname "\$\{BASH_SOURCE\[0\]\}"\)/([a-z_]+\.sh)"', re.MULTILINE
)


def script_commands(project) -> set[tuple[str, str, str]]:
    """(service, command, waiter or "") of each aws command that CI's scripts run."""
    found = set()
    sourced_by_deploy = set(SOURCED.findall((project / "scripts/deploy.sh").read_text()))
    for script in sorted((project / "scripts").glob("*.sh")):
        if script.name in PERSON_ONLY_SCRIPTS - sourced_by_deploy:
            continue
        for line in script.read_text().splitlines():
            line = line.strip()
            if not line.startswith("#"):
                for service, command, argument in AWS_COMMAND.findall(line):
                    found.add((service, command, argument if command == "wait" else ""))
    return found


def test_the_scripts_aws_commands_are_found(variants):
    """The command finder sees the calls deploy.sh makes, and none it only prints."""
    commands = script_commands(variants[0]["project"])
    assert ("cloudformation", "deploy", "") in commands
    assert ("cloudformation", "wait", "stack-delete-complete") in commands
    assert ("ecr", "get-login-password", "") in commands
    # Printed for the reader only: "logs: aws logs tail ...", "aws ssm get-parameter ...".
    assert not {(s, c) for s, c, _ in commands} & {("logs", "tail"), ("ssm", "get-parameter")}


def test_the_ci_role_calls_exactly_what_the_deploy_scripts_call(variants):
    """The deploy role allows what deploy.sh's aws commands, docker push and the scan gate call."""
    for variant in variants:
        if "DeployRole" not in variant["bootstrap"]["Resources"]:
            continue
        commands = script_commands(variant["project"])
        needed = {
            action
            for service, command, argument in commands
            for action in cli_actions(service, command, argument)
        } | set(CI_BEYOND_AWS_COMMANDS)
        actions = allowed_actions(role_statements(variant["bootstrap"], "DeployRole"))
        assert actions == needed, (
            f"{variant['combinations']}: missing {sorted(needed - actions)}, "
            f"unused {sorted(actions - needed)}"
        )


def test_the_ci_role_drives_only_this_services_stacks_never_the_bootstrap_stack(variants):
    """Change sets on <service>-* stacks, through the CloudFormation role; never on bootstrap."""
    stacks = {
        "Fn::Sub": "arn:${AWS::Partition}:cloudformation:${AWS::Region}:${AWS::AccountId}"
        ":stack/${ServiceName}-*/*"
    }
    for variant in variants:
        if "DeployRole" not in variant["bootstrap"]["Resources"]:
            continue
        statements = role_statements(variant["bootstrap"], "DeployRole")
        cloudformation = [
            s
            for s in statements
            if any(a.startswith("cloudformation:") for a in as_list(s["Action"]))
        ]
        allowed = [s for s in cloudformation if s["Effect"] == "Allow"]
        assert all(s["Resource"] == stacks for s in allowed)
        (changes,) = [s for s in allowed if "cloudformation:CreateChangeSet" in s["Action"]]
        assert changes["Condition"] == {
            "StringEquals": {
                "cloudformation:RoleArn": {"Fn::GetAtt": ["CloudFormationExecutionRole", "Arn"]}
            }
        }
        (deny,) = [s for s in cloudformation if s["Effect"] == "Deny"]
        assert deny["Resource"] == {"Ref": "AWS::StackId"}
        writes = {
            a
            for s in allowed
            for a in s["Action"]
            if not a.split(":")[1].startswith(("Describe", "Get", "List"))
        }
        assert set(deny["Action"]) == writes


def task_definition(service: dict) -> dict:
    return service["Resources"]["TaskDefinition"]["Properties"]


def test_the_execution_role_holds_what_ecs_uses_to_start_the_task(variants):
    """Pull the image, write the logs, read the secrets: each permission used, none missing."""
    used = set()
    for variant in variants:
        (service,) = [t for t in variant["stacks"] if "TaskDefinition" in t["Resources"]]
        (container,) = task_definition(service)["ContainerDefinitions"]
        needed = {
            "ecr:GetAuthorizationToken",
            "ecr:BatchCheckLayerAvailability",
            "ecr:BatchGetImage",
            "ecr:GetDownloadUrlForLayer",
        }
        log = container["LogConfiguration"]
        if log["LogDriver"] == "awslogs":
            needed |= {"logs:CreateLogStream", "logs:PutLogEvents"}
        values = [secret["ValueFrom"]["Fn::Sub"] for secret in container.get("Secrets", [])]
        secrets = [value for value in values if ":ssm:" in value]
        if secrets:
            needed.add("ssm:GetParameters")
        database_secret = "${DatabaseSecretArn}"
        if any(value.startswith(database_secret + ":") for value in values):
            needed.add("secretsmanager:GetSecretValue")
        statements = role_statements(service, "ExecutionRole")
        assert allowed_actions(statements) == needed
        used |= needed
        # On what the task definition names: its log group and its parameter.
        by_action = {a: s["Resource"] for s in statements for a in as_list(s["Action"])}
        assert log["Options"]["awslogs-group"] == {"Ref": "LogGroup"}
        assert by_action["logs:PutLogEvents"] == {"Fn::GetAtt": ["LogGroup", "Arn"]}
        # Its own environment's path only, which holds every secret the container reads.
        environment_path = (
            "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}"
            ":parameter/${ServiceName}/${EnvironmentName}/"
        )
        assert by_action["ssm:GetParameters"] == {"Fn::Sub": environment_path + "*"}
        assert secrets and all(value.startswith(environment_path) for value in secrets)
        # The database's two keys, from its one secret, which the role reads and no other.
        if "secretsmanager:GetSecretValue" in needed:
            assert sorted(set(values) - set(secrets)) == [
                database_secret + ":password::",
                database_secret + ":username::",
            ]
            assert by_action["secretsmanager:GetSecretValue"] == {"Ref": "DatabaseSecretArn"}
        assert by_action["ecr:BatchGetImage"] == {
            "Fn::Sub": "arn:${AWS::Partition}:ecr:${AWS::Region}:${AWS::AccountId}"
            ":repository/${ServiceName}"
        }
    assert used == set(EXECUTION_ROLE_USES)


def test_the_task_role_holds_what_the_application_uses(variants):
    """Mount and write the volume when there is one, ECS Exec's channels when exec is on.

    The application itself calls no AWS API. Each permission sits in a policy that exists
    only under the condition of what uses it.
    """
    package = next(PROJECT_TEMPLATE.glob("src/*"))
    sources = "\n".join(path.read_text() for path in package.rglob("*.py"))
    assert not re.search(r"^\s*(import|from)\s+(boto3|botocore)", sources, re.MULTILINE)
    for variant in variants:
        (service,) = [t for t in variant["stacks"] if "TaskDefinition" in t["Resources"]]
        properties = task_definition(service)
        # Each entry is there under one condition: {"Fn::If": [condition, item, AWS::NoValue]}.
        volumes = [entry["Fn::If"][:2] for entry in properties["Volumes"]]
        (container,) = properties["ContainerDefinitions"]
        mounts = [entry["Fn::If"][:2] for entry in container["MountPoints"]]
        data = [volume for condition, volume in volumes if condition == "HasVolume"]
        data_mounts = [mount for condition, mount in mounts if condition == "HasVolume"]
        needed = set()
        if any(
            v["EFSVolumeConfiguration"]["AuthorizationConfig"]["IAM"] == "ENABLED" for v in data
        ):
            needed.add("elasticfilesystem:ClientMount")
        if any(mount["ReadOnly"] is False for mount in data_mounts):
            needed.add("elasticfilesystem:ClientWrite")
        exec_switch = service["Resources"]["Service"]["Properties"]["EnableExecuteCommand"]
        if exec_switch == {"Fn::If": ["ExecOn", True, False]}:
            needed |= {action for action in TASK_ROLE_USES if action.startswith("ssmmessages:")}
        assert (
            allowed_actions(role_statements(service, "TaskRole")) == needed == set(TASK_ROLE_USES)
        )
        resources = service["Resources"]
        assert resources["TaskRoleDataVolumePolicy"]["Condition"] == "HasVolume"
        assert resources["TaskRoleExecPolicy"]["Condition"] == "ExecOn"
        exec_volumes = {volume["Name"] for condition, volume in volumes if condition == "ExecOn"}
        exec_mounts = [mount for condition, mount in mounts if condition == "ExecOn"]
        assert {mount["ContainerPath"] for mount in exec_mounts} == EXEC_AGENT_PATHS
        assert {mount["SourceVolume"] for mount in exec_mounts} == exec_volumes
        assert all(mount["ReadOnly"] is False for mount in exec_mounts)


def test_ecs_exec_is_on_in_staging_and_off_in_production(variants):
    """A shell in a task: for trying changes in staging, not in production by default."""
    settings = {}
    for path in (variants[0]["project"] / "infra" / "environments").glob("*.env"):
        lines = (line.split("#", 1)[0].strip() for line in path.read_text().splitlines())
        settings[path.stem] = dict(line.split("=", 1) for line in lines if line)
    assert settings["staging"]["ExecEnabled"] == "true"
    assert settings["production"]["ExecEnabled"] == "false"
    (service,) = [t for t in variants[0]["stacks"] if "TaskDefinition" in t["Resources"]]
    assert service["Parameters"]["ExecEnabled"]["Default"] == "false"
