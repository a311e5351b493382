#!/usr/bin/env bash
# Lock the generated repo's requirements once per python_version choice, into
# templates/locks/VERSION/, which the project's requirements*.txt include.
# Run after changing a requirements*.in of the template; needs uv (requirements-dev.txt).
set -euo pipefail
cd "$(dirname "$0")/.."

project='{{cookiecutter.project_slug}}'
uv=${UV:-$(command -v uv || echo .venv/bin/uv)}
versions=$(python3 -c 'import json; print(*json.load(open("cookiecutter.json"))["python_version"])')
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

for version in $versions; do
  echo "==> Python $version"
  mkdir -p "$work/$version/scripts" "templates/locks/$version"
  cp "$project"/requirements*.in "$work/$version/"
  cp "$project/scripts/lock.sh" "$work/$version/scripts/"
  # The previous locks, so versions the inputs did not change stay as they were.
  cp "templates/locks/$version"/requirements*.txt "$work/$version/" 2>/dev/null || true
  UV=$uv "$work/$version/scripts/lock.sh" "$version"
  cp "$work/$version"/requirements*.txt "templates/locks/$version/"
done
