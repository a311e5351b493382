"""CI files: each provider gets its own, schema-valid, zizmor clean, SHA-pinned, free of AWS keys;
CI deploys push each image with an SBOM and max-mode provenance, from a builder that can.

Many combinations render byte-identical CI files, so the linters run once per
distinct file (by content hash) and a failure names every combination that
shares the file.
"""

import json
import os
import re
import shutil
from collections import defaultdict
from pathlib import Path

import pytest
import yaml
from conftest import (
    CI_FILES,
    MATRIX,
    OPTIONS,
    PROJECT_TEMPLATE,
    TEMPLATE,
    distinct_files,
    docker_engine_available,
    matrix_params,
    require,
    run,
)

EVERY_CI_FILE = sorted({name for names in CI_FILES.values() for name in names})
# check-jsonschema's schema for each kind of CI file, by the start of its path.
SCHEMAS = {
    ".github/workflows/": "vendor.github-workflows",
    ".github/dependabot.yml": "vendor.dependabot",
    ".gitlab-ci.yml": "vendor.gitlab-ci",
}
WITH_CI = [options for options in MATRIX if CI_FILES[options["ci_provider"]]]
GITHUB = [options for options in MATRIX if options["ci_provider"] == "github"]
GITLAB = [options for options in MATRIX if options["ci_provider"] == "gitlab"]
TEMPLATE_WORKFLOWS = sorted((TEMPLATE / ".github" / "workflows").glob("*.yml"))

