"""scripts/scan_gate.sh of a baked repo, run with the real AWS CLI against a scripted ECR API.

The gate resolves the pushed tag to the image index BuildKit writes with an SBOM and
provenance, waits for ECR's scan of the index's linux/amd64 image (never of the
unknown/unknown attestation entry, which ECR cannot scan: moby/buildkit#3499), and
lets the deploy go on only when that scan finished without findings at or above
SCAN_FAIL_SEVERITY. tests/fake_ecr.py says why the API is scripted rather than moto.
What this cannot show: that AWS's scan on push reaches the index's linux/amd64 image
(the gate starts a scan when none exists, tested below), and the real scanner's findings.
"""

import os
import sys
from pathlib import Path

import pytest
import test_deploy
from conftest import run
from fake_ecr import (
    OCI_INDEX,
    OCI_MANIFEST,
    FakeEcr,
    Image,
    attested_index,
    digest_of,
    finding,
    image_manifest,
    scan,
    serve,
)
from test_deploy import SCENARIOS, aws, make, network, outputs

# The deploy tier's moto_server and the environment of make deploy, as test_deploy.py has them.
emulator = test_deploy.emulator
aws_env = test_deploy.aws_env

REPOSITORY = "orders-service"
REGISTRY = "123456789012.dkr.ecr.us-east-1.amazonaws.com"
TAG = "0123456789ab"
IMAGE_URI = f"{REGISTRY}/{REPOSITORY}:{TAG}"
DEFAULT = {"python_version": "3.13", "use_volume": False, "ci_provider": "github"}

CLEAN = scan("COMPLETE", "The scan was completed successfully.", [])
OPENSSL = finding("CRITICAL", "CVE-2026-0001", "openssl", "3.5.1-1")
ZLIB = finding("HIGH", "CVE-2026-0002", "zlib1g", "1:1.3.dfsg-3")
LOW = finding("LOW", "CVE-2026-0003", "tar", "1.35+dfsg-3")


@pytest.fixture
def ecr():
    """A scripted ECR API with an empty repository, and the server answering for it."""
    fake = FakeEcr(REPOSITORY)
    server, url = serve(fake)
    fake.url = url
    yield fake
    server.shutdown()
    server.server_close()


@pytest.fixture
def gate(baked, ecr, tmp_path):
    """Return a function running the baked repo's scan gate on an image, against ecr."""
    project = baked(DEFAULT)
    env = {name: value for name, value in os.environ.items() if not name.startswith("AWS_")}
    env.update(
        AWS_ENDPOINT_URL=ecr.url,
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_REGION="us-east-1",
        AWS_DEFAULT_REGION="us-east-1",
        AWS_CONFIG_FILE=str(tmp_path / "config"),
        AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "credentials"),
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
    )
    env.pop("SCAN_FAIL_SEVERITY", None)

    def run_gate(image_uri=IMAGE_URI, expect=0, **variables):
        return run(
            "scripts/scan_gate.sh", image_uri, cwd=project, env={**env, **variables}, expect=expect
        )

    return run_gate


def push_attested(ecr, scans, attestation_scans=None, after_start=()):
    """Put what BuildKit pushes with attestations: the image, its attestation manifest, the index.

    Returns (platform image, index). The attestation entry's scan is UNSUPPORTED_IMAGE, as
    ECR reports for it, unless given.
    """
    platform = ecr.add(
        Image(image_manifest("app"), OCI_MANIFEST, scans=list(scans), after_start=list(after_start))
    )
    attestation = ecr.add(
        Image(
            image_manifest("in-toto attestations"),
            OCI_MANIFEST,
            scans=attestation_scans or [scan("UNSUPPORTED_IMAGE", "UnsupportedImageError")],
        )
    )
    index = ecr.add(
        Image(attested_index(platform.digest, attestation.digest), OCI_INDEX, tags=[TAG])
    )
    return platform, index


