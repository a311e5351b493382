# Reading the service's log group, for make logs and make run-task: sourced after common.sh.
# shellcheck shell=bash
# LAST_EVENT_MS is read by the scripts that source this file.
# shellcheck disable=SC2034

# The newest event print_log_events printed, in milliseconds since 1970.
LAST_EVENT_MS=-1

# Print the messages of LOG_GROUP's events from $2 (milliseconds since 1970) on, one a
# line, through the command $1 (cat: as logged), and set LAST_EVENT_MS to the newest
# event's time; with no events, print nothing and leave it. More filter-log-events
# options follow, e.g. --filter-pattern or --log-stream-names.
print_log_events() {
  local format="$1" from="$2" events
  shift 2
  events="$(aws logs filter-log-events --log-group-name "$LOG_GROUP" --start-time "$from" "$@" \
    --query 'events[].[timestamp,message]' --output text)"
  [[ -n "$events" ]] || return 0
  LAST_EVENT_MS="$(cut -f1 <<<"$events" | sort -n | tail -n 1)"
  cut -f2- <<<"$events" | "$format"
}
