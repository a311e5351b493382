#!/usr/bin/env bash
# Print the log lines of one environment of {{ cookiecutter.project_slug }} from CloudWatch Logs.
#
#   SINCE=10m     how far back: seconds, minutes, hours or days (30s, 10m, 2h, 1d)
#   FOLLOW=1      keep printing new lines until Ctrl-C
#   FILTER=...    a CloudWatch Logs filter pattern, e.g. a request ID: FILTER='"3f9c2a"'
#   PRETTY=1      one readable line per JSON line (needs python3); default: the JSON as logged
#
# ENV names the environment (default staging). filter-log-events rather than `aws logs
# tail`, which AWS CLI v1 lacks.
set -euo pipefail

# shellcheck source=scripts/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
# shellcheck source=scripts/log_events.sh
source "$(dirname "${BASH_SOURCE[0]}")/log_events.sh"
SINCE="${SINCE:-10m}"
FOLLOW="${FOLLOW:-}"
FILTER="${FILTER:-}"
PRETTY="${PRETTY:-}"
# How often FOLLOW=1 asks for new lines.
POLL_SECONDS=2

use_environment "${ENV:-}"
[[ "$SINCE" =~ ^([0-9]+)([smhd])$ ]] ||
  die "SINCE=$SINCE is not a duration: a number and s, m, h or d, e.g. SINCE=10m"
case "${BASH_REMATCH[2]}" in
  s) SINCE_SECONDS="${BASH_REMATCH[1]}" ;;
  m) SINCE_SECONDS=$((BASH_REMATCH[1] * 60)) ;;
  h) SINCE_SECONDS=$((BASH_REMATCH[1] * 3600)) ;;
  d) SINCE_SECONDS=$((BASH_REMATCH[1] * 86400)) ;;
esac
require_aws_cli logs
if [[ -n "$PRETTY" ]]; then
  command -v python3 >/dev/null || die "PRETTY=1 needs python3. Without it: make logs ENV=$ENVIRONMENT_NAME"
fi
check_credentials
aws logs describe-log-groups --log-group-name-prefix "$LOG_GROUP" \
  --query "logGroups[?logGroupName=='$LOG_GROUP'] | length(@)" --output text | grep -qx 1 ||
  die "$ENVIRONMENT_NAME has no log group $LOG_GROUP in $AWS_REGION: it is not deployed. Deploy it: make deploy ENV=$ENVIRONMENT_NAME"
step "log group $LOG_GROUP, the last $SINCE${FILTER:+, matching $FILTER}${FOLLOW:+, following (Ctrl-C stops)}"

# Turn each JSON line into "time level logger message key=value ..."; other lines pass.
readable() {
  python3 -c '
import json, sys
for line in sys.stdin:
    try:
        record = json.loads(line)
    except ValueError:
        sys.stdout.write(line)
        continue
    if not isinstance(record, dict):
        sys.stdout.write(line)
        continue
    head = [str(record.pop(key, "-")) for key in ("time", "level", "logger", "message")]
    rest = " ".join(f"{key}={value}" for key, value in record.items())
    print(" ".join(head), rest, flush=True)
'
}

# As logged, or readable; with the filter pattern, if any.
FORMAT="cat"
[[ -z "$PRETTY" ]] || FORMAT=readable
WITH_FILTER=()
[[ -z "$FILTER" ]] || WITH_FILTER=(--filter-pattern "$FILTER")
# From the millisecond after the newest line printed: a line of that same millisecond
# could repeat, and one later skips none that CloudWatch had by then.
LAST_EVENT_MS=$((($(date +%s) - SINCE_SECONDS) * 1000 - 1))
print_log_events "$FORMAT" "$((LAST_EVENT_MS + 1))" ${WITH_FILTER[@]+"${WITH_FILTER[@]}"}
while [[ -n "$FOLLOW" ]]; do
  sleep "$POLL_SECONDS"
  print_log_events "$FORMAT" "$((LAST_EVENT_MS + 1))" ${WITH_FILTER[@]+"${WITH_FILTER[@]}"}
done
