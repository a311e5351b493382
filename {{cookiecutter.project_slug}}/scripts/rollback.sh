#!/usr/bin/env bash
# Put one environment of {{ cookiecutter.project_slug }} back on its previous release, through the
# service stack (a deploy of the earlier image, so CloudFormation stays the record of what
# runs and nothing drifts), then show make status.
#
# The previous release is the newest ACTIVE revision of the task definition family, older
# than the one the service runs, with another image: each deploy keeps the revision it
# replaces ACTIVE, and a failed deploy's revision is removed as CloudFormation rolls back.
# A second rollback therefore returns to the release the first one left. REVISION=N picks
# revision N of the family instead.
#
# ENV names the environment (default staging).
set -euo pipefail

# shellcheck source=scripts/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
REVISION="${REVISION:-}"

use_environment "${ENV:-}"
[[ -z "$REVISION" || "$REVISION" =~ ^[0-9]+$ ]] || die "REVISION=$REVISION is not a revision number."
require_aws_cli rollback
check_credentials
require_deployed

image_of() {
  aws ecs describe-task-definition --task-definition "$1" \
    --query "taskDefinition.containerDefinitions[?name=='app'].image | [0]" --output text
}

CURRENT="$(aws ecs describe-services --cluster "$CLUSTER" --services "$SERVICE" \
  --query 'services[0].taskDefinition' --output text)"
CURRENT_IMAGE="$(image_of "$CURRENT")"
FAMILY="${CURRENT##*/}"
FAMILY="${FAMILY%:*}"
step "$SERVICE runs ${CURRENT##*/}: $CURRENT_IMAGE"

TARGET=""
if [[ -n "$REVISION" ]]; then
  TARGET="$FAMILY:$REVISION"
  aws ecs describe-task-definition --task-definition "$TARGET" >/dev/null 2>&1 ||
    die "$FAMILY has no revision $REVISION." "List them: aws ecs list-task-definitions --family-prefix $FAMILY"
else
  current_number="${CURRENT##*:}"
  for definition in $(aws ecs list-task-definitions --family-prefix "$FAMILY" --status ACTIVE \
    --sort DESC --query 'taskDefinitionArns[]' --output text); do
    [[ "${definition##*:}" -lt "$current_number" ]] || continue
    if [[ "$(image_of "$definition")" != "$CURRENT_IMAGE" ]]; then
      TARGET="$definition"
      break
    fi
  done
  [[ -n "$TARGET" ]] ||
    die "$FAMILY has no earlier ACTIVE revision with another image: there is no previous release to go back to." \
      "Deploy a given image instead: make deploy ENV=$ENVIRONMENT_NAME IMAGE_URI=..."
fi
IMAGE="$(image_of "$TARGET")"
step "rolling back to ${TARGET##*/}: $IMAGE"

# The same deploy as any other: scan gate, then the service stack with this image and the
# environment's settings as they are in the repo now.
ENV="$ENVIRONMENT_NAME" IMAGE_URI="$IMAGE" "$(dirname "${BASH_SOURCE[0]}")/deploy.sh"
ENV="$ENVIRONMENT_NAME" exec "$(dirname "${BASH_SOURCE[0]}")/status.sh"
