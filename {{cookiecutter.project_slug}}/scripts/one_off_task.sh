# One-off tasks of the service, for make run-task and make deploy's migrations: sourced
# after common.sh and log_events.sh, and after require_deployed or anything else that
# sets CLUSTER.
# shellcheck shell=bash
# The variables set here are read by the scripts that source this file.
# shellcheck disable=SC2034

# How often the task's status and new log lines are read.
POLL_SECONDS=3

# Set TASK_NETWORK to the service's own network, as infra/service.yaml gives it to the
# service: the first two subnets, its security group, and a public IP where the subnets
# have no NAT gateway.
read_service_network() {
  local subnets assign_public_ip security_group
  # AWS gives a list parameter as a,b; moto as Python's ['a', 'b'].
  subnets="$(stack_parameter "$SERVICE_STACK" SubnetIds | tr -d "[]' " | cut -d, -f1-2)"
  assign_public_ip="$(stack_parameter "$SERVICE_STACK" AssignPublicIp)"
  security_group="$(aws cloudformation list-stack-resources --stack-name "$SERVICE_STACK" \
    --query "StackResourceSummaries[?LogicalResourceId=='ServiceSecurityGroup'].PhysicalResourceId | [0]" \
    --output text)"
  TASK_NETWORK="awsvpcConfiguration={subnets=[$subnets],securityGroups=[$security_group],assignPublicIp=$assign_public_ip}"
}

# Start task definition $1 in CLUSTER on the service's network, started by $2, with the
# overrides JSON $3 if given; set TASK and TASK_ID.
start_one_off_task() {
  local definition="$1" started_by="$2" overrides=()
  [[ -z "${3:-}" ]] || overrides=(--overrides "$3")
  read_service_network
  TASK="$(aws ecs run-task --cluster "$CLUSTER" --task-definition "$definition" --launch-type FARGATE \
    --network-configuration "$TASK_NETWORK" ${overrides[@]+"${overrides[@]}"} --started-by "$started_by" \
    --query 'tasks[0].taskArn' --output text)"
  [[ "$TASK" == arn:* ]] || die "ECS started no task of ${definition##*/}." \
    "See why: aws ecs describe-clusters --cluster $CLUSTER --include ATTACHMENTS"
  TASK_ID="${TASK##*/}"
  note "task $TASK_ID; stop it with: aws ecs stop-task --cluster $CLUSTER --task $TASK_ID"
}

# The awslogs driver names the stream <prefix>/<container>/<task ID>; it exists once the
# task has logged, and until then there is nothing to print.
print_new_task_lines() {
  print_log_events cat "$((LAST_EVENT_MS + 1))" --log-stream-names "app/app/$TASK_ID" 2>/dev/null || true
}

# Wait up to $1 seconds for TASK to stop, printing its log lines as they come; then set
# TASK_EXIT_CODE (the app container's, or None when it never ran to its end) and
# TASK_STOPPED_REASON. Returns 1 when the time is up, the task still running.
wait_for_one_off_task() {
  local deadline status
  deadline=$(($(date +%s) + $1))
  while :; do
    status="$(aws ecs describe-tasks --cluster "$CLUSTER" --tasks "$TASK" \
      --query 'tasks[0].lastStatus' --output text)"
    print_new_task_lines
    [[ "$status" != STOPPED ]] || break
    [[ "$(date +%s)" -lt "$deadline" ]] || return 1
    sleep "$POLL_SECONDS"
  done
  # CloudWatch may deliver the last lines after the task stopped.
  sleep "$POLL_SECONDS"
  print_new_task_lines
  read -r TASK_EXIT_CODE TASK_STOPPED_REASON < <(aws ecs describe-tasks --cluster "$CLUSTER" --tasks "$TASK" \
    --query "tasks[0].[containers[?name=='app'].exitCode | [0], stoppedReason]" --output text)
}
