#!/usr/bin/env bash
# Build capplan's wheel, install it outside the checkout and run the gate from an empty
# temporary directory, offline and against a `capplan serve` started from the same install.
# This is what a CI owner does with `uv tool install`, `pipx install` or `pip install`: the
# installed package must carry its own catalog and migrations (service/_catalog, _migrations).
#
# Usage: bash scripts/check_wheel.sh [INSTALLER ...]
#   INSTALLER: uv-venv (default: `uv venv` + `uv pip install`), pip (`python3 -m venv` +
#   pip), uv-tool (`uv tool install`), pipx (`pipx install`, pipx itself from PyPI).
# Needs uv; reaches only the package registry (for dependencies) and 127.0.0.1.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
INSTALLERS=("${@:-uv-venv}")
WORK="$(mktemp -d "${TMPDIR:-/tmp}/capplan-wheel.XXXXXX")"
SERVER_PID=""
cleanup() {
    if [[ -n "$SERVER_PID" ]]; then kill "$SERVER_PID" 2>/dev/null || true; fi
    rm -rf "$WORK"
}
trap cleanup EXIT
export UV_PYTHON_DOWNLOADS=never
# Nothing of the checkout or the caller's environment may leak into the installed tool.
unset CAPPLAN_CATALOG_DIR CAPPLAN_URL CAPPLAN_PRICES_FILE VIRTUAL_ENV PYTHONPATH DATABASE_URL

log() { printf '==> %s\n' "$*" >&2; }
fail() { printf 'check_wheel: %s\n' "$*" >&2; exit 1; }

log "building the wheel"
uv build --wheel --quiet --out-dir "$WORK/dist" "$REPO"
WHEEL="$(ls "$WORK"/dist/capplan-*.whl)"
log "built $(basename "$WHEEL")"

# The manifests under test, copied away from the checkout (their first line says the exit).
mkdir -p "$WORK/run"
cp "$REPO"/docs/examples/deploy.yaml "$REPO"/docs/examples/too-big.yaml "$WORK/run/"

install_with() {  # INSTALLER -> prints the directory holding the installed `capplan`
    local installer="$1" home="$WORK/$1"
    mkdir -p "$home"
    case "$installer" in
        uv-venv)
            uv venv --quiet --python python3 "$home/venv" >&2
            uv pip install --quiet --python "$home/venv/bin/python" "$WHEEL" >&2
            echo "$home/venv/bin" ;;
        pip)
            python3 -m venv "$home/venv" >&2
            "$home/venv/bin/python" -m pip install --quiet --disable-pip-version-check "$WHEEL" >&2
            echo "$home/venv/bin" ;;
        uv-tool)
            UV_TOOL_DIR="$home/tools" UV_TOOL_BIN_DIR="$home/bin" \
                uv tool install --quiet --python python3 "$WHEEL" >&2
            echo "$home/bin" ;;
        pipx)
            uv venv --quiet --python python3 "$home/pipx-venv" >&2
            uv pip install --quiet --python "$home/pipx-venv/bin/python" pipx >&2
            PIPX_HOME="$home/pipx" PIPX_BIN_DIR="$home/bin" PIPX_MAN_DIR="$home/man" \
                "$home/pipx-venv/bin/pipx" install --python python3 "$WHEEL" >&2
            echo "$home/bin" ;;
        *) fail "unknown installer '$installer' (uv-venv, pip, uv-tool, pipx)" ;;
    esac
}

expect() {  # EXPECTED_EXIT DESCRIPTION COMMAND...
    local expected="$1" what="$2" code=0
    shift 2
    "$@" >"$WORK/out.txt" 2>&1 || code=$?
    if [[ "$code" != "$expected" ]]; then
        cat "$WORK/out.txt" >&2
        fail "$what: exit $code, expected $expected"
    fi
    log "ok: $what (exit $code)"
}

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

wait_ready() {  # URL: poll /ready for up to 60 s
    local url="$1" deadline=$((SECONDS + 60))
    until python3 -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=2)' \
        "$url/ready" 2>/dev/null; do
        [[ $SECONDS -lt $deadline ]] || { cat "$WORK/server.log" >&2; fail "server at $url not ready"; }
        kill -0 "$SERVER_PID" 2>/dev/null || { cat "$WORK/server.log" >&2; fail "server exited"; }
        sleep 0.5
    done
}

for installer in "${INSTALLERS[@]}"; do
    log "installing with $installer"
    BIN="$(install_with "$installer")"
    CAPPLAN="$BIN/capplan"
    [[ -x "$CAPPLAN" ]] || fail "$installer: no capplan executable in $BIN"
    cd "$WORK/run"

    expect 0 "$installer: offline, a manifest that fits" \
        "$CAPPLAN" check --offline deploy.yaml
    expect 1 "$installer: offline, a manifest that does not fit" \
        "$CAPPLAN" check --offline too-big.yaml
    expect 0 "$installer: offline, a vllm serve command" \
        "$CAPPLAN" check --offline --gpu h100-sxm -- vllm serve meta-llama/Llama-3.1-8B --max-model-len 8192

    PORT="$(free_port)"
    DATABASE_URL="sqlite+aiosqlite:///$WORK/$installer/capplan.db" CAPPLAN_LOG_FORMAT=text \
        "$CAPPLAN" serve --host 127.0.0.1 --port "$PORT" >"$WORK/server.log" 2>&1 &
    SERVER_PID=$!
    wait_ready "http://127.0.0.1:$PORT"
    expect 0 "$installer: --url, a manifest that fits" \
        "$CAPPLAN" check --url "http://127.0.0.1:$PORT" deploy.yaml
    expect 1 "$installer: --url, a manifest that does not fit" \
        "$CAPPLAN" check --url "http://127.0.0.1:$PORT" too-big.yaml
    kill "$SERVER_PID"
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=""
    cd "$REPO"
done
log "the installed wheel gates offline and online from outside the checkout (${INSTALLERS[*]})"
