#!/usr/bin/env bash
# Container smoke test, for CI and for anyone with root on a Debian machine (docs/CONTAINERS.md):
#   1. a Docker engine: the running one, else dockerd started here (docker.io installed with apt if missing);
#   2. the base images without any registry: debian:trixie-slim and minifaas/nats:local (debian-base-image.sh);
#   3. the four service images and a Git server holding a test Go function;
#   4. the stack from docker-compose.yml + docker-compose.ci.yml (no oauth2-proxy: the frontend is published on
#      127.0.0.1 and called with identity headers);
#   5. one task end to end (the function must run as uid 1001), the Postman collection with newman, and one
#      scale-up by the observer (SCALER=docker);
#   6. teardown that leaves no container, network or volume, checked; dockerd stopped if this script started it.
# Every wait has a timeout. Prints a PASS/FAIL summary; exits non-zero on failure.
# Environment: CI_FRONTEND_PORT [first free from 18080], SMOKE_PROJECT [minifaas-ci], KEEP_LOGS [0: only on failure]
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1

PROJECT="${SMOKE_PROJECT:-minifaas-ci}"
ADMIN_EMAIL=admin@ci.invalid
REPO_URL=http://gitserver:8000/hello.git   # the gitserver service, on the workers' network
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
DC=() # the compose command for this stack, set once compose is found
compose() { "${DC[@]}" "$@"; }
http() { curl -sS -m 15 -H 'X-Forwarded-User: smoke' -H 'X-Forwarded-Email: smoke@ci.invalid' "$@"; }
json_field() { sed -n "s/.*\"$1\"[[:space:]]*:[[:space:]]*\"\{0,1\}\([^\",}]*\)\"\{0,1\}.*/\1/p" | head -n 1; }
count_workers() { # running worker containers of this stack, the observer's included
  docker ps -q --filter label=minifaas.role=worker --filter label=minifaas.group="$PROJECT" --filter status=running | wc -l
}
unzip_to() { # unzip_to DIR ZIP
  mkdir -p "$1"
  if command -v python3 >/dev/null; then python3 -m zipfile -e "$2" "$1"
  elif command -v unzip >/dev/null; then unzip -q -o "$2" -d "$1"
  else (cd "$1" && jar xf "$2"); fi
}

