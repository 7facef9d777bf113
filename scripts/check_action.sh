#!/usr/bin/env bash
# CI check of action.yml: run its steps locally (scripts/run_action_locally.py) in a throwaway
# repository holding the example manifests, and hold the action to what docs/ci-gate.md says:
# a passing manifest exits 0; a failing one exits 1, is annotated (::error file=...) and is
# listed in the `failed` output; a glob that matches nothing exits 2.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
WS="$(mktemp -d "${TMPDIR:-/tmp}/capplan-action.XXXXXX")"
trap 'rm -rf "$WS"' EXIT
export UV_PYTHON_DOWNLOADS=never
mkdir -p "$WS/deploy/team-a"
cp "$REPO/docs/examples/deploy.yaml" "$WS/deploy/"
cp "$REPO/docs/examples/too-big.yaml" "$WS/deploy/team-a/"

log() { printf '==> %s\n' "$*" >&2; }
fail() { printf 'check_action: %s\n' "$*" >&2; exit 1; }

run_action() {  # EXPECTED_EXIT LOG_FILE INPUTS...
    local expected="$1" out="$2" code=0
    shift 2
    uv run --locked --project "$REPO" python "$REPO/scripts/run_action_locally.py" \
        --workspace "$WS" "$@" >"$out" 2>&1 || code=$?
    if [[ "$code" != "$expected" ]]; then cat "$out" >&2; fail "inputs $*: exit $code, expected $expected"; fi
    log "ok: action with $* exits $code"
}

run_action 0 "$WS/pass.log" --input manifests=deploy/deploy.yaml
grep -q '^exit-code=0$' "$WS/pass.log" || fail "passing run: no exit-code=0 output"

run_action 1 "$WS/fail.log" --input 'manifests=deploy/**/*.yaml' --input junit-dir=reports
grep -q '^::error file=deploy/team-a/too-big.yaml' "$WS/fail.log" || fail "no ::error annotation on too-big.yaml"
grep -q '^failed=deploy/team-a/too-big.yaml$' "$WS/fail.log" || fail "failed output does not list too-big.yaml"
[[ -s "$WS/reports/deploy_team-a_too-big.xml" ]] || fail "no JUnit report for too-big.yaml"

run_action 0 "$WS/report-only.log" --input 'manifests=deploy/**/*.yaml' --input fail-on=never
run_action 2 "$WS/nomatch.log" --input 'manifests=nowhere/*.yaml'
grep -q "::error title=capplan action::input 'manifests'" "$WS/nomatch.log" || fail "no error naming the manifests input"
log "action.yml: every step ran locally and behaved as documented"
