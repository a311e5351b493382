"""Every rendered CloudFormation template is cfn-lint and checkov clean.

Identical rendered files are linted once: bootstrap.yaml varies with ci_provider
(its default) and database, the Dockerfile with python_version and use_volume;
service.yaml with database only (the volume is a parameter), volume.yaml exists
with the volume only and database.yaml with the database only.
"""

import json
import re
import shutil
from collections import Counter

import pytest
import yaml
from conftest import (
    MATRIX,
    OPTIONS,
    CloudFormationLoader,
    choices,
    distinct_files,
    environment_settings,
    removed_paths,
    require,
    run,
)
from moto.ecr.policy_validation import EcrLifecyclePolicyValidator

TEMPLATES = (
    "infra/bootstrap.yaml",
    "infra/service.yaml",
    "infra/volume.yaml",
    "infra/database.yaml",
)


def load(path):
    # A SafeLoader subclass: nothing but plain data and the intrinsic-function tags.
    return yaml.load(path.read_text(), CloudFormationLoader)


@pytest.fixture(scope="session")
def unique_files(baked, tmp_path_factory):
    """Copy each distinct rendered template and Dockerfile once into a fresh folder."""
    root = tmp_path_factory.mktemp("rendered")
    copies = []
    for relative in (*TEMPLATES, "Dockerfile"):
        having = [c for c in MATRIX if relative not in removed_paths(c)]
        for number, source in enumerate(distinct_files(baked, relative, having)):
            target = root / str(number) / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            copies.append(shutil.copyfile(source, target))
    return root, sorted(copies)


@pytest.fixture(scope="session")
def templates(unique_files):
    return [path for path in unique_files[1] if path.suffix == ".yaml"]


def test_every_template_variant_is_linted(templates):
    """Every rendering is here: bootstrap.yaml's per CI provider and database."""
    assert Counter(path.name for path in templates) == {
        "bootstrap.yaml": len(choices("ci_provider")) * len(choices("database")),
        "service.yaml": len(choices("database")),
        "volume.yaml": 1,
        "database.yaml": 1,
    }


def test_cfn_lint_finds_no_errors_and_no_warnings(templates):
    """cfn-lint exits 0: nothing at error or warning level in any variant."""
    cfn_lint = require("cfn-lint", "cfn-lint is in requirements-dev.txt")
    run(cfn_lint, "--format", "parseable", *templates)


@pytest.fixture(scope="session")
def checkov_results(unique_files):
    checkov = require("checkov", "make install puts checkov in .venv-checkov (own pins)")
    root, _ = unique_files
    # Exits 1 when a check fails: the tests below name the failures.
    result = run(
        checkov,
        "--directory",
        root,
        "--framework",
        "cloudformation",
        "dockerfile",
        "--skip-download",
        "--output",
        "json",
        expect=None,
    )
    reports = json.loads(result.stdout)
    reports = reports if isinstance(reports, list) else [reports]
    assert {report["check_type"] for report in reports} == {"cloudformation", "dockerfile"}
    return reports


def test_checkov_finds_no_failed_checks(checkov_results):
    """checkov fails nothing in the templates or the Dockerfiles."""
    failed = [
        f"{check['check_id']} {check['resource']} in {check['file_path']}: {check['check_name']}"
        for report in checkov_results
        for check in report["results"]["failed_checks"]
    ]
    assert not failed, "\n".join(failed)
    assert sum(report["summary"]["passed"] for report in checkov_results) > 0


def test_each_checkov_suppression_is_needed_and_explained(checkov_results, templates):
    """Every inline skip has a reason and silences a check that would fail without it."""
    declared = set()
    for path in templates:
        for logical_id, resource in load(path)["Resources"].items():
            for skip in resource.get("Metadata", {}).get("checkov", {}).get("skip", []):
                assert len(skip.get("comment", "").split()) >= 8, (path, logical_id, skip)
                declared.add((path.parent.parent.name, logical_id, skip["id"]))
    applied = {
        (
            check["file_path"].strip("/").split("/")[0],
            check["resource"].split(".")[-1],
            check["check_id"],
        )
        for report in checkov_results
        for check in report["results"]["skipped_checks"]
    }
    assert declared, "no suppressions found: has the Metadata format changed?"
    assert declared == applied


