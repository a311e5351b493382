# The releases of a service, for make status and make rollback: sourced after common.sh.
# shellcheck shell=bash

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
