#!/usr/bin/env bash
# The secrets of one environment of {{ cookiecutter.project_slug }}: SSM SecureString parameters
# /<service>/<env>/<NAME>, one per name declared in infra/secrets.
#
#   scripts/secrets.sh set NAME     store NAME, its value read from stdin: typed without echo
#                                   at a terminal, else piped (make secret-set NAME=...)
#   scripts/secrets.sh list         names and last change dates, never values (make secret-list)
#   scripts/secrets.sh unset NAME   delete NAME (make secret-unset NAME=...)
#
# ENV names the environment (default staging). A value never reaches a command line, a
# file or the output: it goes from stdin to the AWS CLI through a pipe.
set -euo pipefail

# shellcheck source=scripts/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
ACTION="${1:-}"
NAME="${2:-}"

usage() {
  die "$1" "Usage: make secret-set NAME=API_TOKENS | make secret-list | make secret-unset NAME=API_TOKENS (ENV=... for another environment)"
}

case "$ACTION" in
  set | unset)
    [[ -n "$NAME" ]] || usage "give the secret's name: NAME=..."
    is_secret_name "$NAME" ||
      usage "NAME=$NAME is not a secret name: capitals, digits and _, starting with a capital."
    ;;
  list) ;;
  *) usage "unknown action \"$ACTION\"." ;;
esac
use_environment "${ENV:-}"
read_declared_secrets
require_aws_cli "secret-$ACTION"

# Read the value into VALUE: hidden at a terminal, else all of stdin less its final newlines.
read_value() {
  VALUE=""
  if [[ -t 0 ]]; then
    IFS= read -r -s -p "Value of $NAME for $ENVIRONMENT_NAME (not shown; Enter ends it): " VALUE
    printf '\n' >&2
  else
    VALUE="$(cat)"
  fi
  [[ -n "$VALUE" ]] || die "the value of $NAME is empty; nothing was stored." \
    "Pipe it in, e.g. openssl rand -hex 32 | make secret-set ENV=$ENVIRONMENT_NAME NAME=$NAME"
}

set_secret() {
  is_declared_secret "$NAME" ||
    die "$NAME is not declared in infra/secrets, so no task would receive it; nothing was stored." \
      "Declare it first (infra/secrets says where else it goes), or pick one of: ${DECLARED_SECRETS[*]-none}"
  check_credentials
  read_value
  step "secret $NAME of $ENVIRONMENT_NAME: SSM SecureString $SECRETS_PATH/$NAME"
  # printf is a shell builtin, so the value is on no command line; file:///dev/stdin makes
  # the AWS CLI read the parameter's value from the pipe.
  printf '%s' "$VALUE" | aws ssm put-parameter --name "$SECRETS_PATH/$NAME" \
    --type SecureString --overwrite --value file:///dev/stdin \
    --description "$NAME of $SERVICE_NAME in $ENVIRONMENT_NAME (make secret-set)" \
    --query Version --output text | sed 's/^/    stored, version /'
  VALUE=""
  # The ECS service is named like its cluster, <service>-<env>.
  note "running tasks keep the value they started with; tasks started from now on read it."
  note "Restart them now: aws ecs update-service --cluster $CLUSTER_NAME --service $CLUSTER_NAME --force-new-deployment"
}

list_secrets() {
  check_credentials
  step "secrets of $ENVIRONMENT_NAME, SSM parameters under $SECRETS_PATH/ (names and last change, never values)"
  local stored name changed
  stored="$(stored_secrets)"
  while IFS=$'\t' read -r name changed; do
    [[ -z "$name" ]] && continue
    changed="$(readable_time "$changed")"
    if is_declared_secret "$name"; then
      note "$name  $changed"
    else
      note "$name  $changed  (not declared in infra/secrets: no task receives it; make secret-unset ENV=$ENVIRONMENT_NAME NAME=$name)"
    fi
  done <<<"$stored"
  find_missing_secrets
  for name in ${MISSING_SECRETS[@]+"${MISSING_SECRETS[@]}"}; do
    note "$name  NOT SET: make deploy refuses until it is; make secret-set ENV=$ENVIRONMENT_NAME NAME=$name"
  done
}

# A declared secret's removal stops new tasks from starting (a scale-out, a replaced task),
# so it is confirmed by name, as make destroy is.
confirm_unset() {
  is_declared_secret "$NAME" || return 0
  [[ "${CONFIRM:-}" != "$NAME" ]] || return 0
  [[ -t 0 ]] ||
    die "$NAME is declared in infra/secrets: without it no new task of $ENVIRONMENT_NAME starts, and make deploy refuses." \
      "Run it again with CONFIRM=$NAME to delete it anyway."
  local answer
  read -r -p "Without $NAME no new task of $ENVIRONMENT_NAME starts. Type $NAME to delete it: " answer
  [[ "$answer" == "$NAME" ]] || die "not confirmed; nothing was deleted."
}

unset_secret() {
  check_credentials
  step "secret $NAME of $ENVIRONMENT_NAME: SSM parameter $SECRETS_PATH/$NAME"
  stored_secrets | cut -f1 | grep -qxF "$NAME" ||
    die "$NAME is not set for $ENVIRONMENT_NAME; nothing to delete." "See what is: make secret-list ENV=$ENVIRONMENT_NAME"
  confirm_unset
  aws ssm delete-parameter --name "$SECRETS_PATH/$NAME"
  note "deleted"
}

case "$ACTION" in
  set) set_secret ;;
  list) list_secrets ;;
  unset) unset_secret ;;
esac