def service_template(templates):
    """The service stack without a database: its variant with one adds the database's
    parameters, settings, secrets and rules only, which test_iam.py and the generated
    test_task_definition_parity.py check."""
    paths = [path for path in templates if path.name == "service.yaml"]
    (path,) = [path for path in paths if "DatabaseHost" not in load(path)["Parameters"]]
    return load(path)


def test_the_log_driver_never_blocks_the_app(templates):
    """awslogs runs non-blocking with a bounded buffer: a log flood drops lines, never requests."""
    (container,) = service_template(templates)["Resources"]["TaskDefinition"]["Properties"][
        "ContainerDefinitions"
    ]
    options = container["LogConfiguration"]["Options"]
    assert options["mode"] == "non-blocking"
    size = re.fullmatch(r"(\d+)m", options["max-buffer-size"])
    assert size and 1 < int(size[1]) <= 64, options["max-buffer-size"]


def test_container_insights_is_an_environment_setting_off_by_default(templates, baked):
    """The cluster takes ContainerInsights from the stack; it is billed, so disabled unless set."""
    template = service_template(templates)
    (setting,) = template["Resources"]["Cluster"]["Properties"]["ClusterSettings"]
    assert setting == {"Name": "containerInsights", "Value": {"Ref": "ContainerInsights"}}
    parameter = template["Parameters"]["ContainerInsights"]
    assert parameter["Default"] == "disabled"
    assert "enhanced" in parameter["AllowedValues"]
    for path in sorted((baked(MATRIX[0]) / "infra/environments").glob("*.env")):
        assert environment_settings(path)["ContainerInsights"] in parameter["AllowedValues"], path


def substitute(text: str, values: dict) -> str:
    """Render an Fn::Sub string: each ${Name} becomes values[Name]."""
    return re.sub(r"\$\{([\w:]+)\}", lambda match: values[match[1]], text)


def test_ecr_expires_untagged_images_and_keeps_the_newest_tagged(templates):
    """The lifecycle policy, rendered with the defaults, is one moto accepts and bounds the repo."""
    for path in (path for path in templates if path.name == "bootstrap.yaml"):
        template = load(path)
        defaults = {name: str(p.get("Default")) for name, p in template["Parameters"].items()}
        text = template["Resources"]["Repository"]["Properties"]["LifecyclePolicy"][
            "LifecyclePolicyText"
        ]["Fn::Sub"]
        rendered = substitute(text, defaults)
        EcrLifecyclePolicyValidator(rendered).validate()
        untagged, tagged = json.loads(rendered)["rules"]
        assert untagged["selection"]["tagStatus"] == "untagged"
        assert untagged["selection"]["countType"] == "sinceImagePushed"
        assert tagged["selection"] == {
            "tagStatus": "tagged",
            "tagPatternList": ["*"],
            "countType": "imageCountMoreThan",
            "countNumber": int(defaults["KeptImageCount"]),
        }
        assert untagged["rulePriority"] < tagged["rulePriority"]


# The only subjects each provider's deploy role may trust: on GitHub the repository's
# staging and production environments, on GitLab its default branch.
TRUSTED_SUBJECTS = {
    "github": (
        "token.actions.githubusercontent.com",
        [
            {"Fn::Sub": "repo:${RepositoryPath}:environment:staging"},
            {"Fn::Sub": "repo:${RepositoryPath}:environment:production"},
        ],
    ),
    "gitlab": (
        "gitlab.com",
        {"Fn::Sub": "project_path:${RepositoryPath}:ref_type:branch:ref:${DefaultBranch}"},
    ),
}


