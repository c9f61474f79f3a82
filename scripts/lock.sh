#!/usr/bin/env bash
# Refresh the lock files from pyproject.toml's declared dependencies (exact versions, Python 3.11, Linux).
#   bash scripts/lock.sh            # resolve anew: the newest versions pyproject.toml allows
#   bash scripts/lock.sh --upgrade-package typer   # move one package, keep the rest
# Uses uv's pip-compatible resolver (`uv pip compile`), installed into a throwaway venv.
# After refreshing, run the test command on a fresh install (`bash scripts/install.sh --test`)
# and commit requirements/*.lock together with the change that needed it.
set -euo pipefail
cd "$(dirname "$0")/.."
tool_venv="$(mktemp -d)/uv"
python3 -m venv "$tool_venv"
"$tool_venv/bin/python" -m pip install -q "uv>=0.5"
uv="$tool_venv/bin/uv"
common=(--python-version 3.11 --python-platform x86_64-unknown-linux-gnu --no-header --annotation-style line "$@")
"$uv" pip compile pyproject.toml "${common[@]}" -o requirements/runtime.lock
"$uv" pip compile pyproject.toml --extra test --extra dask "${common[@]}" -o requirements/test.lock
rm -rf "$(dirname "$tool_venv")"
echo "requirements/runtime.lock and requirements/test.lock refreshed"