# An access key ID (long-term AKIA, temporary ASIA), or a secret key written out.
AWS_ACCESS_KEY_ID = re.compile(r"\b(AKIA|ASIA)[0-9A-Z]{16}\b")
AWS_SECRET_VALUE = re.compile(r"aws_secret_access_key\W{1,4}[A-Za-z0-9/+]{40}\b", re.IGNORECASE)
AWS_KEY_VARIABLES = {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"}

# owner/repo[/path]@<full commit SHA> # vX.Y.Z
PINNED_USES = re.compile(
    r"uses: (?P<action>[\w.-]+/[\w./-]+)@(?P<sha>[0-9a-f]{40}) # (?P<tag>v\d+\.\d+\.\d+)$"
)


@pytest.fixture(scope="module")
def ci_files(baked) -> dict[str, dict[Path, list[str]]]:
    """The distinct rendered CI files, by their path inside the project."""
    return {
        name: distinct_files(baked, name, [o for o in WITH_CI if o["ci_provider"] == provider])
        for provider, names in CI_FILES.items()
        for name in names
    }


def describe(owners: list[str]) -> str:
    return "rendered by " + ", ".join(owners)


@pytest.mark.parametrize("options", matrix_params())
def test_ci_files_match_the_provider(baked, options):
    """Each provider gets its own CI files and no other's; none gets no CI at all."""
    project = baked(options)
    present = {name for name in EVERY_CI_FILE if (project / name).exists()}
    assert present == set(CI_FILES[options["ci_provider"]])
    if options["ci_provider"] != "github":
        assert not (project / ".github").exists()


@pytest.mark.parametrize("options", matrix_params())
def test_no_aws_keys_anywhere(baked, options):
    """No file of the generated repo holds an AWS access key or secret key."""
    project = baked(options)
    for path in sorted(p for p in project.rglob("*") if p.is_file()):
        text = path.read_text(encoding="utf-8", errors="replace")
        assert not AWS_ACCESS_KEY_ID.search(text), f"AWS access key ID in {path}"
        assert not AWS_SECRET_VALUE.search(text), f"AWS secret access key in {path}"


@pytest.mark.parametrize("name", EVERY_CI_FILE)
def test_ci_files_match_their_schema(ci_files, name):
    """Every distinct rendered CI file passes check-jsonschema's schema for its kind."""
    schemas = [schema for start, schema in SCHEMAS.items() if name.startswith(start)]
    assert schemas, f"{name}: add its check-jsonschema schema to SCHEMAS"
    (schema,) = schemas
    require("check-jsonschema", "validates the rendered CI files")
    files = ci_files[name]
    owners = "\n".join(f"{path}: {describe(ids)}" for path, ids in files.items())
    run("check-jsonschema", "--builtin-schema", schema, *files, note=owners)


@pytest.mark.parametrize(
    ("name", "schema"),
    [("workflows/ci.yml", "vendor.github-workflows"), ("dependabot.yml", "vendor.dependabot")],
)
def test_template_ci_files_match_their_schema(name, schema):
    """The template's own workflow and dependabot file pass their schemas."""
    require("check-jsonschema", "validates the template's CI files")
    run("check-jsonschema", "--builtin-schema", schema, TEMPLATE / ".github" / name)


def zizmor_findings(inputs: list[Path]) -> list[dict]:
    """Run zizmor offline on inputs; return its findings of medium severity or above."""
    result = run(
        "zizmor",
        "--offline",
        "--strict-collection",
        "--min-severity",
        "medium",
        "--format",
        "json",
        *inputs,
        expect=None,
    )
    # Exit 1 is zizmor's own failure (bad input); findings exit 10 and up.
    assert result.returncode != 1, result.stderr
    return json.loads(result.stdout)


def test_zizmor_finds_nothing_in_generated_workflows(ci_files):
    """zizmor finds nothing of medium severity or above in the rendered workflows and dependabot."""
    require("zizmor", "audits the rendered GitHub workflows")
    github = {
        path: ids
        for name, files in ci_files.items()
        if name.startswith(".github/")
        for path, ids in files.items()
    }
    findings = zizmor_findings(list(github))
    assert findings == [], (
        json.dumps(findings, indent=2)
        + "\n"
        + "\n".join(f"{path}: {describe(ids)}" for path, ids in github.items())
    )


def test_zizmor_finds_nothing_in_template_workflows():
    """zizmor finds nothing of medium severity or above in the template's own .github."""
    require("zizmor", "audits the template's workflows")
    findings = zizmor_findings([TEMPLATE / ".github"])
    assert findings == [], json.dumps(findings, indent=2)


def uses_references(workflow: dict) -> list[str]:
    """Every uses: of a workflow: the reusable workflows jobs call and the actions steps run."""
    references = []
    for job in (workflow.get("jobs") or {}).values():
        if "uses" in job:
            references.append(job["uses"])
        references.extend(step["uses"] for step in job.get("steps", []) if "uses" in step)
    return references


def test_every_action_is_pinned_to_a_commit(ci_files):
    """Each action is pinned to a full commit SHA with its tag in a comment, one pin everywhere."""
    workflows = [
        path
        for name, files in ci_files.items()
        if name.startswith(".github/workflows/")
        for path in files
    ] + TEMPLATE_WORKFLOWS
    pins = defaultdict(set)
    for path in workflows:
        text = path.read_text(encoding="utf-8")
        lines = {line.strip().removeprefix("- ") for line in text.splitlines()}
        for reference in uses_references(yaml.safe_load(text)):
            if reference.startswith("./"):
                continue
            line = next((line for line in lines if line.startswith(f"uses: {reference}")), "")
            pinned = PINNED_USES.fullmatch(line)
            assert pinned, (
                f"{path}: {reference!r} is not pinned as 'owner/repo@<40-hex SHA> # vX.Y.Z'"
            )
            pins[pinned["action"]].add((pinned["sha"], pinned["tag"]))
    assert pins, "no actions found: the walk over the workflows is broken"
    drifted = {action: sorted(found) for action, found in pins.items() if len(found) > 1}
    assert not drifted, f"one action, several pins: {drifted}"


def load_github(project: Path, name: str) -> dict:
    return yaml.safe_load((project / ".github" / "workflows" / name).read_text())


# The jobs of deploy.yml that assume the deploy role, each through one environment.
GITHUB_AWS_JOBS = {"build": "staging", "staging": "staging", "production": "production"}


@pytest.mark.parametrize("options", matrix_params(GITHUB))
def test_github_deploy_is_least_privilege(baked, options):
    """Only the AWS jobs get an OIDC token, each in an environment; checkouts keep no token."""
    project = baked(options)
    for name in ("ci.yml", "deploy.yml"):
        workflow = load_github(project, name)
        assert workflow["permissions"] == {}, f"{name}: set permissions: {{}} at the top"
        for job_id, job in workflow["jobs"].items():
            token = job.get("permissions", {}).get("id-token")
            aws_job = name == "deploy.yml" and job_id in GITHUB_AWS_JOBS
            expected = "write" if aws_job else None
            assert token == expected, f"{name}: {job_id} has id-token: {token}"
            for step in job.get("steps", []):
                if step.get("uses", "").startswith("actions/checkout@"):
                    assert step["with"]["persist-credentials"] is False, f"{name}: {job_id}"
    jobs = load_github(project, "deploy.yml")["jobs"]
    for job_id, environment in GITHUB_AWS_JOBS.items():
        job = jobs[job_id]
        # The environment puts environment:NAME in the OIDC subject the deploy role trusts.
        named = job["environment"]
        assert (named if isinstance(named, str) else named["name"]) == environment, job_id
        credentials = next(
            s for s in job["steps"] if "configure-aws-credentials" in s.get("uses", "")
        )
        assert credentials["with"]["role-to-assume"] == "${{ vars.AWS_DEPLOY_ROLE_ARN }}"
        assert credentials["with"]["aws-region"] == OPTIONS["aws_region"]
    for job_id in ("staging", "production"):
        assert jobs[job_id]["concurrency"] == {"group": job_id, "cancel-in-progress": False}
    assert jobs["build"]["needs"] == "ci"


@pytest.mark.parametrize("options", matrix_params(GITLAB))
def test_gitlab_deploy_uses_oidc_from_the_default_branch_only(baked, options):
    """GitLab's AWS jobs run on the default branch only, one deploy at a time, by OIDC."""
    pipeline = yaml.safe_load((baked(options) / ".gitlab-ci.yml").read_text())
    aws = pipeline[".aws"]
    assert aws["rules"] == [{"if": "$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH"}]
    assert aws["id_tokens"]["AWS_ID_TOKEN"]["aud"]
    assert any("assume-role-with-web-identity" in line for line in aws["before_script"])
    for job_id in ("push-image", "deploy-staging", "deploy-production"):
        assert pipeline[job_id]["extends"] == ".aws", job_id
    assert pipeline["deploy-production"]["rules"] == [
        {"if": "$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH", "when": "manual"}
    ]
    for environment in ("staging", "production"):
        job = pipeline[f"deploy-{environment}"]
        assert job["environment"]["name"] == environment
        assert job["resource_group"] == environment
    assert pipeline["template-update"]["allow_failure"] is True
    jobs = {"": pipeline, **{k: v for k, v in pipeline.items() if isinstance(v, dict)}}
    for job_id, job in jobs.items():
        stored = AWS_KEY_VARIABLES & set(job.get("variables") or {})
        assert not stored, f"{job_id or 'top level'}: AWS keys in variables: {stored}"
    # Images pinned to a version tag, never latest or a bare name.
    images = [job["image"] for job in jobs.values() if isinstance(job.get("image"), str)]
    images += [service["name"] for job in jobs.values() for service in job.get("services", [])]
    assert images, "no images found: the walk over the jobs is broken"
    for image in images:
        assert re.fullmatch(r"[\w./-]+:\d[\w.-]*", image), f"{image} is not pinned to a version tag"


# make as a command (a line's first word, a run: step's, or after ; && ||), not a package
# named in apk add.
MAKE_TARGET = re.compile(r"(?:^\s*(?:-\s+)?(?:run:\s+)?|[;&|]\s*)make ([a-z][a-z-]*)", re.MULTILINE)


@pytest.mark.parametrize("options", matrix_params(WITH_CI))
def test_ci_runs_the_make_targets_people_run(baked, options):
    """CI calls lint, test, image and deploy, and only targets the generated Makefile defines."""
    project = baked(options)
    defined = set(re.findall(r"^([a-z][a-z-]*):", (project / "Makefile").read_text(), re.MULTILINE))
    called = set()
    for name in CI_FILES[options["ci_provider"]]:
        commands = [
            line
            for line in (project / name).read_text().splitlines()
            if not line.lstrip().startswith("#")
        ]
        called |= set(MAKE_TARGET.findall("\n".join(commands)))
    assert {"lint", "test", "image", "deploy"} <= called
    assert called <= defined, f"CI calls undefined targets: {sorted(called - defined)}"


def shell_commands(script: str) -> list[str]:
    """The script's lines with backslash continuations joined, comments left out."""
    joined = re.sub(r"\\\n\s*", " ", script)
    return [line.strip() for line in joined.splitlines() if not line.lstrip().startswith("#")]


def test_the_pushed_image_carries_an_sbom_and_max_mode_provenance():
    """push_image.sh builds with buildx, --sbom=true --provenance=mode=max, pushing to ECR."""
    script = (PROJECT_TEMPLATE / "scripts" / "push_image.sh").read_text()
    (arguments,) = re.findall(r"^BUILD_ARGS=\((.*?)\)$", script, re.MULTILINE | re.DOTALL)
    (build,) = [c for c in shell_commands(script) if c.startswith("docker buildx build ")]
    flags = build.replace('"${BUILD_ARGS[@]}"', " ".join(shell_commands(arguments))).split()
    assert {"--sbom=true", "--provenance=mode=max"} <= set(flags), build
    assert flags[flags.index("--platform") + 1] == "linux/amd64"
    # Pushed by the builder, in the attestation format ECR accepts (moby/buildkit#5747).
    assert flags[flags.index("--output") + 1] == "type=registry,oci-artifact=false"


@pytest.mark.container
def test_ci_refuses_a_builder_that_cannot_attach_attestations(baked, tmp_path):
    """CI=true with Docker's docker driver: push_image.sh stops before it logs in or builds."""
    if not docker_engine_available():
        pytest.skip("no Docker engine")
    driver = re.search(r"^Driver:\s+(\S+)", run("docker", "buildx", "inspect").stdout, re.M)
    store = run("docker", "info", "--format", "{{json .DriverStatus}}").stdout
    if not driver or driver[1] != "docker" or "io.containerd.snapshotter" in store:
        pytest.skip("this engine's builder can attach attestations: nothing to refuse")
    project = tmp_path / "project"
    shutil.copytree(baked(GITHUB[0]), project)
    for command in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "First commit"]):
        run("git", "-c", "user.name=t", "-c", "user.email=t@example.com", *command, cwd=project)
    image = "123456789012.dkr.ecr.us-east-1.amazonaws.com/orders-service:refused"
    result = run(
        "scripts/push_image.sh", image, cwd=project, env={**os.environ, "CI": "true"}, expect=1
    )
    assert (
        "ERROR: the buildx builder (driver: docker) cannot attach the SBOM and provenance CI "
        "must push." in result.stderr
    )
    assert "docker buildx create --use --driver docker-container" in result.stderr
    assert result.stdout == ""  # neither logged in nor built
    assert run("docker", "image", "inspect", image, expect=None).returncode != 0


