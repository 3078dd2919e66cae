#!/usr/bin/env bash
# Tests `make run` (scripts/run-local.sh) for real: the stack starts, a worker and a nats-server killed with -9 come
# back, and Ctrl-C (SIGINT to the process group, as a terminal sends it) or SIGTERM stops every process it started,
# with exit status 0. Runs on free ports with a run directory of its own (not .run/); needs the jars (`make build`).
set -euo pipefail
cd "$(dirname "$0")/.."
set -m  # run-local.sh in a process group of its own, SIGINT not ignored: a Ctrl-C can reach it as from a terminal

TMP=$(mktemp -d /tmp/minifaas-test-run.XXXXXX)
chmod 711 "$TMP"  # as root, the worker directory below must be reachable by the sandbox's accounts
RUN="$TMP/run"
OUT="$TMP/console.log"
stack=
failures=0
pass() { echo "PASS: $*"; }
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
fatal() { fail "$*"; echo "--- run-local.sh console:"; cat "$OUT" 2>/dev/null || true; exit 1; }

# every process of the stack: all have MINIFAAS_RUN_DIR=$RUN in their environment (java, nats-server, the supervise
# loops, a back-off's sleep), nats-server has $RUN in its command line too (pgrep, when procps is installed)
leftovers() {
  { ! command -v pgrep >/dev/null || pgrep -f -- "$RUN/" || true
    grep -lsxzF -- "MINIFAAS_RUN_DIR=$RUN" /proc/[0-9]*/environ | cut -d/ -f3 || true
  } | sort -u
}
show() { local pid; for pid in "$@"; do echo "  $pid $(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null)"; done; }