teardown() {
  [ "${#DC[@]}" -gt 0 ] && timeout 60 docker info >/dev/null 2>&1 || return 0
  # the observer first, so that it starts no worker while the others go
  timeout -k 10 60 "${DC[@]}" stop -t 5 observer >>"$LOG_DIR/teardown.log" 2>&1 || true
  docker ps -aq --filter label=minifaas.role=worker --filter label=minifaas.group="$PROJECT" \
    | xargs -r timeout -k 10 60 docker rm -f -v >>"$LOG_DIR/teardown.log" 2>&1 || true
  timeout -k 10 180 "${DC[@]}" down -v --remove-orphans -t 20 >>"$LOG_DIR/teardown.log" 2>&1 || true
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
echo "NATS_TOKEN=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')" >"$LOG_DIR/empty.env"

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
  BUILD_OPTS=()
else
  command -v docker-compose >/dev/null || apt_install docker-compose || { record FAIL "docker engine" $(( SECONDS - t )) "no compose"; exit 1; }
  COMPOSE=(docker-compose --compatibility)
  BUILD_OPTS=(--force-rm) # the classic builder keeps a failed step's container otherwise
fi
DC=("${COMPOSE[@]}" -p "$PROJECT" --env-file "$LOG_DIR/empty.env" -f docker-compose.yml -f docker-compose.ci.yml)
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
  say "building the jars (mvn package)"
  run_logged mvn.log 900 mvn -B -q -DskipTests package || { record FAIL "jars" $(( SECONDS - t )); exit 1; }
fi

# ---- 3. images -----------------------------------------------------------------------------------------
say "building the images"
if run_logged build.log 1200 "${DC[@]}" build "${BUILD_OPTS[@]}"; then
  record PASS "images built" $(( SECONDS - t ))
else
  record FAIL "images built" $(( SECONDS - t )); exit 1
fi

# ---- 4. the stack --------------------------------------------------------------------------------------
t=$SECONDS
STACK_UP=true
if ! run_logged up.log 300 "${DC[@]}" up -d; then
  record FAIL "stack up" $(( SECONDS - t )); exit 1
fi
healthy=false
for _ in $(seq 1 120); do
  [ "$(curl -s -m 3 "$BASE_URL/healthz" 2>/dev/null)" = '{"status":"ok"}' ] && { healthy=true; break; }
  sleep 1
done
if $healthy; then
  record PASS "stack up, frontend healthy" $(( SECONDS - t )) "$(docker ps -q --filter label=com.docker.compose.project="$PROJECT" | wc -l) containers, $BASE_URL"
else
  compose ps 2>&1 | sed 's/^/    | /'
  compose logs --tail=30 frontend nats 2>&1 | sed 's/^/    | /'
  record FAIL "stack up, frontend healthy" $(( SECONDS - t )); exit 1
fi

# ---- 5a. one task end to end ---------------------------------------------------------------------------
t=$SECONDS
e2e() {
  local answer id status="" body
  answer=$(http -H 'Content-Type: application/json' -w '\n%{http_code}' "$BASE_URL/createTask" \
             -d "{\"url\": \"$REPO_URL\", \"parameters\": [\"alpha\", \"beta gamma\"]}")
  [ "${answer##*$'\n'}" = 201 ] || { echo "createTask: $answer"; return 1; }
  id=$(json_field data <<<"${answer%$'\n'*}")
  for _ in $(seq 1 180); do
    body=$(http "$BASE_URL/getTaskStatus?taskId=$id") || true
    status=$(json_field data <<<"$body")
    case "$status" in FINISHED|FINISHED_WITH_ERRORS|UNEXPECTED_ERROR) break ;; esac
    sleep 1
  done
  http -o "$LOG_DIR/result.zip" "$BASE_URL/getTaskResult?taskId=$id" || { echo "getTaskResult failed"; return 1; }
  unzip_to "$LOG_DIR/result" "$LOG_DIR/result.zip" 2>/dev/null || { echo "result is not a zip: $(head -c 200 "$LOG_DIR/result.zip")"; return 1; }
  local out
  out=$(cat "$LOG_DIR/result/stdout.txt" 2>/dev/null)
  [ "$status" = FINISHED ] || { echo "task $id ended $status: $(cat "$LOG_DIR"/result/*.txt 2>/dev/null | head -c 400)"; return 1; }
  grep -qx 'uid=1001' <<<"$out" || { echo "function did not run as uid 1001: $out"; return 1; }
  grep -qx 'args=alpha|beta gamma' <<<"$out" || { echo "function got other arguments: $out"; return 1; }
  echo "task $id FINISHED; stdout: $(tr '\n' ' ' <<<"$out")"
}
if detail=$(e2e 2>&1); then record PASS "task end to end (uid 1001)" $(( SECONDS - t )) "$detail"
else
  compose logs --no-color --tail=15 worker 2>&1 | sed 's/^/    | /'
  record FAIL "task end to end (uid 1001)" $(( SECONDS - t )) "$detail"
fi

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
if ! command -v npm >/dev/null; then apt_install nodejs npm || true; fi
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

# ---- 5c. one scale-up by the observer ------------------------------------------------------------------
t=$SECONDS
scale_up() {
  local before now i
  before=$(count_workers)
  # twelve 6-second tasks for 3 workers: the backlog stays above CONGESTION_LIMIT=2 for a while
  for i in $(seq 1 12); do
    curl -sS -m 15 -o /dev/null -H "X-Forwarded-User: scaler-$((i % 3))" -H 'Content-Type: application/json' \
      -d "{\"url\": \"$REPO_URL\", \"parameters\": [\"sleep\", \"6\"]}" "$BASE_URL/createTask" || true
  done
  for _ in $(seq 1 120); do
    now=$(count_workers)
    [ "$now" -gt "$before" ] && { echo "workers $before -> $now"; return 0; }
    sleep 1
  done
  echo "still $(count_workers) workers after 120 s; observer log:"
  compose logs --tail=15 observer 2>&1 | sed 's/^/    | /'
  return 1
}
if detail=$(scale_up 2>&1); then record PASS "observer scale-up (SCALER=docker)" $(( SECONDS - t )) "$detail"
else record FAIL "observer scale-up (SCALER=docker)" $(( SECONDS - t )) "$detail"; fi
exit 0
