#!/usr/bin/env bash
# Delete one environment of {{ cookiecutter.project_slug }} from AWS: its service and volume (if any) stacks,
# and the bootstrap stack too once no other environment's service stack is left.
#
# ENV names the environment (default staging). Asks for the service name first; without a
# terminal, set CONFIRM=<service name>.
# Kept on purpose, and named at the end: the ECR repository with its images, the S3
# bucket of the load balancer's access logs, the environment's secrets (the clients hold
# the API tokens, and a new deploy reuses them), and the EFS file system of the volume
# stack with the data of /data.
set -euo pipefail

# shellcheck source=scripts/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
use_environment "${ENV:-}"

# Destroy reads outputs of stacks that may be half gone: a missing one reads as None.
output_or_none() {
  stack_output "$@" 2>/dev/null || echo None
}

check_tools() {
  step "checking tools and AWS credentials"
  require_aws_cli destroy
  check_credentials
  note "deleting as $CALLER_ARN from $AWS_REGION"
}

# The service stacks of the other environments that exist: while one does, the bootstrap
# stack (their repository and roles) stays.
other_environments_deployed() {
  local name found=()
  for name in $(list_environments); do
    [[ "$name" == "$ENVIRONMENT_NAME" ]] && continue
    [[ "$(stack_status "$(service_stack_of "$name")")" == NONE ]] || found+=("$name")
  done
  printf '%s' "${found[*]-}"
}

confirm() {
  if [[ "${CONFIRM:-}" == "$SERVICE_NAME" ]]; then
    return
  fi
  [[ -t 0 ]] ||
    die "not confirmed." "Run it again with CONFIRM=$SERVICE_NAME to delete the stacks ${STACKS[*]}."
  local answer
  read -r -p "Delete the stacks ${STACKS[*]} in $AWS_REGION? Type $SERVICE_NAME to confirm: " answer
  [[ "$answer" == "$SERVICE_NAME" ]] || die "not confirmed; nothing was deleted."
}

# infra/service.yaml turns on the load balancer's deletion protection, against deleting
# the stack by mistake; this is the deletion on purpose, so turn it off first.
allow_load_balancer_deletion() {
  local arn
  arn="$(aws cloudformation list-stack-resources --stack-name "$SERVICE_STACK" \
    --query "StackResourceSummaries[?LogicalResourceId=='LoadBalancer'].PhysicalResourceId | [0]" \
    --output text 2>/dev/null)" || return 0
  [[ "$arn" == arn:* ]] || return 0
  step "turning off deletion protection of load balancer ${arn#*:loadbalancer/}"
  aws elbv2 modify-load-balancer-attributes --load-balancer-arn "$arn" \
    --attributes Key=deletion_protection.enabled,Value=false >/dev/null
}

# The service stack keeps replaced task definition revisions (UpdateReplacePolicy:
# Retain), so that a service can be rolled back to one; they go here.
deregister_task_definitions() {
  step "deregistering the task definition revisions of $CLUSTER_NAME"
  local arns arn
  # --family-prefix matches by prefix: keep this family's revisions only.
  arns="$(aws ecs list-task-definitions --family-prefix "$CLUSTER_NAME" --status ACTIVE \
    --query "taskDefinitionArns[?contains(@, ':task-definition/$CLUSTER_NAME:')]" --output text)"
  if [[ -z "$arns" || "$arns" == None ]]; then
    note "none left"
    return
  fi
  for arn in $arns; do
    aws ecs deregister-task-definition --task-definition "$arn" >/dev/null
    note "deregistered ${arn##*/}"
  done
}

# ROLE is the CloudFormation role the stack runs with, or "" for the caller's own permissions.
delete_stack() {
  local stack="$1" role="$2"
  step "deleting stack $stack"
  if [[ "$(stack_status "$stack")" == NONE ]]; then
    note "not found: nothing to delete"
    return
  fi
  local with_role=()
  [[ -z "$role" || "$role" == None ]] || with_role=(--role-arn "$role")
  aws cloudformation delete-stack --stack-name "$stack" ${with_role[@]+"${with_role[@]}"}
  if ! aws cloudformation wait stack-delete-complete --stack-name "$stack"; then
    printf '\nERROR: deleting stack %s failed. Its latest events:\n' "$stack" >&2
    print_stack_events "$stack" 15 || true
    die "fix the cause above, then run make destroy again."
  fi
  note "deleted"
}

check_tools
# In this order: the service mounts the volume, and the bootstrap stack holds the
# repository the service pulls from and the role both stacks run with.
STACKS=("$SERVICE_STACK" "$VOLUME_STACK")
OTHERS="$(other_environments_deployed)"
[[ -n "$OTHERS" ]] || STACKS+=("$BOOTSTRAP_STACK")
confirm
# Read what the stacks keep before they are gone, to name it afterwards.
REPOSITORY="$(output_or_none "$BOOTSTRAP_STACK" RepositoryUri)"
ACCESS_LOGS="$(output_or_none "$SERVICE_STACK" AccessLogBucketName)"
FILE_SYSTEM="$(output_or_none "$VOLUME_STACK" FileSystemId)"
SECRETS_FOUND="$(stored_secrets | cut -f1 | tr '\n' ' ')"
# The service and volume stacks are deleted through the role they run with; the
# bootstrap stack, which holds that role, last and with the caller's own permissions.
STACK_ROLE_ARN="$(output_or_none "$BOOTSTRAP_STACK" CloudFormationRoleArn)"
allow_load_balancer_deletion
delete_stack "$SERVICE_STACK" "$STACK_ROLE_ARN"
delete_stack "$VOLUME_STACK" "$STACK_ROLE_ARN"
if [[ -n "$OTHERS" ]]; then
  step "keeping stack $BOOTSTRAP_STACK: the environments $OTHERS still use it"
else
  delete_stack "$BOOTSTRAP_STACK" ""
fi
deregister_task_definitions

step "done; kept on purpose, delete by hand when no longer needed:"
named=0
if [[ "$REPOSITORY" == */* && -z "$OTHERS" ]]; then
  note "ECR repository ${REPOSITORY#*/} and its images:"
  note "  aws ecr delete-repository --repository-name ${REPOSITORY#*/} --force"
  named=$((named + 1))
fi
if [[ "$ACCESS_LOGS" != None ]]; then
  note "S3 bucket $ACCESS_LOGS with the load balancer's access logs (they expire by themselves):"
  note "  aws s3 rb s3://$ACCESS_LOGS --force"
  named=$((named + 1))
fi
for name in $SECRETS_FOUND; do
  note "secret $name, SSM parameter $SECRETS_PATH/$name (a new deploy reuses it):"
  note "  make secret-unset ENV=$ENVIRONMENT_NAME NAME=$name"
  named=$((named + 1))
done
if [[ "$FILE_SYSTEM" == fs-* ]]; then
  note "EFS file system $FILE_SYSTEM with the service's data (its mount targets are gone):"
  note "  aws efs delete-file-system --file-system-id $FILE_SYSTEM"
  named=$((named + 1))
fi
[[ "$named" -gt 0 ]] || note "nothing found (the stacks had no outputs to read)"
