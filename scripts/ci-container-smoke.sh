#!/usr/bin/env bash
# Container smoke test, for CI and for anyone with root on a Debian machine (docs/CONTAINERS.md):
#   1. a Docker engine: the running one, else dockerd started here (docker.io installed with apt if missing);
#   2. the base images without any registry: debian:trixie-slim and minifaas/nats:local (debian-base-image.sh);
#   3+4. `make up` with COMPOSE_FILES="docker-compose.yml docker-compose.ci.yml": the four service images, a Git
#      server holding the test functions (Go, Python, Node.js), and the stack (no oauth2-proxy: the frontend is
#      published on 127.0.0.1 and called with identity headers);
#   5. the workers' bubblewrap sandbox started; one task end to end (the function must run as uid 1001); a Python
#      and a Node.js function end to end (uid 1001, their parameters echoed); the sandbox seen from functions run
#      through the API: memory limit, no network (the worker's loopback, nats and gitserver unreachable), a
#      private size-capped /tmp; the Postman collection with newman; one scale-up by the observer (SCALER=docker),
#      whose worker gets the same seccomp profile and limits and must start its sandbox
#   6. teardown with `make down`, which must leave no container, network or volume, checked; dockerd stopped if
#      this script started it.
# Every wait has a timeout. Prints a PASS/FAIL summary; exits non-zero on failure.
# Environment: CI_FRONTEND_PORT [first free from 18080], SMOKE_PROJECT [minifaas-ci], KEEP_LOGS [0: only on failure],
# SMOKE_SKIP_RUNTIMES [0; 1 skips the Python and Node.js functions]
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
. scripts/lib.sh

PROJECT="${SMOKE_PROJECT:-minifaas-ci}"
ADMIN_EMAIL=admin@ci.invalid
GIT_URL=http://gitserver:8000              # the gitserver service, on the workers' network (docker/ci/functions)
REPO_URL=$GIT_URL/hello.git
NEWMAN_VERSION=6.2.2
LOG_DIR=$(mktemp -d /tmp/minifaas-smoke.XXXXXX)
STARTED=$SECONDS
DOCKERD_PID=""
STACK_UP=false
COMPOSE=()
RESULTS=()
FAILED=0 PASSED=0 SKIPPED=0

say() { printf '[smoke %4ds] %s\n' $(( SECONDS - STARTED )) "$*"; }
record() { # record PASS|FAIL|SKIP name seconds [detail]
  RESULTS+=("$(printf '  %-4s  %-38s %5ss  %s' "$1" "$2" "$3" "${4:-}")")
  case "$1" in PASS) PASSED=$((PASSED + 1)) ;; FAIL) FAILED=$((FAILED + 1)) ;; SKIP) SKIPPED=$((SKIPPED + 1)) ;; esac
  say "$1 $2${4:+ -- $4}"
}
# run_logged LOG TIMEOUT CMD...: output into $LOG_DIR/LOG; on failure its tail on the console
run_logged() {
  local log="$LOG_DIR/$1" limit=$2; shift 2
  local rc=0
  timeout --kill-after=10 "$limit" "$@" >"$log" 2>&1 || rc=$?
  [ "$rc" = 0 ] && return 0
  [ "$rc" = 124 ] && echo "    timed out after ${limit}s: $*" || echo "    failed ($rc): $*"
  tail -n 40 "$log" | sed 's/^/    | /'
  return 1
}
DC=() # the compose command for this stack (logs, ps), set once compose is found
compose() { "${DC[@]}" "$@"; }
MAKE_STACK=() # the arguments of `make up` and `make down` for this stack, set with DC
http() { curl -sS -m 15 -H 'X-Forwarded-User: smoke' -H 'X-Forwarded-Email: smoke@ci.invalid' "$@"; }
json_field() { sed -n "s/.*\"$1\"[[:space:]]*:[[:space:]]*\"\{0,1\}\([^\",}]*\)\"\{0,1\}.*/\1/p" | head -n 1; }
count_workers() { # running worker containers of this stack, the observer's included
  docker ps -q --filter label=minifaas.role=worker --filter label=minifaas.group="$PROJECT" --filter status=running | wc -l
}
worker_ids() { docker ps -q --filter label=minifaas.role=worker --filter label=minifaas.group="$PROJECT"; }
# run_task URL PARAMS_JSON [SECONDS]: creates a task, waits for its end, unzips its results into $LOG_DIR/tasks/ID.
# Sets TASK_ID, TASK_STATUS, TASK_DIR; prints nothing. Returns 1 if it could not be created or read back.
run_task() {
  local answer body i
  TASK_ID="" TASK_STATUS="" TASK_DIR=""
  answer=$(http -H 'Content-Type: application/json' -w '\n%{http_code}' "$BASE_URL/createTask" \
             -d "{\"url\": \"$1\", \"parameters\": $2}") || return 1
  [ "${answer##*$'\n'}" = 201 ] || { TASK_STATUS="createTask answered: $answer"; return 1; }
  TASK_ID=$(json_field data <<<"${answer%$'\n'*}")
  for i in $(seq 1 "${3:-180}"); do
    body=$(http "$BASE_URL/getTaskStatus?taskId=$TASK_ID") || true
    TASK_STATUS=$(json_field data <<<"$body")
    case "$TASK_STATUS" in FINISHED|FINISHED_WITH_ERRORS|UNEXPECTED_ERROR) break ;; esac
    sleep 1
  done
  TASK_DIR="$LOG_DIR/tasks/$TASK_ID"
  http -o "$TASK_DIR.zip" --create-dirs "$BASE_URL/getTaskResult?taskId=$TASK_ID" || return 1
  unzip_to "$TASK_DIR" "$TASK_DIR.zip" 2>/dev/null || { TASK_STATUS="$TASK_STATUS, result not a zip"; return 1; }
}
task_file() { cat "$TASK_DIR/$1" 2>/dev/null; } # task_file stdout.txt|stderr.txt|error.txt
one_line() { tr '\n' ' ' | cut -c1-"${1:-300}"; }
task_summary() { # status and the head of every result file, on one line
  echo "task $TASK_ID $TASK_STATUS; error.txt: $(task_file error.txt | one_line 160); stdout: $(task_file stdout.txt | one_line 200); stderr: $(task_file stderr.txt | head -n 3 | one_line 160)"
}
worker_of() { # the worker container whose log names task $1
  local c
  for c in $(worker_ids); do
    grep -q -- "$1" <<<"$(docker logs "$c" 2>&1)" && { docker inspect -f '{{.Name}}' "$c" | tr -d /; return; }
  done
  echo "?"
}
unzip_to() { # unzip_to DIR ZIP
  mkdir -p "$1"
  if command -v python3 >/dev/null; then python3 -m zipfile -e "$2" "$1"
  elif command -v unzip >/dev/null; then unzip -q -o "$2" -d "$1"
  else (cd "$1" && jar xf "$2"); fi
}