BUILDKIT_IMAGE = re.compile(r"image=(moby/buildkit:v\d+\.\d+\.\d+)\b")


@pytest.mark.parametrize("options", matrix_params(GITHUB))
def test_github_builds_with_a_builder_that_attaches_attestations(baked, options):
    """The build job sets up a docker-container builder, BuildKit pinned, before it pushes."""
    steps = load_github(baked(options), "deploy.yml")["jobs"]["build"]["steps"]
    names = [step.get("uses", step.get("run", "")) for step in steps]
    (setup,) = [i for i, name in enumerate(names) if name.startswith("docker/setup-buildx-action@")]
    (push,) = [i for i, name in enumerate(names) if "scripts/push_image.sh" in name]
    assert setup < push
    settings = steps[setup].get("with", {})
    assert settings.get("driver", "docker-container") == "docker-container"
    assert BUILDKIT_IMAGE.fullmatch(settings["driver-opts"])
    assert settings["cache-binary"] is False


@pytest.mark.parametrize("options", matrix_params(GITLAB))
def test_gitlab_builds_with_a_builder_that_attaches_attestations(baked, options):
    """The push job creates and uses a docker-container builder, BuildKit pinned, first."""
    script = yaml.safe_load((baked(options) / ".gitlab-ci.yml").read_text())["push-image"]["script"]
    (create,) = [i for i, line in enumerate(script) if "docker buildx create" in line]
    (push,) = [i for i, line in enumerate(script) if "scripts/push_image.sh" in line]
    assert create < push
    flags = script[create].split()
    assert "--use" in flags
    assert flags[flags.index("--driver") + 1] == "docker-container"
    assert BUILDKIT_IMAGE.fullmatch(flags[flags.index("--driver-opt") + 1])


