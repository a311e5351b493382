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
# shellcheck source=scripts/one_off_task.sh
source "$(dirname "${BASH_SOURCE[0]}")/one_off_task.sh"
CMD="${CMD:-}"
TIMEOUT="${TIMEOUT:-600}"

use_environment "${ENV:-}"
[[ -n "$CMD" ]] || die "give the command to run: make run-task CMD=\"python -m ...\""
[[ "$TIMEOUT" =~ ^[0-9]+$ ]] || die "TIMEOUT=$TIMEOUT is not a number of seconds."
require_aws_cli run-task
command -v python3 >/dev/null || die "make run-task needs python3 to pass CMD to ECS."
check_credentials
require_deployed

DEFINITION="$(running_task_definition)"
# As JSON, which quotes whatever CMD holds.
OVERRIDES="$(python3 -c '
import json, sys
print(json.dumps({"containerOverrides": [{"name": "app", "command": ["sh", "-c", sys.argv[1]]}]}))
' "$CMD")"

step "one-off task of ${DEFINITION##*/} in cluster $CLUSTER: $CMD"
start_one_off_task "$DEFINITION" make-run-task "$OVERRIDES"
wait_for_one_off_task "$TIMEOUT" ||
  die "task $TASK_ID is still running after ${TIMEOUT}s; it keeps running." \
    "Follow it: make logs ENV=$ENVIRONMENT_NAME FOLLOW=1, or wait longer: TIMEOUT=1800"
if [[ ! "$TASK_EXIT_CODE" =~ ^[0-9]+$ ]]; then
  die "task $TASK_ID stopped without running the command to its end: $TASK_STOPPED_REASON" \
    "See why: aws ecs describe-tasks --cluster $CLUSTER --tasks $TASK_ID"
fi
step "task $TASK_ID exited with $TASK_EXIT_CODE"
exit "$TASK_EXIT_CODE"
