#!/usr/bin/env bash
# Deploy {{ cookiecutter.project_slug }} to one environment on ECS Fargate: secrets checked, bootstrap, image, volume, {% if cookiecutter.database == "postgres" %}database, migrations, {% endif %}service.
#
# Settings (environment variables or `make deploy NAME=value`):
#   ENV              the environment, infra/environments/<ENV>.env (default staging)
#   IMAGE_URI        deploy this image and skip the build and push
#   SCAN_FAIL_SEVERITY  ECR scan findings that stop the deploy: CRITICAL (default), HIGH,
#                    MEDIUM, LOW, INFORMATIONAL or NONE (scripts/scan_gate.sh)
#   VPC_ID           with SUBNET_IDS (comma-separated, two or more AZs); default: the
#                    service stack's current network, else two subnets of the default VPC
#   CERTIFICATE_ARN  ACM certificate: HTTPS on 443, port 80 redirects
#   SERVICE_PARAMETERS  more service stack parameters, e.g. "DesiredCount=3 LogLevel=DEBUG";
#                    they, and CERTIFICATE_ARN, override the environment file
{%- if cookiecutter.database == "postgres" %}
#   MIGRATION_TIMEOUT  seconds the migrations' task may take before the deploy stops (default 900)
#   SKIP_MIGRATIONS  1: deploy without running them (make rollback: the schema stays as it is)
{%- endif %}
#   SERVICE_NAME     names the stacks, repository and cluster (default {{ cookiecutter.project_slug }})
#   AWS_REGION       default {{ cookiecutter.aws_region }}; AWS_ENDPOINT_URL points the AWS CLI at an emulator
#   CI_PROVIDER, REPOSITORY_PATH, DEFAULT_BRANCH, OIDC_PROVIDER_ARN
#                    the deploy role of the bootstrap stack (docs/deployment.md, "Deploying from CI")
#
# The service{% if cookiecutter.database == "postgres" %}, database{% endif %} and volume stacks run with the bootstrap stack's CloudFormation role, whoever
# deploys; CI, as the deploy role, uses the bootstrap stack as it is.
set -euo pipefail

# shellcheck source=scripts/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
{%- if cookiecutter.database == "postgres" %}
# shellcheck source=scripts/log_events.sh
source "$(dirname "${BASH_SOURCE[0]}")/log_events.sh"
# shellcheck source=scripts/one_off_task.sh
source "$(dirname "${BASH_SOURCE[0]}")/one_off_task.sh"
{%- endif %}
CI_PROVIDER="${CI_PROVIDER:-{{ cookiecutter.ci_provider }}}"
IMAGE_URI="${IMAGE_URI:-}"
VPC_ID="${VPC_ID:-}"
SUBNET_IDS="${SUBNET_IDS:-}"
CERTIFICATE_ARN="${CERTIFICATE_ARN:-}"
SERVICE_PARAMETERS="${SERVICE_PARAMETERS:-}"
VOLUME_TEMPLATE=infra/volume.yaml
{%- if cookiecutter.database == "postgres" %}
DATABASE_TEMPLATE=infra/database.yaml
MIGRATION_TIMEOUT="${MIGRATION_TIMEOUT:-900}"
# The migrations' command, in the new image (src/{{ cookiecutter.package_name }}/migrate.py).
MIGRATE_COMMAND='["python", "-m", "{{ cookiecutter.package_name }}.migrate"]'
# The database stack's outputs, as service stack parameters.
DATABASE_PARAMETERS=()
{%- endif %}
# Set by deploy_bootstrap: the role CloudFormation runs the service and volume stacks with.
STACK_ROLE_ARN=""
# The volume stack's outputs, as service stack parameters (empty without a volume).
VOLUME_PARAMETERS=()

cd "$(dirname "${BASH_SOURCE[0]}")/.."
use_environment "${ENV:-}"

# Print why a stack failed and what to run next, then stop.
fail_stack() {
  local stack="$1"
  printf '\nERROR: deploying stack %s failed. Its latest events:\n' "$stack" >&2
  print_stack_events "$stack" || printf '       (no events: the stack was never created)\n' >&2
  printf '\nNext: fix the cause above, then run make deploy again.\n' >&2
  printf 'More events: aws cloudformation describe-stack-events --stack-name %s\n' "$stack" >&2
  exit 1
}

