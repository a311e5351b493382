#!/usr/bin/env bash
# Put one environment of {{ cookiecutter.project_slug }} back on its previous release, through the
# service stack (a deploy of the earlier image, so CloudFormation stays the record of what
# runs and nothing drifts), then show make status.
#
# The previous release is what make status shows as such (previous_release in releases.sh),
# so a second rollback returns to the release the first one left. REVISION=N picks
# revision N of the task definition family instead.
#
# ENV names the environment (default staging).
set -euo pipefail

# shellcheck source=scripts/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
# shellcheck source=scripts/releases.sh
source "$(dirname "${BASH_SOURCE[0]}")/releases.sh"
REVISION="${REVISION:-}"

use_environment "${ENV:-}"
[[ -z "$REVISION" || "$REVISION" =~ ^[0-9]+$ ]] || die "REVISION=$REVISION is not a revision number."
require_aws_cli rollback
check_credentials
require_deployed

CURRENT="$(running_task_definition)"
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
  TARGET="$(previous_release "$CURRENT")"
  [[ -n "$TARGET" ]] ||
    die "$FAMILY has no earlier ACTIVE revision with another image: there is no previous release to go back to." \
      "Deploy a given image instead: make deploy ENV=$ENVIRONMENT_NAME IMAGE_URI=..."
fi
IMAGE="$(image_of "$TARGET")"
step "rolling back to ${TARGET##*/}: $IMAGE"

# The same deploy as any other: scan gate, then the service stack with this image and the
# environment's settings as they are in the repo now.
{%- if cookiecutter.database == "postgres" %}
# Without the migrations: the earlier image's would not know the database's newer revision,
# and the schema stays as it is, which the previous release must be able to read.
ENV="$ENVIRONMENT_NAME" IMAGE_URI="$IMAGE" SKIP_MIGRATIONS=1 "$(dirname "${BASH_SOURCE[0]}")/deploy.sh"
{%- else %}
ENV="$ENVIRONMENT_NAME" IMAGE_URI="$IMAGE" "$(dirname "${BASH_SOURCE[0]}")/deploy.sh"
{%- endif %}
ENV="$ENVIRONMENT_NAME" exec "$(dirname "${BASH_SOURCE[0]}")/status.sh"