cleanup() {
  local status=$?
  trap - EXIT INT TERM
  if [ -n "$stack" ] && kill -0 "$stack" 2>/dev/null; then
    kill -TERM "$stack" 2>/dev/null || true
    for _ in $(seq 1 300); do kill -0 "$stack" 2>/dev/null || break; sleep 0.1; done
  fi
  local pids; pids=$(leftovers)
  [ -z "$pids" ] || kill -9 $pids 2>/dev/null || true
  rm -rf "$TMP"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

free_port() {
  local port
  while :; do
    port=$((20000 + RANDOM % 40000))
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null || { echo "$port"; return; }
  done
}
NATS_PORT=$(free_port)
FRONTEND_PORT=$(free_port)
while [ "$FRONTEND_PORT" = "$NATS_PORT" ]; do FRONTEND_PORT=$(free_port); done
API="http://127.0.0.1:$FRONTEND_PORT"
# four ops ports in a row (frontend, observer, injector, worker), none of them taken
free_ports4() {
  local base
  while :; do
    base=$(free_port)
    for p in $((base + 1)) $((base + 2)) $((base + 3)); do
      (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null && continue 2
    done
    case " $NATS_PORT $FRONTEND_PORT " in *" $base "*|*" $((base + 1)) "*|*" $((base + 2)) "*|*" $((base + 3)) "*) continue;; esac
    echo "$base"; return
  done
}
METRICS_BASE_PORT=$(free_ports4)

# until_ok SECONDS COMMAND...: true once COMMAND succeeds, false if it has not within SECONDS (or by the test's
# own deadline: the whole test ends within about 2 minutes)
DEADLINE=120
until_ok() {
  local deadline=$((SECONDS + $1 < DEADLINE ? SECONDS + $1 : DEADLINE)); shift
  until "$@"; do
    [ "$SECONDS" -lt "$deadline" ] || return 1
    sleep 0.2
  done
}
healthy() { curl -fsS -o /dev/null "$API/healthz" 2>/dev/null; }
ops_ready() { curl -fsS "http://127.0.0.1:$1/healthz" 2>/dev/null | grep -qF '{"status":"ok"}'; }
# runs PID PROGRAM: process PID is running PROGRAM
runs() { [ -n "$1" ] && [ "$(cat "/proc/$1/comm" 2>/dev/null)" = "$2" ]; }
# replaced NAME OLD_PID PROGRAM: the stack's NAME (its pid file) is a running PROGRAM again, under another pid
replaced() { local pid; pid=$(cat "$RUN/$1.pid" 2>/dev/null) && [ "$pid" != "$2" ] && runs "$pid" "$3"; }
task_known() { curl -fsS -o /dev/null "$API/getTaskStatus?taskId=$task" -H 'X-Forwarded-User: runtest' 2>/dev/null; }
stack_running() { kill -0 "$stack" 2>/dev/null; }

# The worker warms its Go build cache (a fresh one here, in $TMP/worker) with every toolchain it uses, by default
# every one installed: go1.21 and go1.23 compile the standard library (~16 s each alone on 2 cores), and with all
# three of this machine's the worker missed this test's 60 s to be ready. Toolchains are not what this test is
# about (RuntimesIT tests them): its worker uses the go on PATH only.
GO_TOOLCHAINS="${GO_TOOLCHAINS:-$(go env GOROOT)}"

start_stack() {
  # make run's defaults; SIGINT as from a terminal even when this test was started with it ignored (by some CI)
  MINIFAAS_RUN_DIR="$RUN" WORKER_WORK_DIR="$TMP/worker" NATS_PORT="$NATS_PORT" FRONTEND_PORT="$FRONTEND_PORT" \
    METRICS_BASE_PORT="$METRICS_BASE_PORT" GO_TOOLCHAINS="$GO_TOOLCHAINS" \
    env -u REPO_ALLOW_PRIVATE_ADDRESSES --default-signal=INT scripts/run-local.sh >>"$OUT" 2>&1 &
  stack=$!
  until_ok 90 eval 'healthy || ! stack_running' && healthy \
    || fatal "the stack did not become healthy at $API/healthz"
}

# stop_stack SIGNAL TARGET: sends it, then expects run-local.sh to end with 0 and no process of the stack left
stop_stack() {
  local signal=$1 target=$2 status=0
  kill "-$signal" -- "$target"
  until_ok 60 eval '! stack_running' || fatal "run-local.sh still running 60 s after SIG$signal"
  wait "$stack" 2>/dev/null || status=$?
  stack=
  [ "$status" = 0 ] && pass "SIG$signal: run-local.sh exited with 0" \
    || fail "SIG$signal: run-local.sh exited with $status"
  local left; left=$(leftovers)
  if [ -z "$left" ]; then pass "SIG$signal: no process of the stack left (pgrep)"
  else fail "SIG$signal: processes left:"; show $left; fi
}

echo "test-run-local: NATS_PORT=$NATS_PORT FRONTEND_PORT=$FRONTEND_PORT METRICS_BASE_PORT=$METRICS_BASE_PORT" \
  "MINIFAAS_RUN_DIR=$RUN"
start_stack
pass "stack healthy after ${SECONDS} s"
for i in 0 1 2 3; do
  port=$((METRICS_BASE_PORT + i))
  if until_ok 60 ops_ready "$port" && curl -fsS "http://127.0.0.1:$port/metrics" \
      | grep '^jvm_memory_used_bytes{' >/dev/null; then  # (not -q: curl must write it all under pipefail)
    pass "ops port $port: /healthz ok, /metrics scraped"
  else fail "ops port $port: no ready /healthz or no /metrics"; fi
done
grep -qF "frontend $METRICS_BASE_PORT, worker $((METRICS_BASE_PORT + 3))" "$OUT" && pass "ops ports printed" \
  || fail "ops ports not printed"
[ "$(stat -c %a "$RUN")$(stat -c %a "$RUN/logs")" = 700700 ] && pass "run directory and logs are 0700" \
  || fail "run directory / logs modes: $(stat -c %a "$RUN" "$RUN/logs" | tr '\n' ' ')"

# a repository on 127.0.0.1: accepted only with REPO_ALLOW_PRIVATE_ADDRESSES=true (the clone itself fails, no matter)
task=$(curl -fsS -X POST "$API/createTask" -H 'X-Forwarded-User: runtest' -H 'Content-Type: application/json' \
  -d '{"url": "http://127.0.0.1:9/none.git", "parameters": []}' | sed -n 's/.*"data":"\([^"]*\)".*/\1/p') || true
[ -n "$task" ] && pass "task $task on a 127.0.0.1 repository accepted" \
  || fail "createTask for a 127.0.0.1 repository refused"

old=$(cat "$RUN/worker.pid")
kill -9 "$old"
if until_ok 30 replaced worker "$old" java; then
  pass "worker killed with -9 (pid $old) is back as pid $(cat "$RUN/worker.pid")"
else fail "no new worker within 30 s of kill -9 $old"; fi
line="restarting worker (exited with 137) in 1 s"
grep -qF "$line" "$OUT" && grep -qF "$line" "$RUN/logs/supervisor.log" \
  && pass "restart logged on the console and in supervisor.log" || fail "no 'restarting worker' line"

old=$(cat "$RUN/nats.pid")
kill -9 "$old"
if until_ok 30 replaced nats "$old" nats-server; then
  pass "nats-server killed with -9 (pid $old) is back as pid $(cat "$RUN/nats.pid")"
else fail "no new nats-server within 30 s of kill -9 $old"; fi
if [ -n "$task" ]; then
  until_ok 60 task_known && healthy && pass "frontend healthy and reads the task from NATS again (JetStream kept it)" \
    || fail "frontend could not read task $task back within 60 s of the NATS restart"
fi

stop_stack INT "-$stack"  # the whole process group, as a terminal's Ctrl-C
# services first, NATS last
tail -n 5 "$RUN/logs/supervisor.log" | cut -d' ' -f3- | tr '\n' ' ' \
  | grep -Eq '^([a-z]+ stopped ){4}nats stopped $' && pass "SIGINT: services stopped first, then NATS" \
  || { fail "SIGINT: stop order:"; tail -n 5 "$RUN/logs/supervisor.log"; }

start_stack
pass "stack restarted on the same run directory, healthy"
stop_stack TERM "$stack"  # the script alone, as `kill <pid>` does

if [ "$failures" = 0 ]; then echo "PASS: test-run-local (${SECONDS} s)"; else
  echo "FAIL: test-run-local: $failures failure(s); run-local.sh console:"; cat "$OUT"; exit 1; fi