def test_both_providers_pin_the_same_buildkit():
    """GitHub and GitLab build with one BuildKit release, so their provenance is alike."""
    pins = {
        path.name: BUILDKIT_IMAGE.findall(path.read_text())
        for path in (
            PROJECT_TEMPLATE / ".github" / "workflows" / "deploy.yml",
            PROJECT_TEMPLATE / ".gitlab-ci.yml",
        )
    }
    assert all(len(found) == 1 for found in pins.values()), pins
    assert len({found[0] for found in pins.values()}) == 1, pins


# What builds or pushes an image, in a job's commands.
BUILDS = re.compile(r"push_image\.sh|docker (buildx )?build|docker push|make image\b")
# make deploy with the image named, which skips the build and push.
DEPLOYS_IMAGE = re.compile(r'make deploy ENV=(\w+) IMAGE_URI="\$IMAGE_URI"')


def commands_of(job: dict) -> list[str]:
    """The shell commands of a GitHub job's run: steps or a GitLab job's scripts."""
    lines = [step["run"] for step in job.get("steps", []) if "run" in step]
    lines += [line for key in ("before_script", "script") for line in job.get(key, [])]
    return [command for text in lines for command in shell_commands(text)]


def assert_deploys_the_given_image_only(job_id: str, job: dict, environment: str) -> None:
    """The job runs make deploy for environment with IMAGE_URI, and builds nothing."""
    commands = commands_of(job)
    deploys = [command for command in commands if "make deploy" in command]
    assert deploys, f"{job_id}: no make deploy"
    for command in deploys:
        assert DEPLOYS_IMAGE.search(command), f"{job_id}: {command!r} does not name the image"
        assert DEPLOYS_IMAGE.search(command)[1] == environment, f"{job_id}: {command!r}"
    built = [command for command in commands if BUILDS.search(command)]
    assert not built, f"{job_id} builds or pushes: {built}"
    assert not any("setup-buildx" in step.get("uses", "") for step in job.get("steps", []))