teardown() { # `make down`: the observer first (so that it starts no worker while the others go), its workers, the rest
  [ "${#MAKE_STACK[@]}" -gt 0 ] && timeout 60 docker info >/dev/null 2>&1 || return 0
  timeout -k 10 300 make --no-print-directory down "${MAKE_STACK[@]}" >>"$LOG_DIR/teardown.log" 2>&1 || true
}

leftovers() { # what this project still has in the engine
  {
    docker ps -aq --filter label=com.docker.compose.project="$PROJECT" | sed 's/^/container /'
    docker ps -aq --filter label=minifaas.role=worker --filter label=minifaas.group="$PROJECT" | sed 's/^/worker /'
    docker network ls -q --filter name="^${PROJECT}_" | sed 's/^/network /'
    docker volume ls -q --filter name="^${PROJECT}_" | sed 's/^/volume /'
  } 2>/dev/null | sort -u
}

finish() {
  local code=$?
  trap - EXIT
  trap '' INT TERM # a second Ctrl-C must not cut the teardown short (every step in it has a timeout)
  if $STACK_UP; then
    local t=$SECONDS
    say "tearing down"
    teardown
    local left
    left=$(leftovers)
    if [ -z "$left" ]; then record PASS "teardown leaves nothing behind" $(( SECONDS - t ))
    else record FAIL "teardown leaves nothing behind" $(( SECONDS - t )) "$(echo "$left" | tr '\n' ' ')"; fi
  fi
  if [ -n "$DOCKERD_PID" ]; then
    say "stopping the dockerd this script started (pid $DOCKERD_PID)"
    kill "$DOCKERD_PID" 2>/dev/null
    for _ in $(seq 1 60); do kill -0 "$DOCKERD_PID" 2>/dev/null || break; sleep 0.5; done
    kill -9 "$DOCKERD_PID" 2>/dev/null || true
  fi
  rm -rf "$LOG_DIR/newman"
  [ "$code" = 0 ] || [ "$FAILED" -gt 0 ] || record FAIL "smoke script" 0 "stopped early (exit $code)"
  echo
  if [ "$FAILED" = 0 ]; then verdict=PASS; else verdict=FAIL; fi
  echo "==== container smoke test: $verdict in $(( SECONDS - STARTED )) s ===="
  printf '%s\n' "${RESULTS[@]}"
  if [ "$FAILED" = 0 ] && [ "${KEEP_LOGS:-0}" = 0 ]; then rm -rf "$LOG_DIR"; else echo "logs: $LOG_DIR"; fi
  echo "smoke: $PASSED passed, $FAILED failed, $SKIPPED skipped"
  [ "$FAILED" = 0 ] && exit 0 || exit 1
}
trap finish EXIT
trap 'say "interrupted"; exit 130' INT TERM
# keeps a developer's .env out of the CI stack; a fresh NATS token for this run
echo "NATS_TOKEN=$(new_token)" >"$LOG_DIR/empty.env"

