#!/usr/bin/env bash
# Delete one environment of {{ cookiecutter.project_slug }} from AWS: `destroy.sh` deletes its service stack, and
# the bootstrap stack too once no environment has a service or data stack left; `destroy.sh
# data` deletes its data stacks{% if cookiecutter.database == "postgres" %} (the database and, with one, the volume){% else %} (the volume){% endif %}, once its service stack is gone.
#
# ENV names the environment (default staging). Asks for the service name first; without a
# terminal, set CONFIRM=<service name>.
# Kept on purpose by destroy, and named at the end: the data stacks, whose data outlives the
# service (a new deploy uses them again), the ECR repository with its images, the S3
# bucket of the load balancer's access logs and the environment's secrets (the clients hold
# the API tokens, and a new deploy reuses them).
set -euo pipefail

# shellcheck source=scripts/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
MODE="${1:-service}"
[[ "$MODE" == service || "$MODE" == data ]] || die "destroy.sh takes no argument or data, not $MODE."
use_environment "${ENV:-}"

# Destroy reads outputs of stacks that may be half gone: a missing one reads as None.
output_or_none() {
  stack_output "$@" 2>/dev/null || echo None
}

check_tools() {
  step "checking tools and AWS credentials"
  require_aws_cli "$([[ "$MODE" == data ]] && echo destroy-data || echo destroy)"
  check_credentials
  note "deleting as $CALLER_ARN from $AWS_REGION"
}

# The data stacks of environment $1 that exist, one a line.
existing_data_stacks() {
  local stack
  for stack in $(data_stacks_of "$1"); do
    [[ "$(stack_status "$stack")" == NONE ]] || printf '%s\n' "$stack"
  done
}

# What keeps the bootstrap stack (the repository, and the CloudFormation role the other
# stacks are deleted through): the other environments' service stacks, and every
# environment's data stacks, this one's included.
bootstrap_users() {
  local name found=()
  for name in $(list_environments); do
    if [[ "$name" != "$ENVIRONMENT_NAME" && "$(stack_status "$(service_stack_of "$name")")" != NONE ]]; then
      found+=("$name")
    fi
  done
  local stack
  for name in $(list_environments); do
    for stack in $(existing_data_stacks "$name"); do found+=("$stack"); done
  done
  printf '%s' "${found[*]-}"
}