# `aws cloudformation deploy` waits for the stack; an empty change set is success.
# ROLE is the CloudFormation role to run the stack with, or "" for the caller's own permissions.
deploy_stack() {
  local stack="$1" template="$2" role="$3"
  shift 3
  local with_role=()
  [[ -z "$role" ]] || with_role=(--role-arn "$role")
  if [[ "$(stack_status "$stack")" == ROLLBACK_COMPLETE ]]; then
    # A first create that failed leaves a stack that can only be deleted; it holds nothing.
    note "deleting $stack, left in ROLLBACK_COMPLETE by a failed first attempt"
    aws cloudformation delete-stack --stack-name "$stack" ${with_role[@]+"${with_role[@]}"}
    aws cloudformation wait stack-delete-complete --stack-name "$stack" || fail_stack "$stack"
  fi
  aws cloudformation deploy --stack-name "$stack" --template-file "$template" \
    ${with_role[@]+"${with_role[@]}"} \
    --capabilities CAPABILITY_NAMED_IAM --no-fail-on-empty-changeset \
    --parameter-overrides "$@" || fail_stack "$stack"
}

check_tools() {
  step "checking tools and AWS credentials"
  require_aws_cli deploy
  if [[ -z "$IMAGE_URI" ]]; then
    command -v docker >/dev/null ||
      die "docker is needed to build the image." "Install Docker, or deploy an existing image: make deploy IMAGE_URI=..."
    command -v git >/dev/null || die "git is needed to tag the image with the commit."
  fi
{%- if cookiecutter.database == "postgres" %}
  [[ "$MIGRATION_TIMEOUT" =~ ^[0-9]+$ ]] || die "MIGRATION_TIMEOUT=$MIGRATION_TIMEOUT is not a number of seconds."
  command -v python3 >/dev/null || die "python3 is needed to write the migrations' task definition."
{%- endif %}
  check_credentials
  note "deploying as $CALLER_ARN to $AWS_REGION"
}

# owner/name of the git remote "origin", for the deploy role's trust policy.
repository_path() {
  local url
  url="$(git remote get-url origin 2>/dev/null)" || return 0
  url="${url%.git}"
  url="${url#*://}"
  url="${url#*@}"
  url="${url#*[:/]}"
  printf '%s' "$url"
}