def test_an_attested_image_is_gated_on_its_linux_amd64_image(ecr, gate):
    """The index resolves to its linux/amd64 image, the only digest whose scan is read."""
    platform, index = push_attested(ecr, [scan("COMPLETE", "", [ZLIB, LOW])])
    result = gate()
    assert f"image index {index.digest}; its linux/amd64 image" in result.stdout
    assert platform.digest in result.stdout
    assert set(ecr.scanned_digests("DescribeImageScanFindings")) == {platform.digest}
    assert "scan COMPLETE: 2 findings, none of severity CRITICAL or above" in result.stdout


def test_a_critical_finding_blocks_and_is_named(ecr, gate):
    """A CRITICAL finding stops the deploy: severity, CVE, package and version, then what to do."""
    platform, _ = push_attested(ecr, [scan("COMPLETE", "", [OPENSSL, ZLIB])])
    result = gate(expect=1)
    assert "ECR found vulnerabilities of severity CRITICAL or above" in result.stderr
    assert "CRITICAL\tCVE-2026-0001\topenssl\t3.5.1-1" in result.stderr
    assert "CVE-2026-0002" not in result.stderr  # HIGH is below the default threshold
    assert "rebuild on a patched base image" in result.stderr
    assert (
        f"aws ecr describe-image-scan-findings --repository-name {REPOSITORY} "
        f"--image-id imageDigest={platform.digest}"
    ) in result.stderr


@pytest.mark.parametrize("threshold", ["HIGH", "high"])
def test_scan_fail_severity_lowers_the_threshold(ecr, gate, threshold):
    """SCAN_FAIL_SEVERITY=HIGH (any case) also blocks on HIGH findings."""
    push_attested(ecr, [scan("COMPLETE", "", [ZLIB, LOW])])
    result = gate(expect=1, SCAN_FAIL_SEVERITY=threshold)
    assert "(blocks on CRITICAL HIGH)" in result.stdout
    assert "HIGH\tCVE-2026-0002\tzlib1g\t1:1.3.dfsg-3" in result.stderr
    assert "CVE-2026-0003" not in result.stderr


def test_scan_fail_severity_none_lists_findings_and_lets_the_image_through(ecr, gate):
    """SCAN_FAIL_SEVERITY=NONE is a person's override: every finding is listed, none blocks."""
    push_attested(ecr, [scan("COMPLETE", "", [OPENSSL, LOW])])
    result = gate(SCAN_FAIL_SEVERITY="NONE")
    assert "2 findings; SCAN_FAIL_SEVERITY=NONE blocks on none" in result.stdout
    assert "CRITICAL\tCVE-2026-0001\topenssl\t3.5.1-1" in result.stdout
    assert "LOW\tCVE-2026-0003\ttar" in result.stdout


def test_a_bad_threshold_is_refused_before_any_aws_call(ecr, gate):
    """SCAN_FAIL_SEVERITY=SEVERE: one message naming the accepted values and the command."""
    push_attested(ecr, [CLEAN])
    result = gate(expect=1, SCAN_FAIL_SEVERITY="SEVERE")
    assert "ERROR: SCAN_FAIL_SEVERITY=SEVERE is not a severity." in result.stderr
    assert "CRITICAL HIGH MEDIUM LOW INFORMATIONAL, or NONE" in result.stderr
    assert "make deploy SCAN_FAIL_SEVERITY=HIGH" in result.stderr
    assert ecr.calls == []


def test_a_scan_in_progress_is_waited_for(ecr, gate):
    """IN_PROGRESS is not a pass: the gate waits until the scan is COMPLETE, then judges it."""
    platform, _ = push_attested(ecr, [scan("IN_PROGRESS"), scan("COMPLETE", "", [OPENSSL])])
    result = gate(expect=1)
    assert "waiting for ECR's scan" in result.stdout
    assert ecr.scanned_digests("DescribeImageScanFindings").count(platform.digest) >= 3
    assert "CVE-2026-0001" in result.stderr