if [ "$(id -u)" != 0 ]; then
  echo "run as root (it may install packages and start dockerd)" >&2
  exit 1
fi
apt_install() {
  say "installing $* with apt"
  run_logged apt.log 900 bash -c "apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $*"
}

# ---- 1. Docker engine and compose ----------------------------------------------------------------------
t=$SECONDS
if ! timeout 20 docker info >/dev/null 2>&1; then
  command -v dockerd >/dev/null || apt_install docker.io || { record FAIL "docker engine" $(( SECONDS - t )) "apt"; exit 1; }
  if ! timeout 20 docker info >/dev/null 2>&1; then # the package may have started it (systemd)
    say "starting dockerd"
    # in a session of its own, so that a Ctrl-C meant for this script does not stop it before the teardown
    setsid dockerd >"$LOG_DIR/dockerd.log" 2>&1 &
    DOCKERD_PID=$!
    for _ in $(seq 1 120); do timeout 5 docker info >/dev/null 2>&1 && break; sleep 0.5; done
  fi
fi
if ! timeout 20 docker info >/dev/null 2>&1; then
  tail -n 20 "$LOG_DIR/dockerd.log" 2>/dev/null | sed 's/^/    | /'
  # A machine that cannot run a Docker engine at all (no privileges for it) is a limit of the machine, not a
  # defect of the stack: say so loudly and stop here. Once an engine answers, every step below is strict.
  # SMOKE_REQUIRE_DOCKER=1 turns this into a failure.
  if [ "${SMOKE_REQUIRE_DOCKER:-0}" = 1 ]; then
    record FAIL "docker engine" $(( SECONDS - t )) "no engine answers"; exit 1
  fi
  record SKIP "docker engine" $(( SECONDS - t )) "NOT RUN: no Docker engine could be started here (see dockerd.log)"
  exit 0
fi
# compose: the v2 plugin if there, else docker-compose (Debian 12 packages 1.29, which needs --compatibility
# for deploy.replicas; the plugin is not packaged there)
if docker compose version >/dev/null 2>&1; then
  COMPOSE=(docker compose)
else
  command -v docker-compose >/dev/null || apt_install docker-compose || { record FAIL "docker engine" $(( SECONDS - t )) "no compose"; exit 1; }
  COMPOSE=(docker-compose --compatibility)
fi
# the stack is started and stopped through `make up` / `make down`, as a user does
command -v make >/dev/null || apt_install make || { record FAIL "docker engine" $(( SECONDS - t )) "no make"; exit 1; }
DC=("${COMPOSE[@]}" -p "$PROJECT" --env-file "$LOG_DIR/empty.env" -f docker-compose.yml -f docker-compose.ci.yml)
# the same stack for make (make/containers.mk): project, compose command, files and env file given explicitly
MAKE_STACK=(COMPOSE="${COMPOSE[*]}" COMPOSE_PROJECT_NAME="$PROJECT" COMPOSE_ENV_FILE="$LOG_DIR/empty.env"
            COMPOSE_FILES="docker-compose.yml docker-compose.ci.yml")
record PASS "docker engine and compose" $(( SECONDS - t )) "server $(docker version -f '{{.Server.Version}}' 2>/dev/null), ${COMPOSE[*]} $("${COMPOSE[@]}" version --short 2>/dev/null)"