# The CloudFormation role of the service and volume stacks, from the bootstrap stack.
read_stack_role() {
  STACK_ROLE_ARN="$(stack_output "$BOOTSTRAP_STACK" CloudFormationRoleArn)"
  [[ "$STACK_ROLE_ARN" == arn:*:role/* ]] ||
    die "stack $BOOTSTRAP_STACK has no CloudFormationRoleArn output: it predates the CloudFormation role." \
      "Update it with your own AWS credentials (not CI's): make deploy"
}

deploy_bootstrap() {
  step "bootstrap stack $BOOTSTRAP_STACK (ECR repository, CloudFormation and deploy roles)"
  local status role_arn
  status="$(stack_status "$BOOTSTRAP_STACK")"
  if [[ "$status" != NONE ]]; then
    role_arn="$(stack_output "$BOOTSTRAP_STACK" DeployRoleArn)"
    # CI runs as the deploy role, which may not change the stack that grants it.
    if [[ "$role_arn" == arn:*:role/* && "$CALLER_ARN" == *":assumed-role/${role_arn##*/}/"* ]]; then
      note "running as its deploy role: using it as it is"
      read_stack_role
      return
    fi
  fi

  local params=("ServiceName=$SERVICE_NAME")
  local path="${REPOSITORY_PATH:-}"
  if [[ "$CI_PROVIDER" != none && -z "$path" ]]; then
    path="$(repository_path)"
  fi
  if [[ "$CI_PROVIDER" == none || -n "$path" ]]; then
    params+=("CiProvider=$CI_PROVIDER" "RepositoryPath=$path")
  elif [[ "$status" == NONE ]]; then
    # No repository yet: create the stack without a deploy role rather than fail.
    params+=("CiProvider=none")
    note "no deploy role for $CI_PROVIDER yet: no git remote \"origin\" and no REPOSITORY_PATH."
    note "Push the repository (or set REPOSITORY_PATH=owner/name), then run make deploy again."
  fi
  local branch="${DEFAULT_BRANCH:-}"
  if [[ -z "$branch" ]]; then
    branch="$(git symbolic-ref --quiet --short refs/remotes/origin/HEAD 2>/dev/null || true)"
    branch="${branch#origin/}"
  fi
  [[ -z "$branch" ]] || params+=("DefaultBranch=$branch")
  [[ -z "${OIDC_PROVIDER_ARN:-}" ]] || params+=("OidcProviderArn=$OIDC_PROVIDER_ARN")

  # The stack that creates the CloudFormation role runs with the caller's own permissions.
  deploy_stack "$BOOTSTRAP_STACK" infra/bootstrap.yaml "" "${params[@]}"
  read_stack_role
}

# The image to deploy: built and pushed (scripts/push_image.sh) unless it is in ECR
# already, then held back unless ECR's scan passes (scripts/scan_gate.sh).
build_image() {
  local repository tag
  repository="$(stack_output "$BOOTSTRAP_STACK" RepositoryUri)"
  [[ "$repository" == */* ]] ||
    die "stack $BOOTSTRAP_STACK has no RepositoryUri output." \
      "Check it: aws cloudformation describe-stacks --stack-name $BOOTSTRAP_STACK"
  if [[ -n "$IMAGE_URI" ]]; then
    if [[ "$IMAGE_URI" != "$repository"[:@]* ]]; then
      # ECR scans only what is pushed to this repository; a person chose this image.
      step "image $IMAGE_URI (given, from another repository: build, push and scan gate skipped)"
      return
    fi
    step "image $IMAGE_URI (given: build and push skipped)"
    scripts/scan_gate.sh "$IMAGE_URI"
    return
  fi
  tag="$(git rev-parse --short=12 HEAD 2>/dev/null)" ||
    die "no git commit to tag the image with." "Commit first: git init && git add -A && git commit -m 'First commit'"
  if [[ -n "$(git status --porcelain 2>/dev/null)" ]]; then
    # Tags are immutable: uncommitted changes get a tag of their own.
    tag="$tag-dirty-$(date -u +%Y%m%d%H%M%S)"
    note "uncommitted changes: tagging the image $tag"
  fi
  IMAGE_URI="$repository:$tag"
  if aws ecr describe-images --repository-name "${repository#*/}" \
    --image-ids "imageTag=$tag" >/dev/null 2>&1; then
    step "image $IMAGE_URI (already in ECR: build and push skipped)"
  else
    scripts/push_image.sh "$IMAGE_URI"
  fi
  # Also for an image pushed by an earlier run: a deploy stopped by the gate stays stopped.
  scripts/scan_gate.sh "$IMAGE_URI"
}

# The network of the volume and service stacks: given, kept from the last deploy, or the default VPC.
choose_network() {
  step "network"
  if [[ -n "$VPC_ID" || -n "$SUBNET_IDS" ]]; then
    [[ -n "$VPC_ID" && -n "$SUBNET_IDS" ]] ||
      die "set VPC_ID and SUBNET_IDS together." "Example: VPC_ID=vpc-0abc SUBNET_IDS=subnet-0a,subnet-0b make deploy"
    return
  fi
  if [[ "$(stack_status "$SERVICE_STACK")" != NONE ]] &&
    [[ ! -f "$VOLUME_TEMPLATE" || "$(stack_status "$VOLUME_STACK")" != NONE ]]{% if cookiecutter.database == "postgres" %} &&
    [[ "$(stack_status "$DATABASE_STACK")" != NONE ]]{% endif %}; then
    note "network: as in the last deploy"
    return
  fi
  # A data stack that make destroy kept: the service comes back to the data's network.
  local stack
  for stack in $(data_stacks_of "$ENVIRONMENT_NAME"); do
    [[ "$(stack_status "$stack")" != NONE ]] || continue
    VPC_ID="$(stack_parameter "$stack" VpcId)"
    # AWS gives a list parameter as a,b; moto as Python's ['a', 'b'].
    SUBNET_IDS="$(stack_parameter "$stack" SubnetIds | tr -d "[]' ")"
    note "network: as in the last deploy, VPC $VPC_ID and subnets $SUBNET_IDS of stack $stack"
    return
  done
  VPC_ID="$(aws ec2 describe-vpcs --filters Name=is-default,Values=true \
    --query 'Vpcs[0].VpcId' --output text)"
  [[ "$VPC_ID" == vpc-* ]] ||
    die "$AWS_REGION has no default VPC." "Name a VPC and two subnets: VPC_ID=vpc-... SUBNET_IDS=subnet-a,subnet-b make deploy"
  # Two subnets are enough for the load balancer and the tasks; each more would add a
  # load balancer node and its public IPv4 address, which AWS bills by the hour.
  SUBNET_IDS="$(aws ec2 describe-subnets \
    --filters "Name=vpc-id,Values=$VPC_ID" Name=default-for-az,Values=true \
    --query 'sort_by(Subnets, &AvailabilityZone)[:2].SubnetId' --output text |
    tr -s '[:space:]' ',')"
  SUBNET_IDS="${SUBNET_IDS%,}"
  [[ "$SUBNET_IDS" == *,* ]] ||
    die "the default VPC $VPC_ID needs subnets in two Availability Zones." \
      "Name them: VPC_ID=$VPC_ID SUBNET_IDS=subnet-a,subnet-b make deploy"
  note "network: default VPC $VPC_ID, subnets $SUBNET_IDS"
}

# The volume stack, where the repo has infra/volume.yaml: its outputs are the service's volume.
deploy_volume() {
  [[ -f "$VOLUME_TEMPLATE" ]] || return 0
  step "volume stack $VOLUME_STACK (EFS file system for /data)"
  local params=("ServiceName=$SERVICE_NAME" "EnvironmentName=$ENVIRONMENT_NAME")
  [[ -z "$VPC_ID" ]] || params+=("VpcId=$VPC_ID" "SubnetIds=$SUBNET_IDS")
  deploy_stack "$VOLUME_STACK" "$VOLUME_TEMPLATE" "$STACK_ROLE_ARN" "${params[@]}"
  local output
  for output in FileSystemId AccessPointId FileSystemSecurityGroupId; do
    VOLUME_PARAMETERS+=("$output=$(stack_output "$VOLUME_STACK" "$output")")
  done
}
{%- if cookiecutter.database == "postgres" %}

# The names of the database stack's parameters: the settings of the environment file
# that are its own (DatabaseInstanceClass=...), which the service stack does not take.
DATABASE_SETTINGS="$(sed -n '/^Parameters:/,/^[A-Z]/s/^  \([A-Za-z0-9]*\):$/\1/p' "$DATABASE_TEMPLATE")"
is_database_setting() { grep -qxF "${1%%=*}" <<<"$DATABASE_SETTINGS"; }

# The database stack: its outputs are the service's database.
deploy_database() {
  step "database stack $DATABASE_STACK (RDS for PostgreSQL)"
  local params=("ServiceName=$SERVICE_NAME" "EnvironmentName=$ENVIRONMENT_NAME") setting output
  while IFS= read -r setting; do
    if is_database_setting "$setting"; then params+=("$setting"); fi
  done < <(environment_settings)
  [[ -z "$VPC_ID" ]] || params+=("VpcId=$VPC_ID" "SubnetIds=$SUBNET_IDS")
  deploy_stack "$DATABASE_STACK" "$DATABASE_TEMPLATE" "$STACK_ROLE_ARN" "${params[@]}"
  for output in DatabaseHost DatabasePort DatabaseName DatabaseSecretArn DatabaseSecurityGroupId; do
    DATABASE_PARAMETERS+=("$output=$(stack_output "$DATABASE_STACK" "$output")")
  done
}

# Print the JSON of a revision of family <service>-<env>-migrate: task definition $1 (the
# service's) with the new image and the migrations' command, and with neither health check
# nor port mapping, as it serves nothing. A family of its own, so that the service's
# revisions stay its releases (make rollback).
migration_task_definition() {
  aws ecs describe-task-definition --task-definition "$1" --query taskDefinition --output json |
    python3 -c '
import json, sys
family, image, command = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
described = json.load(sys.stdin)
kept = ("taskRoleArn", "executionRoleArn", "networkMode", "containerDefinitions", "volumes",
        "requiresCompatibilities", "cpu", "memory", "ephemeralStorage", "runtimePlatform")
definition = dict(family=family, **{key: described[key] for key in kept if key in described})
for container in definition["containerDefinitions"]:
    if container["name"] == "app":
        container.update(image=image, command=command)
        container.pop("healthCheck", None)
        container.pop("portMappings", None)
print(json.dumps(definition))
' "$CLUSTER_NAME-migrate" "$IMAGE_URI" "$MIGRATE_COMMAND"
}

# The migrations, as a one-off task of the new image in the service's network, before
# the service stack changes: when they fail, the deploy stops with the task's lines and
# the service runs on as it was.
run_migrations() {
  if [[ "${SKIP_MIGRATIONS:-}" == 1 ]]; then
    step "migrations: skipped (SKIP_MIGRATIONS=1); the schema stays as it is"
    return
  fi
  step "migrations: a one-off task of $IMAGE_URI"
  local definition
  CLUSTER="$(stack_output "$SERVICE_STACK" ClusterName)"
  definition="$(aws ecs register-task-definition \
    --cli-input-json "$(migration_task_definition "$(stack_output "$SERVICE_STACK" TaskDefinitionArn)")" \
    --query taskDefinition.taskDefinitionArn --output text)"
  note "task definition ${definition##*/}"
  start_one_off_task "$definition" make-deploy-migrate
  wait_for_one_off_task "$MIGRATION_TIMEOUT" ||
    die "the migrations still run after ${MIGRATION_TIMEOUT}s (task $TASK_ID); the service stack was not changed." \
      "Follow them: make logs ENV=$ENVIRONMENT_NAME FOLLOW=1; once they end, run make deploy again (or allow more: MIGRATION_TIMEOUT=3600)."
  [[ "$TASK_EXIT_CODE" == 0 ]] ||
    die "the migrations failed (task $TASK_ID, exit code $TASK_EXIT_CODE, $TASK_STOPPED_REASON); the service stack was not changed: the service runs its previous release." \
      "Their lines are above (again: make logs ENV=$ENVIRONMENT_NAME SINCE=1h). Fix the cause, then run make deploy again."
  note "migrated: task $TASK_ID exited with 0"
}
{%- endif %}

# Every secret of infra/secrets must be set for the environment before anything changes:
# without one, the new tasks could not start, and the deploy would fail half-way. The
# values are set by a person (make secret-set), never by the deploy: CI may only see that
# they exist.
check_secrets() {
  read_declared_secrets
  step "secrets ${DECLARED_SECRETS[*]-(none declared)}: SSM parameters under $SECRETS_PATH/"
  find_missing_secrets
  [[ -z "${MISSING_SECRETS[*]-}" ]] || {
    local name commands=""
    for name in "${MISSING_SECRETS[@]}"; do
      commands+="${commands:+; }make secret-set ENV=$ENVIRONMENT_NAME NAME=$name"
    done
    die "not set for $ENVIRONMENT_NAME: ${MISSING_SECRETS[*]}; nothing was changed. Set each, the value on stdin: $commands"
  }
  note "all set"
}

{% if cookiecutter.database == "postgres" %}# More parameters may follow, which override all others.
{% endif %}deploy_service() {
  step "service stack $SERVICE_STACK"
  local params=("ServiceName=$SERVICE_NAME" "EnvironmentName=$ENVIRONMENT_NAME" "ImageUri=$IMAGE_URI")
  local setting
  # The environment's file first: a later value of the same name wins.
{%- if cookiecutter.database == "postgres" %}
  while IFS= read -r setting; do
    if ! is_database_setting "$setting"; then params+=("$setting"); fi
  done < <(environment_settings)
{%- else %}
  while IFS= read -r setting; do params+=("$setting"); done < <(environment_settings)
{%- endif %}
  params+=(${VOLUME_PARAMETERS[@]+"${VOLUME_PARAMETERS[@]}"})
{%- if cookiecutter.database == "postgres" %}
  params+=("${DATABASE_PARAMETERS[@]}")
{%- endif %}
  [[ -z "$VPC_ID" ]] || params+=("VpcId=$VPC_ID" "SubnetIds=$SUBNET_IDS")
  [[ -z "$CERTIFICATE_ARN" ]] || params+=("CertificateArn=$CERTIFICATE_ARN")
  local extra
  read -r -a extra <<<"$SERVICE_PARAMETERS"
  # The ${a[@]+...} form: bash 3.2 (macOS) treats an empty array as unset under set -u.
  params+=(${extra[@]+"${extra[@]}"}{% if cookiecutter.database == "postgres" %} "$@"{% endif %})
  deploy_stack "$SERVICE_STACK" infra/service.yaml "$STACK_ROLE_ARN" "${params[@]}"
}

# CloudFormation returns once the ECS service is steady: the new tasks passed their
# health checks, or the circuit breaker rolled them back and the stack failed above.
wait_for_service() {
  step "waiting for $SERVICE_STACK"
  local status
  status="$(stack_status "$SERVICE_STACK")"
  case "$status" in
    CREATE_COMPLETE | UPDATE_COMPLETE) note "$status" ;;
    *) fail_stack "$SERVICE_STACK" ;;
  esac
}

print_url() {
  local url
  url="$(stack_output "$SERVICE_STACK" ServiceUrl)"
  step "deployed: $url"
  note "health: $url/healthz   status: make status ENV=$ENVIRONMENT_NAME   logs: make logs ENV=$ENVIRONMENT_NAME FOLLOW=1"
}

check_tools
check_secrets
deploy_bootstrap
build_image
choose_network
deploy_volume
{%- if cookiecutter.database == "postgres" %}
deploy_database
case "$(stack_status "$SERVICE_STACK")" in
  NONE | ROLLBACK_COMPLETE)
    # No task may serve an unmigrated schema: the first service starts with none, the
    # migrations run from its task definition, and then it gets its tasks.
    note "first deploy of $SERVICE_STACK: created with no task until the migrations ran"
    deploy_service DesiredCount=0 MinTaskCount=0
    ;;
esac
run_migrations
{%- endif %}
deploy_service
wait_for_service
print_url
