#!/usr/bin/env bash
# `make run`: the whole MiniFaaS on this machine, without Docker. Ctrl-C stops everything it started.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
RUN_DIR="$ROOT/.run"
NATS_PORT="${NATS_PORT:-4222}"
export FRONTEND_PORT="${FRONTEND_PORT:-8080}"
# no proxy here: whoever reaches the frontend can claim any identity, so it listens on loopback only
export FRONTEND_HOST="${FRONTEND_HOST:-127.0.0.1}"
export NATS_SERVER_ADDRESS="nats://127.0.0.1:${NATS_PORT}"

need_install=()
command -v nats-server >/dev/null 2>&1 || need_install+=(nats-server)
command -v go >/dev/null 2>&1 || need_install+=(golang-go)
command -v java >/dev/null 2>&1 || need_install+=(default-jre-headless)
command -v curl >/dev/null 2>&1 || need_install+=(curl)
command -v bwrap >/dev/null 2>&1 || need_install+=(bubblewrap)
if [ "${#need_install[@]}" -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "installing ${need_install[*]} with apt"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_install[@]}" >/dev/null
  else
    echo "missing: ${need_install[*]}. Install them with:" >&2
    echo "  sudo apt-get install -y ${need_install[*]}" >&2
    exit 1
  fi
fi

# Every build and function runs in a bubblewrap sandbox of its own. As root, sandboxes run as the low-privilege
# users `client` (functions) and `minifaas-build` (builds), created if missing, with per-task cgroup limits;
# otherwise as the current user through unprivileged user namespaces, with rlimits (the worker logs which).
if [ "$(id -u)" = 0 ]; then
  for user in client minifaas-build; do
    id "$user" >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin "$user"
  done
  export RUN_AS_USER="${RUN_AS_USER-client}" BUILD_AS_USER="${BUILD_AS_USER-minifaas-build}"
  export WORKER_WORK_DIR="${WORKER_WORK_DIR:-/tmp/minifaas-worker}"
else
  export RUN_AS_USER="${RUN_AS_USER-}" BUILD_AS_USER="${BUILD_AS_USER-}"
  export WORKER_WORK_DIR="${WORKER_WORK_DIR:-$RUN_DIR/worker}"
fi

mkdir -p "$RUN_DIR/nats" "$RUN_DIR/logs"
chmod 700 "$RUN_DIR/logs" "$RUN_DIR/nats"  # logs name admins and task ids
[ -f .env ] && { set -a; . ./.env; set +a; }

# NATS requires a token, fresh for each run: functions run on this host and could otherwise reach every bucket.
# It goes to nats-server in a file only its owner reads (a command line is visible to every user) and to the
# services in their environment (which other users cannot read either).
export NATS_TOKEN="$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')"
( umask 077; printf 'authorization { token: "%s" }\n' "$NATS_TOKEN" > "$RUN_DIR/nats.conf" )

pids=()
nats_pid=
cleanup() {
  trap - INT TERM EXIT
  echo
  echo "stopping MiniFaaS..."
  # the services first (a stopping worker hands its tasks back through NATS), then NATS
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  if [ -n "$nats_pid" ]; then kill "$nats_pid" 2>/dev/null || true; wait "$nats_pid" 2>/dev/null || true; fi
  echo "stopped."
}
trap cleanup EXIT
trap "exit 0" INT TERM  # a requested stop is a clean end

start() { # name, command...
  local name=$1; shift
  "$@" >"$RUN_DIR/logs/$name.log" 2>&1 &
  pids+=($!)
  echo "  $name (pid $!, log .run/logs/$name.log)"
}

echo "starting MiniFaaS:"
# no monitoring port: functions run on this host, and it would list every user's buckets
# in a session of its own: a terminal's Ctrl-C must not stop NATS before the services have handed back their tasks
setsid nats-server -c "$RUN_DIR/nats.conf" -a 127.0.0.1 -p "$NATS_PORT" -js -sd "$RUN_DIR/nats" \
  >"$RUN_DIR/logs/nats.log" 2>&1 &
nats_pid=$!
echo "  nats (pid $nats_pid, log .run/logs/nats.log)"
for _ in $(seq 1 100); do
  (exec 3<>"/dev/tcp/127.0.0.1/$NATS_PORT") 2>/dev/null && break
  sleep 0.1
done
start frontend java -jar frontend/target/frontend.jar
WORKER_CONCURRENCY="${WORKER_CONCURRENCY:-3}" start worker java -jar worker/target/worker.jar
start observer java -jar observer/target/observer.jar
start injector java -jar injector/target/injector.jar

for _ in $(seq 1 150); do
  curl -fsS "http://127.0.0.1:${FRONTEND_PORT}/healthz" >/dev/null 2>&1 && break
  for pid in "${pids[@]}"; do
    kill -0 "$pid" 2>/dev/null || { echo "a service exited at start; see .run/logs/" >&2; exit 1; }
  done
  sleep 0.2
done

cat <<MSG

MiniFaaS is running at http://127.0.0.1:${FRONTEND_PORT} (no oauth2-proxy here: send the identity headers yourself)

  curl -s -X POST http://127.0.0.1:${FRONTEND_PORT}/createTask \\
       -H 'X-Forwarded-User: alice' -H 'Content-Type: application/json' \\
       -d '{"url": "https://github.com/<you>/<go-function>.git", "parameters": ["hello"]}'

  curl -s 'http://127.0.0.1:${FRONTEND_PORT}/getTaskStatus?taskId=<id>' -H 'X-Forwarded-User: alice'

Press Ctrl-C to stop everything.
MSG

wait -n "${pids[@]}" "$nats_pid" || true
echo "a service stopped; see .run/logs/" >&2
