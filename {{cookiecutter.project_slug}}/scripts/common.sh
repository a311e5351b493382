# Shared by the scripts behind the AWS targets: the environment, stack names, output helpers and AWS look-ups.
# shellcheck shell=bash
# The variables set here are read by the scripts that source this file.
# shellcheck disable=SC2034

SERVICE_NAME="${SERVICE_NAME:-{{ cookiecutter.project_slug }}}"
export AWS_REGION="${AWS_REGION:-${AWS_DEFAULT_REGION:-{{ cookiecutter.aws_region }}}}"
export AWS_DEFAULT_REGION="$AWS_REGION"
export AWS_PAGER=""
# One per account, shared by every environment: the ECR repository and the roles.
BOOTSTRAP_STACK="$SERVICE_NAME-bootstrap"
# The environment a target uses when given no ENV.
DEFAULT_ENVIRONMENT=staging
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# One settings file per environment, service stack parameters as Name=value lines.
ENVIRONMENTS_DIR="$REPO_ROOT/infra/environments"
# The names of the secrets the service needs, one a line (the deploy checks each is set).
SECRETS_FILE="$REPO_ROOT/infra/secrets"

step() { printf '==> %s\n' "$*"; }
note() { printf '    %s\n' "$*"; }
die() {
  printf 'ERROR: %s\n' "$1" >&2
  shift
  for line in "$@"; do printf '       %s\n' "$line" >&2; done
  exit 1
}

# The service stack of environment $1: one per environment, side by side in one account.
service_stack_of() { printf '%s-%s-service' "$SERVICE_NAME" "$1"; }

# The stacks of environment $1 that hold data, one a line: make destroy keeps them, make
# destroy-data deletes them. The volume stack where infra/volume.yaml exists{% if cookiecutter.database == "postgres" %}, and the
# database stack{% endif %}.
data_stacks_of() {
  [[ ! -f "$REPO_ROOT/infra/volume.yaml" ]] || printf '%s\n' "$SERVICE_NAME-$1-volume"
{%- if cookiecutter.database == "postgres" %}
  printf '%s\n' "$SERVICE_NAME-$1-database"
{%- endif %}
}

