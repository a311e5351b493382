#!/usr/bin/env bash
# Show how one environment of {{ cookiecutter.project_slug }} is doing on ECS: its URL, task counts,
# deployments (task definition, image and digest, rollout), load balancer targets and
# latest events. Exits 0 only when the service is steady and every target healthy, so
# scripts and CI can wait on it.
#
# ENV names the environment (default staging).
set -euo pipefail

# shellcheck source=scripts/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
# shellcheck source=scripts/releases.sh
source "$(dirname "${BASH_SOURCE[0]}")/releases.sh"
use_environment "${ENV:-}"
require_aws_cli status
check_credentials
require_deployed

step "service $SERVICE of cluster $CLUSTER: $(stack_output "$SERVICE_STACK" ServiceUrl)"

describe_service() {
  aws ecs describe-services --cluster "$CLUSTER" --services "$SERVICE" --query "services[0].$1" --output text
}

# The image of a task definition's app container, and its digest where ECR knows it.
image_and_digest_of() {
  local image digest tag repository
  image="$(image_of "$1")"
  if [[ "$image" == *@sha256:* ]]; then
    digest="${image##*@}"
  elif [[ "$image" == *.dkr.ecr.*/*:* ]]; then
    repository="${image#*/}"
    tag="${repository##*:}"
    repository="${repository%:*}"
    digest="$(aws ecr describe-images --repository-name "$repository" --image-ids "imageTag=$tag" \
      --query 'imageDetails[0].imageDigest' --output text 2>/dev/null || echo unknown)"
  else
    digest="not in ECR"
  fi
  printf '%s  (%s)' "$image" "$digest"
}

read -r DESIRED RUNNING PENDING < <(describe_service '[desiredCount,runningCount,pendingCount]')
note "tasks: $RUNNING running, $PENDING pending, $DESIRED desired"

step "deployments (PRIMARY is the newest; ACTIVE ones are being replaced)"
DEPLOYMENTS=0
ROLLOUT=""
CURRENT=""
while IFS=$'\t' read -r status definition rollout running desired; do
  [[ -n "$status" ]] || continue
  DEPLOYMENTS=$((DEPLOYMENTS + 1))
  [[ "$status" != PRIMARY ]] || ROLLOUT="$rollout"
  note "$status ${definition##*/}: $running of $desired running, rollout $rollout"
  note "  image $(image_and_digest_of "$definition")"
  [[ "$status" != PRIMARY ]] || CURRENT="$definition"
done < <(describe_service 'deployments[].[status,taskDefinition,rolloutState,runningCount,desiredCount]')

PREVIOUS=""
[[ -z "$CURRENT" ]] || PREVIOUS="$(previous_release "$CURRENT")"
if [[ -n "$PREVIOUS" ]]; then
  note "previous release (make rollback goes back to it): ${PREVIOUS##*/}"
  note "  image $(image_and_digest_of "$PREVIOUS")"
else
  note "previous release: none (no earlier ACTIVE revision with another image)"
fi

step "load balancer targets"
TARGET_GROUP="$(aws cloudformation list-stack-resources --stack-name "$SERVICE_STACK" \
  --query "StackResourceSummaries[?LogicalResourceId=='TargetGroup'].PhysicalResourceId | [0]" \
  --output text)"
HEALTHY=0
UNHEALTHY=0
while IFS=$'\t' read -r target port state reason; do
  [[ -n "$target" ]] || continue
  if [[ "$state" == healthy ]]; then
    HEALTHY=$((HEALTHY + 1))
  else
    UNHEALTHY=$((UNHEALTHY + 1))
  fi
  note "$target:$port $state${reason:+ ($reason)}"
done < <(aws elbv2 describe-target-health --target-group-arn "$TARGET_GROUP" \
  --query 'TargetHealthDescriptions[].[Target.Id,Target.Port,TargetHealth.State,TargetHealth.Reason]' \
  --output text | sed 's/\tNone$/\t/')
[[ $((HEALTHY + UNHEALTHY)) -gt 0 ]] || note "none registered"

step "latest events"
EVENTS=0
while IFS=$'\t' read -r created message; do
  [[ -n "$created" ]] || continue
  EVENTS=$((EVENTS + 1))
  note "$(readable_time "$created")  $message"
done < <(describe_service 'events[:5].[createdAt,message]')
[[ "$EVENTS" -gt 0 ]] || note "none"

PROBLEMS=()
[[ "$DEPLOYMENTS" -eq 1 && "$ROLLOUT" == COMPLETED ]] ||
  PROBLEMS+=("a deployment is in progress (rollout ${ROLLOUT:-unknown}, $DEPLOYMENTS deployments)")
[[ "$RUNNING" == "$DESIRED" && "$PENDING" == 0 ]] ||
  PROBLEMS+=("$RUNNING of $DESIRED tasks running, $PENDING pending")
[[ "$UNHEALTHY" -eq 0 && "$HEALTHY" -ge "$DESIRED" ]] ||
  PROBLEMS+=("$HEALTHY of $DESIRED targets healthy")
if [[ -n "${PROBLEMS[*]-}" ]]; then
  printf -v reasons '%s; ' "${PROBLEMS[@]}"
  die "$ENVIRONMENT_NAME is not steady and healthy: ${reasons%; }. See the events above, and the logs: make logs ENV=$ENVIRONMENT_NAME"
fi
step "$ENVIRONMENT_NAME is steady and healthy"