@pytest.mark.parametrize(
    ("scans", "status"),
    [
        pytest.param([scan("FAILED", "UnknownError: scan failed")], "FAILED", id="failed"),
        pytest.param(
            [scan("IN_PROGRESS"), scan("FAILED", "UnknownError: scan failed")],
            "FAILED",
            id="in-progress-then-failed",
        ),
        pytest.param(
            [
                scan(
                    "UNSUPPORTED_IMAGE",
                    "UnsupportedImageError: The operating system and/or package manager "
                    "are not supported.",
                )
            ],
            "UNSUPPORTED_IMAGE",
            id="unsupported-image",
        ),
    ],
)
def test_a_scan_that_did_not_finish_blocks(ecr, gate, scans, status):
    """FAILED and UNSUPPORTED_IMAGE never pass silently: the status, its reason, the next step."""
    push_attested(ecr, scans)
    result = gate(expect=1)
    assert f"ended {status}: {scans[-1]['imageScanStatus']['description']}" in result.stderr
    assert "is not known to be safe, so it is not deployed" in result.stderr
    assert "aws ecr describe-image-scan-findings" in result.stderr
    assert "scan COMPLETE" not in result.stdout


def test_an_image_never_scanned_gets_a_scan_started(ecr, gate):
    """No scan of the linux/amd64 image (scan on push off): the gate starts one and waits."""
    platform, _ = push_attested(ecr, [], after_start=[scan("IN_PROGRESS"), CLEAN])
    result = gate()
    assert f"ECR has not scanned {platform.digest}: starting a scan" in result.stdout
    assert ecr.scanned_digests("StartImageScan") == [platform.digest]
    assert "scan COMPLETE: 0 findings" in result.stdout


def test_a_single_image_without_attestations_is_gated_on_itself(ecr, gate):
    """A laptop push without an SBOM (a plain image manifest): its own digest is scanned."""
    image = ecr.add(
        Image(image_manifest("app"), OCI_MANIFEST, tags=[TAG], scans=[scan("COMPLETE", "", [LOW])])
    )
    result = gate()
    assert "image index" not in result.stdout
    assert ecr.scanned_digests("DescribeImageScanFindings") == [image.digest] * 3
    assert "scan COMPLETE: 1 findings, none of severity CRITICAL or above" in result.stdout


def test_an_image_given_by_digest_is_resolved_the_same_way(ecr, gate):
    """IMAGE_URI=REPOSITORY@sha256:... of the index: the gate reads its linux/amd64 image."""
    platform, index = push_attested(ecr, [CLEAN])
    gate(f"{REGISTRY}/{REPOSITORY}@{index.digest}")
    assert set(ecr.scanned_digests("DescribeImageScanFindings")) == {platform.digest}


def test_enhanced_scanning_findings_block_too(ecr, gate):
    """Where the registry uses enhanced scanning (Inspector, ACTIVE), its findings are read."""
    enhanced = {
        "imageScanStatus": {"status": "ACTIVE", "description": "Continuous scan is selected."},
        "imageScanFindings": {
            "findingSeverityCounts": {"CRITICAL": 1},
            "enhancedFindings": [
                {
                    "severity": "CRITICAL",
                    "status": "ACTIVE",
                    "type": "PACKAGE_VULNERABILITY",
                    "title": "CVE-2026-0004 - jinja2",
                    "packageVulnerabilityDetails": {
                        "vulnerabilityId": "CVE-2026-0004",
                        "source": "NVD",
                        "vulnerablePackages": [
                            {"name": "jinja2", "version": "3.1.4", "packageManager": "PYTHONPKG"}
                        ],
                    },
                }
            ],
        },
    }
    push_attested(ecr, [enhanced])
    result = gate(expect=1)
    assert "CRITICAL\tCVE-2026-0004\tjinja2\t3.1.4" in result.stderr


def test_a_missing_image_names_the_command_that_lists_the_repository(ecr, gate):
    """No image with that tag: say so and how to list what the repository holds."""
    result = gate(expect=1)
    assert f"ECR has no image imageTag={TAG} in repository {REPOSITORY}." in result.stderr
    assert f"aws ecr describe-images --repository-name {REPOSITORY}" in result.stderr


