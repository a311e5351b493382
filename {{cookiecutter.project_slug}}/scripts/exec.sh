#!/usr/bin/env bash
# Open a shell, or run CMD, in a running task of one environment of {{ cookiecutter.project_slug }}
# through ECS Exec.
#
#   CMD=/bin/sh   the command (default: a shell)
#
# ENV names the environment (default staging). ECS Exec is an environment setting
# (ExecEnabled in infra/environments/<env>.env: on for staging, off for production), and the
# AWS CLI needs the Session Manager plugin for it.
set -euo pipefail

# shellcheck source=scripts/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
CMD="${CMD:-/bin/sh}"

use_environment "${ENV:-}"
require_aws_cli exec
command -v session-manager-plugin >/dev/null ||
  die "make exec needs the AWS CLI's Session Manager plugin, which is not installed." \
    "Install it (https://docs.aws.amazon.com/systems-manager/latest/userguide/session-manager-working-with-install-plugin.html), then run make exec ENV=$ENVIRONMENT_NAME again."
check_credentials
require_deployed

[[ "$(aws ecs describe-services --cluster "$CLUSTER" --services "$SERVICE" \
  --query 'services[0].enableExecuteCommand' --output text)" == True ]] ||
  die "ECS Exec is off for $ENVIRONMENT_NAME." \
    "Turn it on with ExecEnabled=true in infra/environments/$ENVIRONMENT_NAME.env and make deploy ENV=$ENVIRONMENT_NAME (docs/operations.md says what it allows)."
TASK="$(aws ecs list-tasks --cluster "$CLUSTER" --service-name "$SERVICE" --desired-status RUNNING \
  --query 'taskArns[0]' --output text)"
[[ "$TASK" == arn:* ]] ||
  die "$SERVICE has no running task to open a shell in." "See why: make status ENV=$ENVIRONMENT_NAME"
step "task ${TASK##*/} of $SERVICE: $CMD"
exec aws ecs execute-command --cluster "$CLUSTER" --task "$TASK" --container app \
  --interactive --command "$CMD"
