#!/usr/bin/env bash
# Resolve each requirements*.in into its hash-locked requirements*.txt (make lock).
# Usage: scripts/lock.sh [PYTHON_VERSION], by default the image's (the Dockerfile's ARG).
set -euo pipefail
cd "$(dirname "$0")/.."

python_version=${1:-$(sed -n 's/^ARG PYTHON_VERSION=//p' Dockerfile)}
if [[ -z $python_version ]]; then
  echo "no ARG PYTHON_VERSION=... in the Dockerfile: run scripts/lock.sh 3.13, say" >&2
  exit 1
fi
uv=${UV:-.venv/bin/uv}
if ! command -v "$uv" >/dev/null; then
  echo "no uv at $uv: run make install first (requirements-dev.txt pins uv)" >&2
  exit 1
fi

# --universal: one lock for every platform, so a lock made on macOS installs in
# the Linux image; --python-version: the oldest Python it must install on.
# dependabot (package-ecosystem uv) re-runs the command in each file's header,
# reading these flags from it. Each .in includes the one before it;
# tests/test_requirements_lock.py fails when two locks disagree on a version.
for name in requirements requirements-dev; do
  echo "==> $name.in -> $name.txt"
  "$uv" pip compile --quiet --universal --python-version "$python_version" \
    --generate-hashes --output-file="$name.txt" "$name.in"
done