def test_an_index_without_linux_amd64_is_refused(ecr, gate):
    """An index of arm64 only has nothing Fargate runs here: refused before any scan is read."""
    arm = ecr.add(Image(image_manifest("arm"), OCI_MANIFEST, scans=[CLEAN]))
    index = attested_index(arm.digest, digest_of("none")).replace('"amd64"', '"arm64"')
    ecr.add(Image(index, OCI_INDEX, tags=[TAG]))
    result = gate(expect=1)
    assert "has no linux/amd64 image" in result.stderr
    assert ecr.scanned_digests("DescribeImageScanFindings") == []


@pytest.mark.deploy
def test_make_deploy_stops_at_the_gate_before_the_service_stack(baked, aws_env):
    """On moto, as CI's deploy role: a finding at SCAN_FAIL_SEVERITY stops before the service.

    moto scans nothing on push (so the gate starts the scan) and answers every scan with
    one HIGH finding, CVE-9999-9999 in its package moto_fake 9.9.9. The bootstrap stack is
    a person's, as in CI (moto cannot deploy a stack a second time: "No updates").
    """
    project = baked(SCENARIOS[0])
    name = "gate-stops"
    run(
        "aws",
        "cloudformation",
        "deploy",
        "--stack-name",
        f"{name}-bootstrap",
        "--template-file",
        "infra/bootstrap.yaml",
        "--capabilities",
        "CAPABILITY_NAMED_IAM",
        "--parameter-overrides",
        f"ServiceName={name}",
        "CiProvider=github",
        "RepositoryPath=acme/orders-service",
        cwd=project,
        env=aws_env,
    )
    _, bootstrap = outputs(aws_env, f"{name}-bootstrap")
    # The API tokens are a person's to create; as CI, deploy.sh only checks they exist.
    aws(aws_env, "ssm", "put-parameter", "--name", f"/{name}/staging/API_TOKENS",
        "--type", "SecureString", "--value", "a-token")  # fmt: skip
    # What BuildKit pushes: the image and its attestation manifest by digest, then the index.
    pushed = [
        aws(aws_env, "ecr", "put-image", "--repository-name", name, "--image-manifest", manifest)
        for manifest in (image_manifest("app"), image_manifest("in-toto attestations"))
    ]
    platform, attestation = (put["image"]["imageId"]["imageDigest"] for put in pushed)
    index = attested_index(platform, attestation)
    aws(aws_env, "ecr", "put-image", "--repository-name", name, "--image-manifest", index,
        "--image-tag", TAG)  # fmt: skip
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
    image_uri = f"{bootstrap['RepositoryUri']}:{TAG}"
    vpc, subnets = network(aws_env, 40)
    variables = {
        "SERVICE_NAME": name,
        "IMAGE_URI": image_uri,
        "VPC_ID": vpc,
        "SUBNET_IDS": ",".join(subnets),
    }

    blocked = make(
        project, as_deploy_role, "deploy", expect=None, SCAN_FAIL_SEVERITY="HIGH", **variables
    )
    assert blocked.returncode != 0
    assert f"its linux/amd64 image, the one scanned and run: {platform}" in blocked.stdout
    assert f"ECR has not scanned {platform}: starting a scan" in blocked.stdout
    assert "HIGH\tCVE-9999-9999\tmoto_fake\t9.9.9" in blocked.stderr
    assert "==> service stack" not in blocked.stdout
    stacks = aws(aws_env, "cloudformation", "list-stacks")["StackSummaries"]
    assert f"{name}-staging-service" not in {stack["StackName"] for stack in stacks}

    # CRITICAL, the default, lets a HIGH finding through. The task names the index by its
    # tag, which is immutable: ECS resolves it to the index whose linux/amd64 image was scanned.
    result = make(project, as_deploy_role, "deploy", **variables)
    assert "scan COMPLETE: 1 findings, none of severity CRITICAL or above" in result.stdout
    _, service = outputs(aws_env, f"{name}-staging-service")
    task = test_deploy.task_definition_of(aws_env, service)
    assert task["containerDefinitions"][0]["image"] == image_uri
