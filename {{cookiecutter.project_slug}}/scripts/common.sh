# Shared by deploy.sh and destroy.sh: the stack names, output helpers and AWS look-ups.
# shellcheck shell=bash
# The variables set here are read by the scripts that source this file.
# shellcheck disable=SC2034

SERVICE_NAME="${SERVICE_NAME:-{{ cookiecutter.project_slug }}}"
export AWS_REGION="${AWS_REGION:-${AWS_DEFAULT_REGION:-{{ cookiecutter.aws_region }}}}"
export AWS_DEFAULT_REGION="$AWS_REGION"
export AWS_PAGER=""
BOOTSTRAP_STACK="$SERVICE_NAME-bootstrap"
SERVICE_STACK="$SERVICE_NAME-service"
# Deployed only where infra/volume.yaml exists (the volume option); the data outlives the service.
VOLUME_STACK="$SERVICE_NAME-volume"

step() { printf '==> %s\n' "$*"; }
note() { printf '    %s\n' "$*"; }
die() {
  printf 'ERROR: %s\n' "$1" >&2
  shift
  for line in "$@"; do printf '       %s\n' "$line" >&2; done
  exit 1
}

stack_status() {
  aws cloudformation describe-stacks --stack-name "$1" \
    --query 'Stacks[0].StackStatus' --output text 2>/dev/null || echo NONE
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

# Say which AWS API and identity are used; CALLER_ARN is set for the caller.
check_credentials() {
  if [[ -n "${AWS_ENDPOINT_URL:-}" ]]; then
    note "AWS API: $AWS_ENDPOINT_URL (AWS_ENDPOINT_URL)"
  fi
  CALLER_ARN="$(aws sts get-caller-identity --query Arn --output text)" ||
    die "no usable AWS credentials." \
      "Sign in first, e.g. aws configure sso (or aws sso login --profile NAME; export AWS_PROFILE=NAME)."
}