confirm() {
  if [[ "${CONFIRM:-}" == "$SERVICE_NAME" ]]; then
    return
  fi
  local target
  target="$([[ "$MODE" == data ]] && echo destroy-data || echo destroy)"
  [[ -t 0 ]] ||
    die "not confirmed." "Run it again with CONFIRM=$SERVICE_NAME to delete the stacks ${STACKS[*]}: make $target ENV=$ENVIRONMENT_NAME CONFIRM=$SERVICE_NAME"
  local answer
  read -r -p "Delete the stacks ${STACKS[*]} in $AWS_REGION${WHAT:+, $WHAT}? Type $SERVICE_NAME to confirm: " answer
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
# Retain), so that a service can be rolled back to one{% if cookiecutter.database == "postgres" %}, and each deploy registers one of the
# migrations' family <service>-<env>-migrate{% endif %}; they go here.
deregister_task_definitions() {
  step "deregistering the task definition revisions of $CLUSTER_NAME"
  local arns arn
  # --family-prefix matches by prefix: keep this family's revisions only.
  arns="$(aws ecs list-task-definitions --family-prefix "$CLUSTER_NAME" --status ACTIVE \
    --query "taskDefinitionArns[?contains(@, ':task-definition/$CLUSTER_NAME:'){% if cookiecutter.database == "postgres" %} || contains(@, ':task-definition/$CLUSTER_NAME-migrate:'){% endif %}]" --output text)"
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
    die "fix the cause above, then run make $([[ "$MODE" == data ]] && echo destroy-data || echo destroy) again."
  fi
  note "deleted"
}

{%- if cookiecutter.database == "postgres" %}

# AWS CLI v1 sends rds commands in us-east-1 to rds.amazonaws.com whatever AWS_ENDPOINT_URL
# says (its overridesslcommonname customization): name the endpoint to it again.
RDS_ENDPOINT=()
[[ -z "${AWS_ENDPOINT_URL:-}" ]] || RDS_ENDPOINT=(--endpoint-url "$AWS_ENDPOINT_URL")

# Stop while the database refuses to be deleted: CloudFormation would fail half-way. It is
# on in production (DatabaseDeletionProtection=true); turning it off is the deliberate step.
require_database_deletable() {
  local instance protected
  [[ "$(stack_status "$DATABASE_STACK")" != NONE ]] || return 0
  instance="$(output_or_none "$DATABASE_STACK" DatabaseInstanceId)"
  [[ "$instance" != None ]] || return 0
  protected="$(aws rds ${RDS_ENDPOINT[@]+"${RDS_ENDPOINT[@]}"} describe-db-instances --db-instance-identifier "$instance" \
    --query 'DBInstances[0].DeletionProtection' --output text 2>/dev/null || echo False)"
  [[ "$protected" != True ]] ||
    die "database $instance has deletion protection on (DatabaseDeletionProtection in infra/environments/$ENVIRONMENT_NAME.env); nothing was deleted." \
      "Turn it off on purpose first: aws rds modify-db-instance --db-instance-identifier $instance --no-deletion-protection --apply-immediately" \
      "then run make destroy-data ENV=$ENVIRONMENT_NAME again (a final snapshot is kept)."
}

# The final snapshot that CloudFormation takes as it deletes the database (DeletionPolicy:
# Snapshot), named afterwards.
print_final_snapshots() {
  local instance="$1" snapshot
  for snapshot in $(aws rds ${RDS_ENDPOINT[@]+"${RDS_ENDPOINT[@]}"} describe-db-snapshots --db-instance-identifier "$instance" --snapshot-type manual \
    --query 'DBSnapshots[].DBSnapshotIdentifier' --output text 2>/dev/null); do
    note "final snapshot $snapshot of database $instance (billed as backup storage):"
    note "  aws rds delete-db-snapshot --db-snapshot-identifier $snapshot"
  done
}
{%- endif %}

# make destroy-data: the data stacks, on purpose, once the service that uses them is gone.
destroy_data() {
  check_tools
  [[ "$(stack_status "$SERVICE_STACK")" == NONE ]] ||
    die "$SERVICE_STACK still uses the data; nothing was deleted." \
      "Delete it first: make destroy ENV=$ENVIRONMENT_NAME, then make destroy-data ENV=$ENVIRONMENT_NAME"
  read -r -a STACKS <<<"$(existing_data_stacks "$ENVIRONMENT_NAME" | tr '\n' ' ')"
  if [[ -z "${STACKS[*]-}" ]]; then
    step "no data stacks of $ENVIRONMENT_NAME: nothing to delete"
    return
  fi
{%- if cookiecutter.database == "postgres" %}
  require_database_deletable
  local instance
  instance="$(output_or_none "$DATABASE_STACK" DatabaseInstanceId)"
{%- endif %}
  local file_system
  file_system="$(output_or_none "$VOLUME_STACK" FileSystemId)"
  WHAT="and the data in them"
  confirm
  local stack_role stack
  stack_role="$(output_or_none "$BOOTSTRAP_STACK" CloudFormationRoleArn)"
  for stack in "${STACKS[@]}"; do delete_stack "$stack" "$stack_role"; done
  # The stack retains its file system (DeletionPolicy: Retain); its mount targets are gone.
  if [[ "$file_system" == fs-* ]]; then
    step "deleting EFS file system $file_system"
    aws efs delete-file-system --file-system-id "$file_system"
    note "deleted (AWS Backup's daily recovery points of it expire by themselves)"
  fi
  step "done; kept:"
{%- if cookiecutter.database == "postgres" %}
  [[ "$instance" == None ]] || print_final_snapshots "$instance"
{%- endif %}
  note "stack $BOOTSTRAP_STACK: make destroy ENV=$ENVIRONMENT_NAME deletes it once no environment uses it"
}

[[ "$MODE" == service ]] || {
  destroy_data
  exit 0
}

check_tools
# The service stack only: the data stacks outlive it (make destroy-data deletes them), and
# the bootstrap stack holds the repository the service pulls from and the role the stacks
# run with.
STACKS=("$SERVICE_STACK")
USERS="$(bootstrap_users)"
[[ -n "$USERS" ]] || STACKS+=("$BOOTSTRAP_STACK")
confirm
# Read what the stacks keep before they are gone, to name it afterwards.
REPOSITORY="$(output_or_none "$BOOTSTRAP_STACK" RepositoryUri)"
ACCESS_LOGS="$(output_or_none "$SERVICE_STACK" AccessLogBucketName)"
SECRETS_FOUND="$(stored_secrets | cut -f1 | tr '\n' ' ')"
KEPT_DATA="$(existing_data_stacks "$ENVIRONMENT_NAME" | tr '\n' ' ')"
# The service stack is deleted through the role it runs with; the bootstrap stack, which
# holds that role, last and with the caller's own permissions.
STACK_ROLE_ARN="$(output_or_none "$BOOTSTRAP_STACK" CloudFormationRoleArn)"
allow_load_balancer_deletion
delete_stack "$SERVICE_STACK" "$STACK_ROLE_ARN"
if [[ -n "$USERS" ]]; then
  step "keeping stack $BOOTSTRAP_STACK: still used by $USERS"
else
  delete_stack "$BOOTSTRAP_STACK" ""
fi
deregister_task_definitions

step "done; kept on purpose, delete by hand when no longer needed:"
named=0
for stack in $KEPT_DATA; do
  note "stack $stack with the service's data (a new make deploy ENV=$ENVIRONMENT_NAME uses it again):"
  note "  make destroy-data ENV=$ENVIRONMENT_NAME"
  named=$((named + 1))
done
if [[ "$REPOSITORY" == */* && -z "$USERS" ]]; then
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
[[ "$named" -gt 0 ]] || note "nothing found (the stacks had no outputs to read)"
