#!/usr/bin/env bash
# Deploy to environment TO the image environment FROM runs now, by digest, without a build.
#
# Usage: FROM=staging TO=production scripts/promote.sh (make promote FROM=... TO=...).
# The image is the one FROM's service stack last deployed (its ImageUri parameter, which
# CloudFormation rolls back with a failed update); a tag of this service's repository is
# resolved to its digest, so TO runs exactly the bytes FROM ran. TO's deploy is make
# deploy ENV=TO IMAGE_URI=<that digest>, scan gate included.
set -euo pipefail

# shellcheck source=scripts/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
FROM="${FROM:-}"
TO="${TO:-}"

[[ -n "$FROM" && -n "$TO" ]] ||
  die "name both environments." "Example: make promote FROM=staging TO=production"
[[ "$FROM" != "$TO" ]] || die "FROM and TO are both $FROM." "Example: make promote FROM=staging TO=production"
# Both must exist here before anything is read from AWS.
use_environment "$TO" >/dev/null
use_environment "$FROM" >/dev/null
step "promoting the image of $FROM to $TO"
check_credentials

# The image FROM's service stack runs, as its stack's ImageUri parameter.
deployed_image() {
  local status
  status="$(stack_status "$SERVICE_STACK")"
  case "$status" in
    CREATE_COMPLETE | UPDATE_COMPLETE | UPDATE_ROLLBACK_COMPLETE) ;;
    NONE) die "$FROM is not deployed: stack $SERVICE_STACK does not exist." "Deploy it first: make deploy ENV=$FROM" ;;
    *) die "stack $SERVICE_STACK is $status, so what $FROM runs is not settled." \
      "Wait for it, or see why: aws cloudformation describe-stack-events --stack-name $SERVICE_STACK" ;;
  esac
  aws cloudformation describe-stacks --stack-name "$SERVICE_STACK" \
    --query "Stacks[0].Parameters[?ParameterKey=='ImageUri'].ParameterValue | [0]" --output text
}

# The image by digest: repository@sha256:..., unchanged when it has one or is not in ECR here.
by_digest() {
  local image="$1" repository digest
  if [[ "$image" == *@sha256:* ]]; then
    printf '%s' "$image"
    return
  fi
  repository="$(stack_output "$BOOTSTRAP_STACK" RepositoryUri 2>/dev/null || true)"
  if [[ "$repository" != */* || "$image" != "$repository":* ]]; then
    note "not an image of this service's repository: promoted as it is named" >&2
    printf '%s' "$image"
    return
  fi
  digest="$(aws ecr describe-images --repository-name "${repository#*/}" \
    --image-ids "imageTag=${image##*:}" --query 'imageDetails[0].imageDigest' --output text)" ||
    die "ECR has no image $image any more (its lifecycle policy may have expired it)." \
      "Deploy $FROM again, then promote: make deploy ENV=$FROM && make promote FROM=$FROM TO=$TO"
  printf '%s@%s' "$repository" "$digest"
}

IMAGE="$(deployed_image)"
[[ -n "$IMAGE" && "$IMAGE" != None ]] ||
  die "stack $SERVICE_STACK has no ImageUri parameter." "Deploy it again: make deploy ENV=$FROM"
IMAGE="$(by_digest "$IMAGE")"
note "$FROM runs $IMAGE"

ENV="$TO" IMAGE_URI="$IMAGE" exec "$(dirname "${BASH_SOURCE[0]}")/deploy.sh"
