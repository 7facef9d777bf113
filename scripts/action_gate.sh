#!/usr/bin/env bash
# Step 3 of action.yml: run `capplan check` on every manifest the glob(s) match, print the
# chosen format (github = annotations), write the human reports to the job summary and
# optional JUnit files, and exit with the worst code (2 beats 1 beats 0) as `fail-on` says.
# Env (the action's inputs): CAPPLAN_MANIFESTS, CAPPLAN_GATE_URL, CAPPLAN_GATE_OFFLINE,
# CAPPLAN_GATE_FORMAT, CAPPLAN_GATE_ENGINE, CAPPLAN_JUNIT_DIR, CAPPLAN_FAIL_ON; GitHub's
# GITHUB_OUTPUT and GITHUB_STEP_SUMMARY when set.
set -uo pipefail
shopt -s globstar nullglob

manifests_glob="${CAPPLAN_MANIFESTS:-deploy/**/*.yaml}"
url="${CAPPLAN_GATE_URL:-}"
offline="${CAPPLAN_GATE_OFFLINE:-auto}"
format="${CAPPLAN_GATE_FORMAT:-github}"
engine="${CAPPLAN_GATE_ENGINE:-}"
junit_dir="${CAPPLAN_JUNIT_DIR:-}"
fail_on="${CAPPLAN_FAIL_ON:-any}"

bad_input() { echo "::error title=capplan action::$*"; exit 2; }

case "$offline" in
    true) backend=(--offline) ;;
    false) [[ -n "$url" ]] || bad_input "input 'offline' is false but 'url' is empty: give url"
           backend=(--url "$url") ;;
    auto) if [[ -n "$url" ]]; then backend=(--url "$url"); else backend=(--offline); fi ;;
    *) bad_input "input 'offline': expected true, false or auto, got '$offline'" ;;
esac
case "$format" in
    github | human | json | junit) ;;
    *) bad_input "input 'format': expected github, human, json or junit, got '$format'" ;;
esac
case "$fail_on" in
    any | error | never) ;;
    *) bad_input "input 'fail-on': expected any, error or never, got '$fail_on'" ;;
esac
extra=()
if [[ -n "$engine" ]]; then extra+=(--engine "$engine"); fi

manifests=()
read -r -a patterns <<<"$(tr '\n' ' ' <<<"$manifests_glob")"
for pattern in "${patterns[@]}"; do
    for path in $pattern; do
        [[ -f "$path" ]] && manifests+=("$path")
    done
done
[[ ${#manifests[@]} -gt 0 ]] || bad_input "input 'manifests': no file matches '$manifests_glob'"
[[ -z "$junit_dir" ]] || mkdir -p "$junit_dir"

worst=0
failed=()
summary="${GITHUB_STEP_SUMMARY:-/dev/null}"
echo "## capplan capacity gate" >>"$summary"
for manifest in "${manifests[@]}"; do
    code=0
    capplan check "${backend[@]}" "${extra[@]}" --format "$format" "$manifest" || code=$?
    if [[ "$code" -gt "$worst" ]]; then worst=$code; fi
    if [[ "$code" -ne 0 ]]; then failed+=("$manifest"); fi
    {
        echo
        echo "### \`$manifest\`: exit $code"
        echo '```'
        capplan check "${backend[@]}" "${extra[@]}" --format human "$manifest" 2>&1
        echo '```'
    } >>"$summary"
    if [[ -n "$junit_dir" ]]; then
        name="$(tr '/' '_' <<<"${manifest%.*}")"
        capplan check "${backend[@]}" "${extra[@]}" --format junit \
            --output "$junit_dir/$name.xml" "$manifest" >/dev/null 2>&1
    fi
done

if [[ -n "${GITHUB_OUTPUT:-}" ]]; then
    echo "exit-code=$worst" >>"$GITHUB_OUTPUT"
    echo "failed=${failed[*]}" >>"$GITHUB_OUTPUT"
fi
echo "capplan: ${#manifests[@]} manifest(s) checked, worst exit $worst${failed:+, not passing: ${failed[*]}}"
case "$fail_on" in
    any) exit "$worst" ;;
    error) [[ "$worst" -eq 2 ]] && exit 2; exit 0 ;;
    never) exit 0 ;;
esac