def test_the_deploy_role_trusts_the_environments_or_the_default_branch_only(templates):
    """Each trust is StringEquals on aud and on sub: GitHub's environments, GitLab's branch.

    IAM checks no other claim the generated CI relies on (GitHub's environment branch rule
    is a repository setting; GitLab's ref_protected is not a condition key), so the docs ask
    for both.
    """
    documents = set()
    for path in (path for path in templates if path.name == "bootstrap.yaml"):
        trust = load(path)["Resources"]["DeployRole"]["Properties"]["AssumeRolePolicyDocument"]
        for provider, document in zip(("github", "gitlab"), trust["Fn::If"][1:], strict=True):
            issuer, subject = TRUSTED_SUBJECTS[provider]
            (statement,) = document["Statement"]
            assert set(statement["Condition"]) == {"StringEquals"}, provider
            assert statement["Condition"]["StringEquals"][f"{issuer}:sub"] == subject
            assert set(statement["Condition"]["StringEquals"]) == {f"{issuer}:aud", f"{issuer}:sub"}
            documents.add(provider)
    assert documents == set(TRUSTED_SUBJECTS)


def test_only_the_task_role_mounts_the_volume_through_its_one_access_point(templates):
    """The file system's policy delegates to the account; the task role's names the access point.

    With the account as principal the file system's policy grants nothing alone, so the task
    role's own policy, which names the volume stack's one access point, must allow as well.
    """
    (path,) = [path for path in templates if path.name == "volume.yaml"]
    statements = load(path)["Resources"]["FileSystem"]["Properties"]["FileSystemPolicy"][
        "Statement"
    ]
    deny, allow = statements
    assert (deny["Effect"], deny["Condition"]) == (
        "Deny",
        {"Bool": {"aws:SecureTransport": "false"}},
    )
    assert allow["Principal"] == {
        "AWS": {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"}
    }
    assert allow["Condition"]["ArnEquals"]["aws:PrincipalArn"]["Fn::Sub"].endswith(
        ":role/${ServiceName}-${EnvironmentName}-task"
    )
    (mount,) = service_template(templates)["Resources"]["TaskRoleDataVolumePolicy"]["Properties"][
        "PolicyDocument"
    ]["Statement"]
    assert mount["Condition"]["StringEquals"]["elasticfilesystem:AccessPointArn"][
        "Fn::Sub"
    ].endswith(":access-point/${AccessPointId}")
    assert mount["Condition"]["Bool"] == {"elasticfilesystem:AccessedViaMountTarget": "true"}


def test_the_load_balancer_is_protected_and_logs_every_request(templates):
    """Deletion protection on; access logs to an encrypted, private, expiring, retained bucket."""
    resources = service_template(templates)["Resources"]
    balancer = resources["LoadBalancer"]
    attributes = {a["Key"]: a["Value"] for a in balancer["Properties"]["LoadBalancerAttributes"]}
    assert attributes["deletion_protection.enabled"] == {"Ref": "LoadBalancerDeletionProtection"}
    assert (
        resources
        and service_template(templates)["Parameters"]["LoadBalancerDeletionProtection"]["Default"]
        == "true"
    )
    assert attributes["access_logs.s3.enabled"] == "true"
    assert attributes["access_logs.s3.bucket"] == {"Ref": "AccessLogBucket"}
    assert "access_logs.s3.prefix" not in attributes  # the policy's path assumes none
    assert balancer["DependsOn"] == "AccessLogBucketPolicy"

    bucket = resources["AccessLogBucket"]
    assert (bucket["DeletionPolicy"], bucket["UpdateReplacePolicy"]) == ("Retain", "Retain")
    properties = bucket["Properties"]
    (encryption,) = properties["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert encryption["ServerSideEncryptionByDefault"] == {"SSEAlgorithm": "AES256"}
    assert set(properties["PublicAccessBlockConfiguration"].values()) == {True}
    assert len(properties["PublicAccessBlockConfiguration"]) == 4
    (rule,) = properties["LifecycleConfiguration"]["Rules"]
    assert (rule["Status"], rule["ExpirationInDays"]) == (
        "Enabled",
        {"Ref": "AccessLogRetentionDays"},
    )

    statements = resources["AccessLogBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    delivery, tls = statements
    assert delivery["Principal"] == {"Service": "logdelivery.elasticloadbalancing.amazonaws.com"}
    assert (delivery["Effect"], delivery["Action"]) == ("Allow", "s3:PutObject")
    assert delivery["Resource"] == {"Fn::Sub": "${AccessLogBucket.Arn}/AWSLogs/${AWS::AccountId}/*"}
    assert (tls["Effect"], tls["Condition"]) == ("Deny", {"Bool": {"aws:SecureTransport": "false"}})


@pytest.mark.parametrize(
    "options",
    [c for c in MATRIX if not c["use_volume"]][:1]
    + [c for c in MATRIX if c["use_volume"]][:1]
    + [c for c in MATRIX if c["database"] == "postgres"][:1],
)
def test_every_environment_setting_is_a_stack_parameter(options, baked):
    """Each key of each infra/environments/*.env is a stack parameter: a typo fails here.

    The service stack's, or the database stack's, which deploy.sh gives the settings it declares.
    """
    project = baked(options)
    parameters = {
        name
        for stack in ("service", "database")
        if (path := project / f"infra/{stack}.yaml").exists()
        for name in load(path)["Parameters"]
    }
    files = sorted((project / "infra/environments").glob("*.env"))
    assert [path.stem for path in files] == ["production", "staging"]
    for path in files:
        settings = environment_settings(path)
        assert settings, path
        unknown = set(settings) - parameters
        assert not unknown, f"{path.name}: not parameters of infra/service.yaml: {sorted(unknown)}"
        assert "ImageUri" not in settings and "EnvironmentName" not in settings


def test_staging_runs_one_task_and_production_the_desired_count_option(baked):
    """Staging: one task, no deletion protection; production: desired_count tasks, protected."""
    project = baked(MATRIX[0])
    staging = environment_settings(project / "infra/environments/staging.env")
    production = environment_settings(project / "infra/environments/production.env")
    assert (staging["DesiredCount"], staging["LoadBalancerDeletionProtection"]) == ("1", "false")
    assert production["DesiredCount"] == OPTIONS["desired_count"]
    assert production["LoadBalancerDeletionProtection"] == "true"
    assert staging["CertificateArn"] == production["CertificateArn"] == ""


def test_the_database_is_private_encrypted_backed_up_and_kept_as_a_snapshot(templates, baked):
    """RDS for PostgreSQL 17: encrypted, private, 7 days of backups, RDS's own password.

    Deleting or replacing it leaves a final snapshot; production refuses the deletion.
    """
    (path,) = [path for path in templates if path.name == "database.yaml"]
    template = load(path)
    database = template["Resources"]["Database"]
    assert (database["DeletionPolicy"], database["UpdateReplacePolicy"]) == ("Snapshot",) * 2
    properties = database["Properties"]
    assert (properties["Engine"], properties["EngineVersion"].split(".")[0]) == ("postgres", "17")
    assert properties["StorageEncrypted"] is True
    assert properties["PubliclyAccessible"] is False
    assert properties["BackupRetentionPeriod"] == 7
    assert properties["ManageMasterUserPassword"] is True
    assert properties["DeletionProtection"] == {"Ref": "DatabaseDeletionProtection"}
    assert template["Parameters"]["DatabaseInstanceClass"]["Default"] == "db.t4g.micro"
    # No password anywhere a person or a stack event could read it.
    names = [*template["Parameters"], *template["Outputs"], *properties]
    assert not [name for name in names if "Password" in name and name != "ManageMasterUserPassword"]
    # Closed until the service stack admits its tasks.
    group = template["Resources"]["DatabaseSecurityGroup"]["Properties"]
    assert "SecurityGroupIngress" not in group
    project = baked(next(c for c in MATRIX if c["database"] == "postgres"))
    protection = {
        environment: environment_settings(project / f"infra/environments/{environment}.env")[
            "DatabaseDeletionProtection"
        ]
        for environment in ("staging", "production")
    }
    assert protection == {"staging": "false", "production": "true"}
