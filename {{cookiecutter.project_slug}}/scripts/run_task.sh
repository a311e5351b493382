#!/usr/bin/env bash
# Run a one-off command of {{ cookiecutter.project_slug }} on ECS (a migration, a backfill): a task from
# the service's current task definition, in the service's subnets and security group, with
# CMD as its command (through sh -c). It waits for the task, prints its log lines, and exits
# with the command's exit code.
#
#   CMD="..."          the command (required)
#   TIMEOUT=600        seconds to wait for the task to stop before giving up (it keeps running)
#
# ENV names the environment (default staging). Needs python3, to pass CMD to ECS as JSON.
set -euo pipefail

# shellcheck source=scripts/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
# shellcheck source=scripts/releases.sh
source "$(dirname "${BASH_SOURCE[0]}")/releases.sh"
# shellcheck source=scripts/log_events.sh
source "$(dirname "${BASH_SOURCE[0]}")/log_events.sh"
CMD="${CMD:-}"
TIMEOUT="${TIMEOUT:-600}"
# How often the task's status and new log lines are read.
POLL_SECONDS=3

use_environment "${ENV:-}"
[[ -n "$CMD" ]] || die "give the command to run: make run-task CMD=\"python -m ...\""
[[ "$TIMEOUT" =~ ^[0-9]+$ ]] || die "TIMEOUT=$TIMEOUT is not a number of seconds."
require_aws_cli run-task
command -v python3 >/dev/null || die "make run-task needs python3 to pass CMD to ECS."
check_credentials
require_deployed

DEFINITION="$(running_task_definition)"
stack_parameter() {
  aws cloudformation describe-stacks --stack-name "$SERVICE_STACK" \
    --query "Stacks[0].Parameters[?ParameterKey=='$1'].ParameterValue | [0]" --output text
}
# The service's own network, as infra/service.yaml gives it to the service: the first two
# subnets, its security group, and a public IP where the subnets have no NAT gateway.
# AWS gives a list parameter as a,b; moto as Python's ['a', 'b'].
SUBNETS="$(stack_parameter SubnetIds | tr -d "[]' " | cut -d, -f1-2)"
ASSIGN_PUBLIC_IP="$(stack_parameter AssignPublicIp)"
SECURITY_GROUP="$(aws cloudformation list-stack-resources --stack-name "$SERVICE_STACK" \
  --query "StackResourceSummaries[?LogicalResourceId=='ServiceSecurityGroup'].PhysicalResourceId | [0]" \
  --output text)"
# As JSON, which quotes whatever CMD holds.
OVERRIDES="$(python3 -c '
import json, sys
print(json.dumps({"containerOverrides": [{"name": "app", "command": ["sh", "-c", sys.argv[1]]}]}))
' "$CMD")"

step "one-off task of ${DEFINITION##*/} in cluster $CLUSTER: $CMD"
TASK="$(aws ecs run-task --cluster "$CLUSTER" --task-definition "$DEFINITION" --launch-type FARGATE \
  --network-configuration "awsvpcConfiguration={subnets=[$SUBNETS],securityGroups=[$SECURITY_GROUP],assignPublicIp=$ASSIGN_PUBLIC_IP}" \
  --overrides "$OVERRIDES" --started-by make-run-task \
  --query 'tasks[0].taskArn' --output text)"
[[ "$TASK" == arn:* ]] || die "ECS started no task." "See why: aws ecs describe-services --cluster $CLUSTER --services $SERVICE"
TASK_ID="${TASK##*/}"
note "task $TASK_ID; stop it with: aws ecs stop-task --cluster $CLUSTER --task $TASK_ID"

# The awslogs driver names the stream <prefix>/<container>/<task ID>.
STREAM="app/app/$TASK_ID"
# Its stream exists once the task has logged: until then there is nothing to print.
print_new_lines() {
  print_log_events cat "$((LAST_EVENT_MS + 1))" --log-stream-names "$STREAM" 2>/dev/null || true
}

deadline=$(($(date +%s) + TIMEOUT))
status=""
while :; do
  status="$(aws ecs describe-tasks --cluster "$CLUSTER" --tasks "$TASK" \
    --query 'tasks[0].lastStatus' --output text)"
  print_new_lines
  [[ "$status" != STOPPED ]] || break
  [[ "$(date +%s)" -lt "$deadline" ]] ||
    die "task $TASK_ID is still $status after ${TIMEOUT}s; it keeps running." \
      "Follow it: make logs ENV=$ENVIRONMENT_NAME FOLLOW=1, or wait longer: TIMEOUT=1800"
  sleep "$POLL_SECONDS"
done
# CloudWatch may deliver the last lines after the task stopped.
sleep "$POLL_SECONDS"
print_new_lines

read -r EXIT_CODE REASON < <(aws ecs describe-tasks --cluster "$CLUSTER" --tasks "$TASK" \
  --query "tasks[0].[containers[?name=='app'].exitCode | [0], stoppedReason]" --output text)
if [[ ! "$EXIT_CODE" =~ ^[0-9]+$ ]]; then
  die "task $TASK_ID stopped without running the command to its end: $REASON" \
    "See why: aws ecs describe-tasks --cluster $CLUSTER --tasks $TASK_ID"
fi
step "task $TASK_ID exited with $EXIT_CODE"
exit "$EXIT_CODE"