@pytest.mark.parametrize("options", matrix_params(GITHUB))
def test_github_promotes_the_built_digest_without_rebuilding(baked, options):
    """Build pushes once and outputs the digest; staging, then approved production, deploy it."""
    jobs = load_github(baked(options), "deploy.yml")["jobs"]
    build = jobs["build"]
    (push,) = [step for step in build["steps"] if "scripts/push_image.sh" in step.get("run", "")]
    assert build["outputs"]["image"] == f"${{{{ steps.{push['id']}.outputs.image }}}}"
    assert 'echo "image=$repository@$digest" >> "$GITHUB_OUTPUT"' in push["run"]
    assert 'scripts/scan_gate.sh "$repository@$digest"' in push["run"]
    assert not any("make deploy" in command for command in commands_of(build))
    # Only the build job builds or pushes.
    for job_id, job in jobs.items():
        if job_id != "build":
            assert not any(BUILDS.search(c) for c in commands_of(job)), job_id
    needs = {"staging": ["build"], "production": ["build", "staging"]}
    for environment, needed in needs.items():
        job = jobs[environment]
        assert sorted(job["needs"] if isinstance(job["needs"], list) else [job["needs"]]) == needed
        # The approval gate: the environment's required reviewers (docs/ci-github.md).
        assert job["environment"] == environment
        (deploy,) = [step for step in job["steps"] if "make deploy" in step.get("run", "")]
        assert deploy["env"]["IMAGE_URI"] == "${{ needs.build.outputs.image }}", environment
        assert_deploys_the_given_image_only(environment, job, environment)


@pytest.mark.parametrize("options", matrix_params(GITLAB))
def test_gitlab_promotes_the_built_digest_without_rebuilding(baked, options):
    """push-image reports the digest as dotenv; staging, then manual production, deploy it."""
    pipeline = yaml.safe_load((baked(options) / ".gitlab-ci.yml").read_text())
    push = pipeline["push-image"]
    assert push["artifacts"]["reports"]["dotenv"] == "image.env"
    assert 'echo "IMAGE_URI=$repository@$digest" > image.env' in push["script"]
    assert 'scripts/scan_gate.sh "$repository@$digest"' in push["script"]
    jobs = {k: v for k, v in pipeline.items() if isinstance(v, dict) and not k.startswith(".")}
    pushers = {
        job_id
        for job_id, job in jobs.items()
        if any("push_image.sh" in command for command in commands_of(job))
    }
    assert pushers == {"push-image"}
    # build-image builds without pushing, on branches other than the default only.
    assert commands_of(pipeline["build-image"]) == ["make image"]
    assert pipeline["build-image"]["rules"] == [{"if": "$CI_COMMIT_BRANCH != $CI_DEFAULT_BRANCH"}]
    needs = {"staging": ["push-image"], "production": ["deploy-staging", "push-image"]}
    for environment, needed in needs.items():
        job_id = f"deploy-{environment}"
        job = pipeline[job_id]
        assert sorted(job["needs"]) == needed, job_id
        assert job["environment"]["name"] == environment
        assert_deploys_the_given_image_only(job_id, job, environment)
    production = pipeline["deploy-production"]
    assert all(rule["when"] == "manual" for rule in production["rules"])
    # Blocks the pipeline until someone runs it, rather than skipping past it.
    assert production["allow_failure"] is False
