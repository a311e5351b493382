# The releases of a service, for make status, rollback and run-task: sourced after
# common.sh, and after require_deployed, which sets CLUSTER and SERVICE.
# shellcheck shell=bash

# Print the task definition the ECS service runs now (its newest deployment's, mid-rollout).
running_task_definition() {
  aws ecs describe-services --cluster "$CLUSTER" --services "$SERVICE" \
    --query 'services[0].taskDefinition' --output text
}

# Print the image of task definition $1's app container.
image_of() {
  aws ecs describe-task-definition --task-definition "$1" \
    --query "taskDefinition.containerDefinitions[?name=='app'].image | [0]" --output text
}

# Print the previous release of the service running task definition $1: the newest ACTIVE
# revision of its family, older than $1, with another image. Each deploy keeps the revision
# it replaces ACTIVE, and CloudFormation removes a failed deploy's revision as it rolls
# back. Prints nothing when there is none.
previous_release() {
  local current="$1" family number image definition
  family="${current##*/}"
  family="${family%:*}"
  number="${current##*:}"
  image="$(image_of "$current")"
  for definition in $(aws ecs list-task-definitions --family-prefix "$family" --status ACTIVE \
    --sort DESC --query 'taskDefinitionArns[]' --output text); do
    [[ "${definition##*:}" -lt "$number" ]] || continue
    if [[ "$(image_of "$definition")" != "$image" ]]; then
      printf '%s' "$definition"
      return
    fi
  done
}
