#!/usr/bin/env bash
# Step 2 of action.yml: install the capplan CLI from the action's own checkout (the ref the
# workflow pinned in `uses: ORG/capplan@REF`) as a uv tool, and put it on the job's PATH.
# Env: CAPPLAN_ACTION_PATH (the action's directory), GITHUB_PATH (GitHub sets it).
set -euo pipefail
: "${CAPPLAN_ACTION_PATH:?the action directory (github.action_path)}"
uv tool install --force --quiet "$CAPPLAN_ACTION_PATH"
bin_dir="$(uv tool dir --bin)"
if [[ -n "${GITHUB_PATH:-}" ]]; then echo "$bin_dir" >>"$GITHUB_PATH"; fi
"$bin_dir/capplan" --help >/dev/null
echo "capplan installed from $CAPPLAN_ACTION_PATH into $bin_dir"