# The environments this repo has: the names of infra/environments/*.env.
list_environments() {
  local file names=()
  for file in "$ENVIRONMENTS_DIR"/*.env; do
    [[ -f "$file" ]] && names+=("$(basename "$file" .env)")
  done
  printf '%s' "${names[*]-}"
}

# Set ENVIRONMENT_NAME and ENVIRONMENT_FILE from $1, or the default; refuse an unknown name.
# Nothing here calls AWS, so a wrong ENV stops before anything changes.
use_environment() {
  local name="${1:-}" given="${1:-}"
  if [[ -z "$name" ]]; then
    name="$DEFAULT_ENVIRONMENT"
  fi
  # IAM role names (<service>-<env>-execution) must fit 64 characters.
  [[ "$name" =~ ^[a-z][a-z0-9]*(-[a-z0-9]+)*$ && "$name" =~ ^.{1,12}$ ]] ||
    die "ENV=$name is not an environment name: lowercase letters, digits and single hyphens, at most 12 characters." \
      "Environments of this repo: $(list_environments)"
  [[ "$SERVICE_NAME-$name" =~ ^.{1,54}$ ]] ||
    die "SERVICE_NAME $SERVICE_NAME with ENV=$name is too long for the IAM role names (<service>-<env>-execution, 64 characters)." \
      "Shorten one: <service>-<env> may have at most 54 characters."
  ENVIRONMENT_FILE="$ENVIRONMENTS_DIR/$name.env"
  [[ -f "$ENVIRONMENT_FILE" ]] ||
    die "no environment $name (environments: $(list_environments)); add one: cp infra/environments/staging.env infra/environments/$name.env"
  ENVIRONMENT_NAME="$name"
  SERVICE_STACK="$(service_stack_of "$name")"
  # Deployed only where infra/volume.yaml exists (the volume option); the data outlives the service.
  VOLUME_STACK="$SERVICE_NAME-$name-volume"
{%- if cookiecutter.database == "postgres" %}
  # The database (infra/database.yaml), which outlives the service too.
  DATABASE_STACK="$SERVICE_NAME-$name-database"
{%- endif %}
  # Named after both, so that environments side by side in one account never share one.
  CLUSTER_NAME="$SERVICE_NAME-$name"
  # The environment's secrets, SSM parameters /<service>/<env>/<NAME>: its execution role
  # may read these and no others.
  SECRETS_PATH="/$SERVICE_NAME/$name"
  LOG_GROUP="/ecs/$SERVICE_NAME/$name"
  if [[ -z "$given" ]]; then
    step "environment $name (the default; ENV=NAME for another: $(list_environments))"
  else
    step "environment $name"
  fi
}

# Print the environment file's settings, one Name=value a line, without comments or blanks.
environment_settings() {
  local line
  while IFS= read -r line || [[ -n "$line" ]]; do
    line="${line%%#*}"
    line="${line#"${line%%[![:space:]]*}"}"
    line="${line%"${line##*[![:space:]]}"}"
    [[ -z "$line" ]] && continue
    [[ "$line" =~ ^[A-Za-z][A-Za-z0-9]*=.*$ ]] ||
      die "infra/environments/$ENVIRONMENT_NAME.env: \"$line\" is not a Name=value line." \
        "Fix it: each setting is a service stack parameter, e.g. DesiredCount=2"
    printf '%s\n' "$line"
  done <"$ENVIRONMENT_FILE"
}

# Set DECLARED_SECRETS to the names in infra/secrets, in order; refuse a malformed one.
read_declared_secrets() {
  DECLARED_SECRETS=()
  local line
  [[ -f "$SECRETS_FILE" ]] || return 0
  while IFS= read -r line || [[ -n "$line" ]]; do
    line="${line%%#*}"
    line="${line//[[:space:]]/}"
    [[ -z "$line" ]] && continue
    is_secret_name "$line" ||
      die "infra/secrets: \"$line\" is not a secret name." \
        "Fix it: one environment variable name a line, capitals, digits and _, e.g. API_TOKENS"
    DECLARED_SECRETS+=("$line")
  done <"$SECRETS_FILE"
}

# A name a task can receive as an environment variable and SSM can hold in a path.
is_secret_name() { [[ "$1" =~ ^[A-Z][A-Z0-9_]{0,127}$ ]]; }

is_declared_secret() {
  local name
  for name in ${DECLARED_SECRETS[@]+"${DECLARED_SECRETS[@]}"}; do
    [[ "$name" == "$1" ]] && return 0
  done
  return 1
}

# Print each secret set for the environment as NAME<tab>last change, never a value:
# DescribeParameters returns names and metadata only.
stored_secrets() {
  aws ssm describe-parameters \
    --parameter-filters "Key=Path,Option=OneLevel,Values=$SECRETS_PATH" \
    --query 'Parameters[].[Name,LastModifiedDate]' --output text |
    sed -n "s|^$SECRETS_PATH/||p"
}

# Set MISSING_SECRETS to the declared secrets that are not set for the environment.
find_missing_secrets() {
  MISSING_SECRETS=()
  local stored name
  stored="$(stored_secrets | cut -f1)"
  for name in ${DECLARED_SECRETS[@]+"${DECLARED_SECRETS[@]}"}; do
    grep -qxF "$name" <<<"$stored" || MISSING_SECRETS+=("$name")
  done
}

# An ISO 8601 time: AWS CLI v2 prints one, v1 seconds since 1970 (GNU date -d, BSD date -r).
readable_time() {
  local seconds="${1%.*}"
  if [[ "$1" =~ ^[0-9]+(\.[0-9]+)?$ ]]; then
    date -u -d "@$seconds" +%Y-%m-%dT%H:%M:%SZ 2>/dev/null || date -u -r "$seconds" +%Y-%m-%dT%H:%M:%SZ
  else
    printf '%s\n' "$1"
  fi
}

stack_status() {
  aws cloudformation describe-stacks --stack-name "$1" \
    --query 'Stacks[0].StackStatus' --output text 2>/dev/null || echo NONE
}

# Print parameter $2 of stack $1 as it was last deployed.
stack_parameter() {
  aws cloudformation describe-stacks --stack-name "$1" \
    --query "Stacks[0].Parameters[?ParameterKey=='$2'].ParameterValue | [0]" --output text
}

stack_output() {
  aws cloudformation describe-stacks --stack-name "$1" \
    --query "Stacks[0].Outputs[?OutputKey=='$2'].OutputValue | [0]" --output text
}

# Print a stack's latest events, newest first, to stderr.
print_stack_events() {
  aws cloudformation describe-stack-events --stack-name "$1" --max-items "${2:-25}" \
    --query 'StackEvents[].[Timestamp,LogicalResourceId,ResourceStatus,ResourceStatusReason]' \
    --output table >&2
}

# Stop unless the AWS CLI is installed; $1 is the make target to run again.
require_aws_cli() {
  command -v aws >/dev/null ||
    die "the AWS CLI is not installed." \
      "Install it (https://docs.aws.amazon.com/cli/latest/userguide/getting-started-install.html), then run make $1 again."
}

# Stop unless the environment's service stack exists; then set CLUSTER and SERVICE, its
# ECS cluster and service.
require_deployed() {
  [[ "$(stack_status "$SERVICE_STACK")" != NONE ]] ||
    die "$ENVIRONMENT_NAME is not deployed: there is no stack $SERVICE_STACK in $AWS_REGION. Deploy it: make deploy ENV=$ENVIRONMENT_NAME"
  CLUSTER="$(stack_output "$SERVICE_STACK" ClusterName)"
  SERVICE="$(stack_output "$SERVICE_STACK" ServiceName)"
}

# Say which AWS API and identity are used; CALLER_ARN is set for the caller.
check_credentials() {
  if [[ -n "${AWS_ENDPOINT_URL:-}" ]]; then
    note "AWS API: $AWS_ENDPOINT_URL (AWS_ENDPOINT_URL)"
  fi
  CALLER_ARN="$(aws sts get-caller-identity --query Arn --output text)" ||
    die "no usable AWS credentials." \
      "Sign in first, e.g. aws configure sso (or aws sso login --profile NAME; export AWS_PROFILE=NAME)."
}