export COMPOSE_PROJECT_NAME="$PROJECT"
export DOCKER_GID
DOCKER_GID=$(stat -c %g /var/run/docker.sock 2>/dev/null || echo 0)
# the proxy is not started in CI, but compose checks its required variables all the same
export OAUTH2_PROXY_CLIENT_ID=unused-in-ci OAUTH2_PROXY_CLIENT_SECRET=unused-in-ci OAUTH2_PROXY_COOKIE_SECRET=unused-in-ci
export CI_ADMIN_EMAIL="$ADMIN_EMAIL"
# a stack left by an interrupted run would clash with this one (and hold its port)
[ -z "$(leftovers)" ] || { say "removing a previous $PROJECT stack"; teardown; }
if [ -z "${CI_FRONTEND_PORT:-}" ]; then
  for p in $(seq 18080 18099); do (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { CI_FRONTEND_PORT=$p; break; }; done
fi
export CI_FRONTEND_PORT
BASE_URL="http://127.0.0.1:${CI_FRONTEND_PORT}"

# ---- 2. base images and jars ---------------------------------------------------------------------------
t=$SECONDS
if run_logged base-images.log 900 scripts/debian-base-image.sh --nats; then
  record PASS "base images (no registry)" $(( SECONDS - t )) "$(grep -E 'present|pulled|imported|built' "$LOG_DIR/base-images.log" | tr '\n' ';' | sed 's/;$//')"
else
  record FAIL "base images (no registry)" $(( SECONDS - t )); exit 1
fi
t=$SECONDS
missing_jars=false
for j in frontend/target/frontend.jar worker/target/worker.jar observer/target/observer.jar injector/target/injector.jar; do
  [ -f "$j" ] || missing_jars=true
done
if $missing_jars; then
  say "building the jars (make build)"
  run_logged mvn.log 900 make --no-print-directory build || { record FAIL "jars" $(( SECONDS - t )); exit 1; }
fi

# ---- 3+4. images and the stack: make up -------------------------------------------------------------------
# (the jars are there: BUILD_JARS=no; the base images too: make up finds them present)
say "make up: building the images, starting the stack"
STACK_UP=true
if run_logged up.log 1500 make --no-print-directory up BUILD_JARS=no "${MAKE_STACK[@]}"; then
  record PASS "images built, stack started (make up)" $(( SECONDS - t ))
else
  record FAIL "images built, stack started (make up)" $(( SECONDS - t )); exit 1
fi
t=$SECONDS
healthy=false
for _ in $(seq 1 120); do
  [ "$(curl -s -m 3 "$BASE_URL/healthz" 2>/dev/null)" = '{"status":"ok"}' ] && { healthy=true; break; }
  sleep 1
done
if $healthy; then
  record PASS "frontend healthy" $(( SECONDS - t )) "$(docker ps -q --filter label=com.docker.compose.project="$PROJECT" | wc -l) containers, $BASE_URL"
else
  compose ps 2>&1 | sed 's/^/    | /'
  compose logs --tail=30 frontend nats 2>&1 | sed 's/^/    | /'
  record FAIL "frontend healthy" $(( SECONDS - t )); exit 1
fi

# ---- 5. the workers' sandbox ---------------------------------------------------------------------------
# Every worker probes bubblewrap at start and refuses to start when it cannot run it (SANDBOX=bwrap): wait
# until the three replicas say how they isolate functions, or one of them gives up.
t=$SECONDS
sandbox_started() {
  local c ready=0 logs
  for _ in $(seq 1 90); do
    ready=0
    for c in $(worker_ids); do
      logs=$(docker logs "$c" 2>&1)
      if grep -q "sandbox isolation:" <<<"$logs"; then ready=$((ready + 1))
      elif grep -qiE "not started|sandbox does not start" <<<"$logs"; then
        echo "worker $(docker inspect -f '{{.Name}}' "$c" | tr -d /) refused to start: $(grep -iE 'not started|sandbox does not start' <<<"$logs" | tail -n 1 | cut -c1-400)"
        return 1
      fi
    done
    [ "$ready" -ge 3 ] && break
    sleep 1
  done
  [ "$ready" -ge 3 ] || { echo "$ready of 3 workers reported their sandbox after 90 s"; return 1; }
  c=$(worker_ids | head -n 1)
  docker logs "$c" 2>&1 | grep -E "sandbox (isolation|memory|processes|limits)" | sed 's/.*sandbox //' | cut -c1-200 | tr '\n' ';'
}
if detail=$(sandbox_started 2>&1); then record PASS "workers' bubblewrap sandbox started" $(( SECONDS - t )) "$detail"; WORKERS_OK=true
else
  compose logs --no-color --tail=40 worker 2>&1 | grep -E "ERROR|WARN|sandbox" | tail -n 12 | cut -c1-400 | sed 's/^/    | /'
  record FAIL "workers' bubblewrap sandbox started" $(( SECONDS - t )) "$detail"; WORKERS_OK=false
fi
# without a worker, every task step below would only wait for its timeout
task_step() { # task_step NAME FUNCTION: runs FUNCTION and records its outcome, or FAIL at once without workers
  local name=$1 t=$SECONDS detail; shift
  if ! $WORKERS_OK; then record FAIL "$name" 0 "not run: no worker started"; return; fi
  if detail=$("$@" 2>&1); then record PASS "$name" $(( SECONDS - t )) "$detail"
  else
    compose logs --no-color --tail=15 worker 2>&1 | grep -v "worker config:" | cut -c1-400 | sed 's/^/    | /'
    record FAIL "$name" $(( SECONDS - t )) "$detail"
  fi
}

# ---- 5a. one task end to end ---------------------------------------------------------------------------
e2e() {
  run_task "$REPO_URL" '["alpha", "beta gamma"]' || { echo "$TASK_STATUS"; return 1; }
  local out
  out=$(task_file stdout.txt)
  [ "$TASK_STATUS" = FINISHED ] || { task_summary; return 1; }
  grep -qx 'uid=1001' <<<"$out" || { echo "function did not run as uid 1001: $out"; return 1; }
  grep -qx 'args=alpha|beta gamma' <<<"$out" || { echo "function got other arguments: $out"; return 1; }
  echo "task $TASK_ID FINISHED; stdout: $(one_line <<<"$out")"
}
task_step "task end to end (uid 1001)" e2e

# ---- 5a'. the other runtimes: a Python and a Node.js function end to end -----------------------------------
# docker/ci/functions/python (main.py) and node (package.json whose main is handler.js; no dependencies, so
# nothing to install): each must run as uid 1001 and echo its parameters, an option-like one included.
# SMOKE_SKIP_RUNTIMES=1 skips both (a worker built without these runtimes).
runtime_e2e() { # runtime_e2e NAME: the function of repository NAME
  run_task "$GIT_URL/$1.git" '["alpha", "beta gamma", "--flag=x"]' || { echo "$TASK_STATUS"; return 1; }
  local out
  out=$(task_file stdout.txt)
  [ "$TASK_STATUS" = FINISHED ] || { task_summary; return 1; }
  grep -qx 'uid=1001' <<<"$out" || { echo "function did not run as uid 1001: $(task_summary)"; return 1; }
  grep -qx 'args=alpha|beta gamma|--flag=x' <<<"$out" || { echo "function got other arguments: $(task_summary)"; return 1; }
  echo "task $TASK_ID FINISHED; stdout: $(one_line <<<"$out"); stderr: $(task_file stderr.txt | head -n 1 | one_line 80)"
}
if [ "${SMOKE_SKIP_RUNTIMES:-0}" = 1 ]; then
  record SKIP "Python function end to end" 0 "SMOKE_SKIP_RUNTIMES=1"
  record SKIP "Node.js function end to end" 0 "SMOKE_SKIP_RUNTIMES=1"
else
  task_step "Python function end to end" runtime_e2e python
  task_step "Node.js function end to end" runtime_e2e node
fi

# ---- 5s. the sandbox, seen from functions run through the API -----------------------------------------
# (a) memory: touching 2 GiB must end at FUNCTION_MEMORY_MB (512), and the worker must go on working
sandbox_memory() {
  run_task "$GIT_URL/memory.git" '[]' || { echo "$TASK_STATUS"; return 1; }
  local first="$TASK_ID on $(worker_of "$TASK_ID")" error
  error=$(task_file error.txt)
  [ "$TASK_STATUS" = FINISHED_WITH_ERRORS ] || { echo "expected FINISHED_WITH_ERRORS: $(task_summary)"; return 1; }
  [[ "$error" == "memory limit reached"* ]] || { echo "error.txt does not start with 'memory limit reached': $(task_summary)"; return 1; }
  ! grep -q "no memory limit" <<<"$(task_file stdout.txt)" || { echo "the function allocated 2 GiB: $(task_summary)"; return 1; }
  local reached
  reached=$(task_file stdout.txt | tail -n 1)
  run_task "$REPO_URL" '["after", "memory"]' || { echo "next task: $TASK_STATUS"; return 1; }
  [ "$TASK_STATUS" = FINISHED ] || { echo "the next task did not finish: $(task_summary)"; return 1; }
  local c bad=""
  for c in $(worker_ids); do
    [ "$(docker inspect -f '{{.State.Running}} {{.State.OOMKilled}} {{.RestartCount}}' "$c")" = "true false 0" ] \
      || bad="$bad $(docker inspect -f '{{.Name}} running={{.State.Running}} oomkilled={{.State.OOMKilled}} restarts={{.RestartCount}}' "$c")"
  done
  [ -z "$bad" ] || { echo "a worker container suffered:$bad"; return 1; }
  echo "task $first: error.txt '$(one_line 90 <<<"$error")' (last stdout: $reached); next task FINISHED; no worker restarted or OOM-killed"
}
task_step "sandbox: memory limit (2 GiB touched)" sandbox_memory

# (b) network: loopback only. A listener on 127.0.0.1 of every worker container (made from the host in the
# container's network namespace), Docker's DNS on 127.0.0.11, nats and gitserver by name and by address.
LISTEN_PORT=18999
LISTENERS=()
start_listeners() {
  command -v nsenter >/dev/null && command -v python3 >/dev/null || return 1
  local c pid
  for c in $(worker_ids); do
    pid=$(docker inspect -f '{{.State.Pid}}' "$c")
    timeout 300 nsenter -t "$pid" -n python3 -c "import socket, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(('127.0.0.1', $LISTEN_PORT)); s.listen(16)
while True:
    c, _ = s.accept(); c.close()" >/dev/null 2>&1 &
    LISTENERS+=($!)
  done
  sleep 1
}
stop_listeners() { local p; for p in "${LISTENERS[@]}"; do kill "$p" 2>/dev/null; done; LISTENERS=(); }
sandbox_network() {
  local targets=() c reachable="" nats_ip git_ip out
  if start_listeners; then
    # the control: outside the sandbox, in the same container, the listener answers
    for c in $(worker_ids); do
      timeout 10 docker exec -u client "$c" bash -c "exec 3<>/dev/tcp/127.0.0.1/$LISTEN_PORT" 2>/dev/null \
        || { echo "control failed: no listener on 127.0.0.1:$LISTEN_PORT in $c"; return 1; }
    done
    targets+=("127.0.0.1:$LISTEN_PORT")
  else
    echo "(no nsenter/python3 here: no listener on the workers' loopback)" >&2
  fi
  c=$(worker_ids | head -n 1)
  nats_ip=$(docker exec "$c" getent hosts nats | awk '{print $1; exit}')
  git_ip=$(docker exec "$c" getent hosts gitserver | awk '{print $1; exit}')
  # the control again: a plain process of the worker container reaches nats and gitserver
  timeout 10 docker exec -u client "$c" bash -c 'exec 3<>/dev/tcp/nats/4222 && exec 4<>/dev/tcp/gitserver/8000' 2>/dev/null \
    || { echo "control failed: a worker container cannot reach nats:4222 and gitserver:8000"; return 1; }
  targets+=("127.0.0.11:53" "localhost:8080" "nats:4222" "gitserver:8000")
  [ -n "$nats_ip" ] && targets+=("$nats_ip:4222")
  [ -n "$git_ip" ] && targets+=("$git_ip:8000")
  local json
  json=$(printf '"%s",' "${targets[@]}"); json="[${json%,}]"
  run_task "$GIT_URL/network.git" "$json" || { stop_listeners; echo "$TASK_STATUS"; return 1; }
  stop_listeners
  out=$(task_file stdout.txt)
  [ "$TASK_STATUS" = FINISHED ] || { echo "expected FINISHED: $(task_summary)"; return 1; }
  reachable=$(grep '^connected ' <<<"$out")
  [ -z "$reachable" ] || { echo "reachable from the sandbox: $(one_line <<<"$reachable")"; return 1; }
  grep -q "^connections: 0 of ${#targets[@]}$" <<<"$out" || { echo "unexpected output: $(task_summary)"; return 1; }
  # one short reason per target: "connection refused", "network is unreachable", or no DNS at all
  echo "task $TASK_ID on $(worker_of "$TASK_ID"): 0 of ${#targets[@]} connected: $(grep '^refused' <<<"$out" \
    | sed -E 's/^refused ([^ ]*): .*lookup .*/\1 (no DNS)/; s/^refused ([^ ]*): .*: ([^:]*)$/\1 (\2)/' | tr '\n' ',' | sed 's/,$//; s/,/, /g')"
}
task_step "sandbox: no network (lo, nats, git)" sandbox_network

# (c) /tmp: private to each task and capped (FUNCTION_TMP_MB, 256): writing 3 GB there must fail, and nothing
# of it may outlive the task, neither for the next task nor anywhere in the worker containers
sandbox_tmp() {
  local mark out c found=""
  mark=smoke$RANDOM
  run_task "$GIT_URL/tmp.git" "[\"fill\", \"$mark\"]" || { echo "$TASK_STATUS"; return 1; }
  local first="$TASK_ID on $(worker_of "$TASK_ID")"
  out=$(task_file stdout.txt)
  [ "$TASK_STATUS" = FINISHED ] || { echo "expected FINISHED with a refused write: $(task_summary)"; return 1; }
  grep -q "^refused after [0-9]* MiB" <<<"$out" || { echo "writing 3 GB to /tmp was not refused: $(task_summary)"; return 1; }
  local refused=$out
  run_task "$GIT_URL/tmp.git" '["check"]' || { echo "check: $TASK_STATUS"; return 1; }
  [ "$TASK_STATUS" = FINISHED ] && grep -qx "tmp empty" <<<"$(task_file stdout.txt)" \
    || { echo "the next task's /tmp is not empty: $(task_summary)"; return 1; }
  for c in $(worker_ids); do
    found="$found$(timeout 30 docker exec "$c" find / -xdev \( -name "marker-$mark" -o -name "fill-$mark" \) -print 2>/dev/null)"
  done
  [ -z "$found" ] || { echo "left behind in a worker container: $found"; return 1; }
  echo "task $first: $(one_line 120 <<<"$refused"); next task $TASK_ID on $(worker_of "$TASK_ID"): /tmp empty; no file of it in any worker container"
}
task_step "sandbox: private, capped /tmp" sandbox_tmp

# ---- 5a'. NATS refuses what runs as a function ------------------------------------------------------------
# Functions share the workers' network with NATS; without the token they must get nothing from it.
t=$SECONDS
worker_id=$(docker ps -q --filter label=minifaas.role=worker --filter label=minifaas.group="$PROJECT" | head -n 1)
nats_reply=$(timeout 20 docker exec -u client "$worker_id" bash -c \
  'exec 3<>/dev/tcp/nats/4222 && printf "CONNECT {\"verbose\":false}\r\nPING\r\n" >&3 && timeout 3 cat <&3' 2>&1)
monitor_open=no
timeout 10 docker exec -u client "$worker_id" bash -c 'exec 3<>/dev/tcp/nats/8222' 2>/dev/null && monitor_open=yes
if [ "$monitor_open" = yes ]; then
  record FAIL "NATS refuses a function (no token)" $(( SECONDS - t )) "the monitoring port is reachable from a worker"
elif grep -q "Authorization Violation" <<<"$nats_reply"; then
  record PASS "NATS refuses a function (no token)" $(( SECONDS - t )) "uid 1001 in a worker: Authorization Violation; no monitoring port"
else
  record FAIL "NATS refuses a function (no token)" $(( SECONDS - t )) "$(tr '\r\n' '  ' <<<"$nats_reply" | cut -c1-200)"
fi

# ---- 5b. the Postman collection ------------------------------------------------------------------------
t=$SECONDS
newman_ok=false
if ! $WORKERS_OK; then
  record FAIL "Postman collection (newman)" 0 "not run: no worker started"
else
  # (Debian's npm only where there is no npm at all: it conflicts with nodesource's nodejs, which has its own)
  if ! command -v npm >/dev/null; then apt_install $(missing_packages node:nodejs npm:npm) || true; fi
  if command -v npm >/dev/null && run_logged npm.log 300 npm install --no-audit --no-fund --loglevel=error \
       --prefix "$LOG_DIR/newman" "newman@$NEWMAN_VERSION"; then
    if timeout 300 "$LOG_DIR/newman/node_modules/.bin/newman" run postman/minifaas.postman_collection.json \
         -e postman/minifaas.postman_environment.json \
         --env-var "baseUrl=$BASE_URL" --env-var cookie= --env-var user=newman-user \
         --env-var email=newman-user@ci.invalid --env-var "adminEmail=$ADMIN_EMAIL" \
         --env-var "repoUrl=$REPO_URL" --env-var pollIntervalMs=500 --env-var maxPolls=240 \
         --reporters cli --color off --disable-unicode >"$LOG_DIR/newman.log" 2>&1; then
      newman_ok=true
    fi
    summary=$(grep -E '(requests|assertions) ' "$LOG_DIR/newman.log" | tr -s ' |' ' ' | sed 's/^ //' | tr '\n' ';')
    if $newman_ok; then record PASS "Postman collection (newman)" $(( SECONDS - t )) "$summary"
    else
      sed -n '/# *failure/,$p' "$LOG_DIR/newman.log" | head -n 60 | sed 's/^/    | /'
      record FAIL "Postman collection (newman)" $(( SECONDS - t )) "$summary"
    fi
  else
    record FAIL "Postman collection (newman)" $(( SECONDS - t )) "could not install newman from npm"
  fi
fi

# ---- 5b'. the v1 Postman collection (Task API v1: records, wait, list, logs, cancel, files, OpenAPI) ----------
t=$SECONDS
if [ -x "$LOG_DIR/newman/node_modules/.bin/newman" ] && $WORKERS_OK; then
  if timeout 300 "$LOG_DIR/newman/node_modules/.bin/newman" run postman/minifaas-v1.postman_collection.json \
       -e postman/minifaas.postman_environment.json \
       --env-var "baseUrl=$BASE_URL" --env-var cookie= --env-var user=newman-v1-user \
       --env-var email=newman-v1-user@ci.invalid --env-var "adminEmail=$ADMIN_EMAIL" \
       --env-var "repoUrl=$REPO_URL" --env-var pollIntervalMs=500 --env-var maxPolls=240 \
       --reporters cli --color off --disable-unicode >"$LOG_DIR/newman-v1.log" 2>&1; then
    record PASS "Postman v1 collection (newman)" $(( SECONDS - t )) \
      "$(grep -E '(requests|assertions) ' "$LOG_DIR/newman-v1.log" | tr -s ' |' ' ' | sed 's/^ //' | tr '\n' ';')"
  else
    sed -n '/# *failure/,$p' "$LOG_DIR/newman-v1.log" | head -n 60 | sed 's/^/    | /'
    record FAIL "Postman v1 collection (newman)" $(( SECONDS - t )) "see newman-v1.log"
  fi
else
  record FAIL "Postman v1 collection (newman)" 0 "not run: newman or the workers missing"
fi

# ---- 5c. one scale-up by the observer ------------------------------------------------------------------
# The observer starts a worker once the backlog stays above CONGESTION_LIMIT (2) for 3 checks of 2 s, and stops
# it again once the backlog is gone. So the new container is followed from the second it appears: its log is
# copied into $LOG_DIR every second (the observer removes the container when it scales down), and a crash
# (the worker exits, restarts, or says it did not start) is told apart from an orderly scale-down.
t=$SECONDS
observer_stopped() { compose logs --no-color observer 2>/dev/null | grep -q "stopping worker container ${1:0:12}"; }
scale_up() {
  local before i c="" opts replica_opts log="$LOG_DIR/scaled-worker.log" state="" restarts=0 seen=0 up_at
  before=$(count_workers)
  # twelve 8-second tasks for 3 workers: the backlog stays above CONGESTION_LIMIT=2 for ~20 s, the new worker
  # needs ~2 s to start
  for i in $(seq 1 12); do
    curl -sS -m 15 -o /dev/null -H "X-Forwarded-User: scaler-$((i % 3))" -H 'Content-Type: application/json' \
      -d "{\"url\": \"$REPO_URL\", \"parameters\": [\"sleep\", \"8\"]}" "$BASE_URL/createTask" || true
  done
  for _ in $(seq 1 120); do
    c=$(docker ps -aq --no-trunc --filter label=minifaas.managed-by=observer --filter label=minifaas.group="$PROJECT" | head -n 1)
    [ -n "$c" ] && break
    sleep 1
  done
  if [ -z "$c" ]; then
    echo "still $(count_workers) workers after 120 s; observer log:"
    compose logs --no-color --tail=15 observer 2>&1 | sed 's/^/    | /'
    return 1
  fi
  up_at=$SECONDS
  # the observer's worker runs like the replicas: the seccomp profile, the limits, a working sandbox
  opts=$(docker inspect -f '{{.HostConfig.Memory}} {{.HostConfig.PidsLimit}} {{len .HostConfig.SecurityOpt}}' "$c" 2>&1)
  replica_opts=$(docker inspect -f '{{.HostConfig.Memory}} {{.HostConfig.PidsLimit}} {{len .HostConfig.SecurityOpt}}' \
    "$(docker ps -q --filter label=com.docker.compose.project="$PROJECT" --filter label=com.docker.compose.service=worker | head -n 1)")
  [ "$opts" = "$replica_opts" ] && [ "${opts##* }" -ge 1 ] \
    || { echo "the observer's worker ${c:0:12} is not started like the replicas: memory, pids, security options = $opts (replicas: $replica_opts)"; return 1; }
  for _ in $(seq 1 60); do
    # one snapshot a second, kept only when complete: the container may be gone by the next one
    state=$(docker inspect -f '{{.State.Status}} {{.State.ExitCode}} {{.RestartCount}}' "$c" 2>/dev/null) || { state=gone; break; }
    docker logs "$c" >"$log.part" 2>&1 && mv "$log.part" "$log"
    restarts=${state##* }
    if grep -q "sandbox isolation:" "$log" 2>/dev/null; then seen=1; break; fi
    # a crash: it said it did not start, it exited, or the engine restarted it (restart: unless-stopped)
    if grep -qiE "not started|sandbox does not start|Exception in thread" "$log" 2>/dev/null || [ "$restarts" -gt 0 ] \
       || { [[ "$state" != running* ]] && [[ "$state" != created* ]] && ! observer_stopped "$c"; }; then
      echo "the observer's worker ${c:0:12} crashed at start ($state: status, exit code, restarts): $(grep -iE 'ERROR|Exception|not started' "$log" | tail -n 1 | cut -c1-400)"
      return 1
    fi
    sleep 1
  done
  rm -f "$log.part"
  if [ "$seen" = 1 ]; then
    echo "workers $before -> $((before + 1)); the new one (${c:0:12}) has memory, pids, security options = $opts; its sandbox started after $((SECONDS - up_at)) s: $(grep -o 'sandbox isolation: [^(]*' "$log" | head -n 1)"
    return 0
  fi
  if grep -qiE "not started|sandbox does not start|Exception in thread" "$log" 2>/dev/null; then
    echo "the observer's worker ${c:0:12} crashed at start: $(grep -iE 'ERROR|Exception|not started' "$log" | tail -n 1 | cut -c1-400)"
  elif [ "$state" = gone ] && observer_stopped "$c"; then
    echo "the observer scaled its worker ${c:0:12} down after $((SECONDS - up_at)) s, before it reported its sandbox (no crash seen; its log: $(tail -n 2 "$log" 2>/dev/null | one_line))"
  elif [ "$state" = gone ]; then
    echo "the observer's worker ${c:0:12} vanished after $((SECONDS - up_at)) s without the observer stopping it (its log: $(tail -n 2 "$log" 2>/dev/null | one_line))"
  else
    echo "the observer's worker ${c:0:12} did not report its sandbox within 60 s ($state: status, exit code, restarts): $(tail -n 2 "$log" 2>/dev/null | one_line)"
  fi
  return 1
}
if ! $WORKERS_OK; then record FAIL "observer scale-up (SCALER=docker)" 0 "not run: no worker started"
elif detail=$(scale_up 2>&1); then record PASS "observer scale-up (SCALER=docker)" $(( SECONDS - t )) "$detail"
else record FAIL "observer scale-up (SCALER=docker)" $(( SECONDS - t )) "$detail"; fi
exit 0
