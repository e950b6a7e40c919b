#!/usr/bin/env bash
# A trial of ChildStat as several processes behind HAProxy, on one machine (docs/deploy.md).
#
#   deploy/run.sh [--processes 2] [--port 8500] [--data DIR] [--logs DIR] [--stats-port PORT] [-- STREAMLIT ARGS]
#
# Starts N `streamlit run app.py` processes on loopback ports PORT+1 .. PORT+N (each its own
# Streamlit: hosted or local mode as the environment and settings say, exactly as one process would
# be), waits until each answers /_stcore/health, then HAProxy (deploy/haproxy.cfg) on 127.0.0.1:PORT
# with sticky sessions and health checks, and its status page on 127.0.0.1:STATS_PORT (default
# PORT+100). Ctrl-C (or SIGTERM) stops them all. Each process's output goes to LOGS/app-I.log and its
# process ID to LOGS/app-I.pid; HAProxy's to LOGS/haproxy.log, its generated configuration to
# LOGS/haproxy.cfg. Arguments after `--` go to every `streamlit run`, e.g.
# `-- --server.allowedHosts childstat.example.gov.uk`. PYTHON names the interpreter (default python3).
set -euo pipefail

processes=2
port=8500
data=""
logs=""
stats_port=""
streamlit_args=()
while [ $# -gt 0 ]; do
    case "$1" in
        --processes) processes="$2"; shift 2 ;;
        --port) port="$2"; shift 2 ;;
        --data) data="$2"; shift 2 ;;
        --logs) logs="$2"; shift 2 ;;
        --stats-port) stats_port="$2"; shift 2 ;;
        --) shift; streamlit_args=("$@"); break ;;
        -h|--help) sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "run.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
    esac
done
case "$processes$port" in *[!0-9]*) echo "run.sh: --processes and --port take numbers" >&2; exit 2 ;; esac
[ "$processes" -ge 1 ] || { echo "run.sh: --processes must be at least 1" >&2; exit 2; }
stats_port="${stats_port:-$((port + 100))}"

here="$(cd "$(dirname "$0")" && pwd)"
root="$(dirname "$here")"
python="${PYTHON:-python3}"
command -v haproxy >/dev/null || { echo "run.sh: haproxy is not installed (apt-get install haproxy)" >&2; exit 2; }
if [ -n "$data" ]; then
    export CHILDSTAT_DATA="$(cd "$data" && pwd)"
fi
logs="${logs:-$(mktemp -d "${TMPDIR:-/tmp}/childstat-deploy.XXXXXX")}"
mkdir -p "$logs"
# Every process signs Streamlit's cookies (the XSRF token of an upload) with the same secret, so a
# session moved to another process after a failure still works. Give your own in production.
export STREAMLIT_SERVER_COOKIE_SECRET="${STREAMLIT_SERVER_COOKIE_SECRET:-$("$python" -c 'import secrets; print(secrets.token_hex(32))')}"

pids=()
stop_all() {
    trap - INT TERM EXIT
    [ ${#pids[@]} -gt 0 ] || exit "${1:-0}"
    echo "run.sh: stopping ${#pids[@]} processes" >&2
    kill -TERM "${pids[@]}" 2>/dev/null || true
    for _ in $(seq 50); do  # up to 10 s for Streamlit to finish its script runs
        alive=0
        for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
        [ "$alive" = 0 ] && break
        sleep 0.2
    done
    kill -KILL "${pids[@]}" 2>/dev/null || true
    wait 2>/dev/null || true
    exit "${1:-0}"
}
trap 'stop_all 130' INT
trap 'stop_all 143' TERM
trap 'stop_all $?' EXIT

healthy() {  # the process answers "ok" at /_stcore/health
    "$python" - "$1" <<'PY'
import sys, urllib.request
try:
    with urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/_stcore/health", timeout=2) as r:
        sys.exit(0 if r.read().strip() == b"ok" else 1)
except OSError:
    sys.exit(1)
PY
}

cd "$root"
for i in $(seq "$processes"); do
    app_port=$((port + i))
    "$python" -m streamlit run app.py --server.headless true --server.address 127.0.0.1 \
        --server.port "$app_port" --server.fileWatcherType none --browser.gatherUsageStats false \
        ${streamlit_args[@]+"${streamlit_args[@]}"} >"$logs/app-$i.log" 2>&1 &
    pids+=($!)
    echo $! >"$logs/app-$i.pid"
done
for i in $(seq "$processes"); do
    for _ in $(seq 240); do  # up to 60 s each
        healthy $((port + i)) && break
        kill -0 "${pids[$((i - 1))]}" 2>/dev/null || { echo "run.sh: process $i exited; see $logs/app-$i.log" >&2; exit 1; }
        sleep 0.25
    done
    healthy $((port + i)) || { echo "run.sh: process $i not healthy after 60 s; see $logs/app-$i.log" >&2; exit 1; }
done

{
    cat "$here/haproxy.cfg"
    for i in $(seq "$processes"); do
        echo "    server app$i 127.0.0.1:$((port + i)) cookie app$i"
    done
} >"$logs/haproxy.cfg"
export CHILDSTAT_BIND="127.0.0.1:$port" CHILDSTAT_STATS_BIND="127.0.0.1:$stats_port"
haproxy -c -q -f "$logs/haproxy.cfg"
haproxy -db -f "$logs/haproxy.cfg" >"$logs/haproxy.log" 2>&1 &
pids+=($!)
echo $! >"$logs/haproxy.pid"

echo "ChildStat: http://127.0.0.1:$port ($processes processes on ports $((port + 1))-$((port + processes)))"
echo "HAProxy status: http://127.0.0.1:$stats_port/   logs: $logs   Ctrl-C stops everything"
# Runs until HAProxy stops or a signal comes; a Streamlit process that dies is left to HAProxy's checks.
wait "${pids[-1]}" || true
