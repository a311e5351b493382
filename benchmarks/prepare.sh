#!/usr/bin/env bash
# Install what `make bench` needs (wrk) and make sure a Docker engine answers.
set -euo pipefail

# This machine's engine starter; elsewhere, start Docker yourself or set DOCKER_UP.
DOCKER_UP=${DOCKER_UP:-../shared/docker-sandbox/up}

if ! command -v wrk >/dev/null; then
  echo "==> install wrk (Debian package)"
  if [[ $(id -u) -ne 0 ]]; then
    echo "wrk is missing and this is not root: run 'sudo apt-get install -y wrk' first" >&2
    exit 1
  fi
  apt-get install -y wrk || { apt-get update && apt-get install -y wrk; }
fi

if ! docker info >/dev/null 2>&1; then
  echo "==> start the Docker engine ($DOCKER_UP)"
  if [[ ! -x $DOCKER_UP ]]; then
    echo "no Docker engine answers and $DOCKER_UP does not exist: start Docker, or set DOCKER_UP" >&2
    exit 1
  fi
  "$DOCKER_UP"
fi
