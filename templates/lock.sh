#!/usr/bin/env bash
# Lock the generated repo's requirements once per python_version choice and database
# choice, into templates/locks/VERSION/ (database none) and templates/locks/VERSION/DATABASE/,
# which the project's requirements*.txt include.
# Run after changing a requirements*.in of the template; needs uv (requirements-dev.txt).
set -euo pipefail
cd "$(dirname "$0")/.."

project='{{cookiecutter.project_slug}}'
uv=${UV:-$(command -v uv || echo .venv/bin/uv)}
versions=$(python3 -c 'import json; print(*json.load(open("cookiecutter.json"))["python_version"])')
databases=$(python3 -c 'import json; print(*json.load(open("cookiecutter.json"))["database"])')
python=${PYTHON:-.venv/bin/python}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

for version in $versions; do
  for database in $databases; do
    locks="templates/locks/$version"
    [[ $database == none ]] || locks="$locks/$database"
    echo "==> Python $version, database $database"
    dir="$work/$version-$database"
    mkdir -p "$dir/scripts" "$locks"
    # The .in files hold the options' conditionals (Jinja): rendered for this choice.
    for input in "$project"/requirements*.in; do
      "$python" -c 'import sys, jinja2
print(jinja2.Template(open(sys.argv[1]).read(), keep_trailing_newline=True).render(cookiecutter={"database": sys.argv[2]}), end="")' \
        "$input" "$database" >"$dir/${input##*/}"
    done
    cp "$project/scripts/lock.sh" "$dir/scripts/"
    # The previous locks, so versions the inputs did not change stay as they were.
    cp "$locks"/requirements*.txt "$dir/" 2>/dev/null || true
    UV=$uv "$dir/scripts/lock.sh" "$version"
    cp "$dir"/requirements*.txt "$locks/"
  done
done
