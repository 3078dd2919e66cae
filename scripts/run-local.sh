#!/usr/bin/env bash
# `make run`: the whole MiniFaaS on this machine, without Docker. Each process is supervised: one that dies is
# restarted (back-off 1 s doubling to 30 s). Ctrl-C stops everything it started, the services first, NATS last.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
. scripts/lib.sh
# a directory of this run's own (NATS data, logs, the NATS token); tests point it elsewhere
RUN_DIR="${MINIFAAS_RUN_DIR:-$ROOT/.run}"
NATS_PORT="${NATS_PORT:-4222}"
export FRONTEND_PORT="${FRONTEND_PORT:-8080}"
# no proxy here: whoever reaches the frontend can claim any identity, so it listens on loopback only
export FRONTEND_HOST="${FRONTEND_HOST:-127.0.0.1}"
export NATS_SERVER_ADDRESS="nats://127.0.0.1:${NATS_PORT}"
# Each process has its own ops port (/metrics, /healthz; docs/METRICS.md), on loopback: frontend, observer, injector,
# then the worker, from METRICS_BASE_PORT on (0: no ops servers).
METRICS_BASE_PORT="${METRICS_BASE_PORT:-9464}"
export METRICS_HOST=127.0.0.1
metrics_port() { # the ops port of the n-th process (0, 1, 2...), or 0 when they are off
  if [ "$METRICS_BASE_PORT" = 0 ]; then echo 0; else echo $((METRICS_BASE_PORT + $1)); fi
}
FRONTEND_METRICS_PORT=$(metrics_port 0) OBSERVER_METRICS_PORT=$(metrics_port 1)
INJECTOR_METRICS_PORT=$(metrics_port 2) WORKER_METRICS_PORT=$(metrics_port 3)
# Repositories on private and loopback addresses are refused by default (a task's URL must not reach the host's
# or the LAN's internal services). Here the user is on this machine and typically serves Git on 127.0.0.1
# (scripts/git-http-server.py), so they are allowed.
export REPO_ALLOW_PRIVATE_ADDRESSES="${REPO_ALLOW_PRIVATE_ADDRESSES:-true}"

mapfile -t need_install < <(missing_packages nats-server:nats-server go:golang-go java:default-jre-headless curl:curl \
  bwrap:bubblewrap)
# functions' network (FUNCTION_NETWORK=egress, public addresses only): user-mode networking and a host firewall;
# the function runtimes: Python, Node.js and npm, a second Go toolchain (scripts/lib.sh: runtime_packages)
if [ "$(id -u)" = 0 ]; then
  mapfile -t -O "${#need_install[@]}" need_install < <(missing_packages slirp4netns:slirp4netns nft:nftables
                                                        runtime_packages)
else
  # without root they are optional: the functions that need them fail, the others run
  mapfile -t need_runtimes < <(runtime_packages)
  [ "${#need_runtimes[@]}" = 0 ] || echo "note: no ${need_runtimes[*]} here: functions that need them will fail" \
    "(as root, make run installs them)" >&2
fi
if [ "${#need_install[@]}" -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "installing ${need_install[*]} with apt"
    install_packages "${need_install[@]}"
  else
    echo "missing: ${need_install[*]}. Install them with:" >&2
    echo "  sudo apt-get install -y ${need_install[*]}" >&2
    exit 1
  fi
fi

for port in "$NATS_PORT" "$FRONTEND_PORT" "$FRONTEND_METRICS_PORT" "$OBSERVER_METRICS_PORT" \
            "$INJECTOR_METRICS_PORT" "$WORKER_METRICS_PORT"; do
  [ "$port" != 0 ] || continue
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    echo "port $port is in use (NATS_PORT, FRONTEND_PORT and METRICS_BASE_PORT choose others)" >&2
    exit 1
  fi
done

# Every build and function runs in a bubblewrap sandbox of its own. As root, sandboxes run as the low-privilege
# users `client` (functions) and `minifaas-build` (builds), created if missing, with per-task cgroup limits;
# otherwise as the current user through unprivileged user namespaces, with rlimits (the worker logs which).
if [ "$(id -u)" = 0 ]; then
  ensure_sandbox_accounts
  export RUN_AS_USER="${RUN_AS_USER-client}" BUILD_AS_USER="${BUILD_AS_USER-minifaas-build}"
  export WORKER_WORK_DIR="${WORKER_WORK_DIR:-/tmp/minifaas-worker}"
else
  export RUN_AS_USER="${RUN_AS_USER-}" BUILD_AS_USER="${BUILD_AS_USER-}"
  export WORKER_WORK_DIR="${WORKER_WORK_DIR:-$RUN_DIR/worker}"
fi

# only its owner enters the run directory: logs name admins and task ids, NATS data holds every user's tasks
(umask 077; mkdir -p "$RUN_DIR/nats" "$RUN_DIR/logs"; : >>"$RUN_DIR/logs/supervisor.log")
chmod 700 "$RUN_DIR" "$RUN_DIR/logs" "$RUN_DIR/nats"
[ -f .env ] && { set -a; . ./.env; set +a; }

# NATS requires a token, fresh for each run: functions run on this host and could otherwise reach every bucket.
# It goes to nats-server in a file only its owner reads (a command line is visible to every user) and to the
# services in their environment (which other users cannot read either).
export NATS_TOKEN="$(new_token)"
write_nats_auth "$RUN_DIR/nats.conf" "$NATS_TOKEN"

# Each user's webhook key derives from WEBHOOK_SECRET (docs/WEBHOOKS.md): from the environment or .env, else one made
# on the first run and kept in the run directory, so that users' keys stay the same across restarts.
if [ -z "${WEBHOOK_SECRET:-}" ]; then
  [ -s "$RUN_DIR/webhook-secret" ] || ( umask 077; new_token 32 > "$RUN_DIR/webhook-secret" )
  WEBHOOK_SECRET="$(cat "$RUN_DIR/webhook-secret")"
fi
export WEBHOOK_SECRET

say() { # a line on the console and in the supervisor's log
  echo "$*"
  echo "$(date '+%F %T') $*" >>"$RUN_DIR/logs/supervisor.log"
}

# supervise NAME COMMAND...: runs COMMAND (output to logs/NAME.log, pid in NAME.pid) and restarts it whenever it
# exits, waiting 1 s, then 2, 4... up to 30 s between quick failures (back to 1 s once it has stayed up 60 s).
# SIGTERM stops it: the command gets SIGTERM, and the loop ends when the command has ended. A service that exits
# with 2 ("not started": bad configuration) is not restarted, as it would only fail again.
supervise() {
  local name=$1; shift
  local stop= child= status started delay=1 sleeper restarts=0
  trap 'stop=1; [ -z "$child" ] || kill "$child" 2>/dev/null || true' TERM
  # a terminal's Ctrl-C reaches every process of the group: neither this loop nor its command may stop on it, the
  # cleanup below stops them in order (bash ignores it in background jobs, but not reliably after their own `wait`)
  trap '' INT
  (umask 077; : >"$RUN_DIR/logs/$name.log")  # a log per run; restarts append to it
  while :; do
    started=$SECONDS
    "$@" >>"$RUN_DIR/logs/$name.log" 2>&1 &
    child=$!
    echo "$child" >"$RUN_DIR/$name.pid"
    [ -z "$stop" ] || kill "$child" 2>/dev/null || true  # a SIGTERM that came just before $child was known
    [ "$restarts" = 0 ] || say "$name restarted (pid $child)"
    # (2>/dev/null: no "Killed" line from bash, the line below says it)
    status=0; wait "$child" 2>/dev/null || status=$?
    # a SIGTERM to this loop ends that wait at once: wait again until the command has ended
    while [ -n "$stop" ] && kill -0 "$child" 2>/dev/null; do status=0; wait "$child" 2>/dev/null || status=$?; done
    child=
    rm -f "$RUN_DIR/$name.pid"
    if [ -n "$stop" ]; then say "$name stopped"; return 0; fi
    if [ "$status" = 2 ] && [ "$name" != nats ]; then
      say "$name exited with 2 (bad configuration, see $RUN_DIR/logs/$name.log): not restarting it"
      return 2
    fi
    [ $((SECONDS - started)) -lt 60 ] || delay=1
    say "restarting $name (exited with $status) in $delay s"
    sleep "$delay" & sleeper=$!
    wait "$sleeper" || kill "$sleeper" 2>/dev/null || true
    if [ -n "$stop" ]; then say "$name stopped"; return 0; fi
    delay=$((delay * 2 > 30 ? 30 : delay * 2))
    restarts=$((restarts + 1))
  done
}

service_pids=()  # the supervise loops of the services
nats_pid=        # the supervise loop of nats-server
cleanup() {
  trap '' INT TERM  # a second Ctrl-C must not leave the services running without NATS or this script
  trap - EXIT
  echo
  echo "stopping MiniFaaS..."
  # the services first (a stopping worker hands its tasks back through NATS), then NATS
  for pid in "${service_pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${service_pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  if [ -n "$nats_pid" ]; then kill "$nats_pid" 2>/dev/null || true; wait "$nats_pid" 2>/dev/null || true; fi
  echo "stopped."
}
trap cleanup EXIT
trap "exit 0" INT TERM  # a requested stop is a clean end

start() { # name, command...
  local name=$1; shift
  supervise "$name" "$@" &
  service_pids+=($!)
  echo "  $name (log $RUN_DIR/logs/$name.log)"
}

echo "starting MiniFaaS:"
# no monitoring port: functions run on this host, and it would list every user's buckets.
# In a session of its own: a terminal's Ctrl-C must not stop NATS before the services have handed back their tasks.
# A restarted nats-server has the same port, token and store directory: JetStream keeps its data.
supervise nats setsid nats-server -c "$RUN_DIR/nats.conf" -a 127.0.0.1 -p "$NATS_PORT" -js -sd "$RUN_DIR/nats" &
nats_pid=$!
echo "  nats (log $RUN_DIR/logs/nats.log)"
for _ in $(seq 1 100); do
  (exec 3<>"/dev/tcp/127.0.0.1/$NATS_PORT") 2>/dev/null && break
  sleep 0.1
done
METRICS_PORT=$FRONTEND_METRICS_PORT start frontend java @docker/jvm/frontend.options -jar frontend/target/frontend.jar
METRICS_PORT=$WORKER_METRICS_PORT WORKER_CONCURRENCY="${WORKER_CONCURRENCY:-3}" \
  start worker java @docker/jvm/worker.options -jar worker/target/worker.jar
METRICS_PORT=$OBSERVER_METRICS_PORT start observer java @docker/jvm/observer.options -jar observer/target/observer.jar
METRICS_PORT=$INJECTOR_METRICS_PORT start injector java @docker/jvm/injector.options -jar injector/target/injector.jar

for _ in $(seq 1 150); do
  curl -fsS "http://127.0.0.1:${FRONTEND_PORT}/healthz" >/dev/null 2>&1 && break
  for pid in "${service_pids[@]}" "$nats_pid"; do
    kill -0 "$pid" 2>/dev/null || { echo "a service could not start; see $RUN_DIR/logs/" >&2; exit 1; }
  done
  sleep 0.2
done

cat <<MSG

MiniFaaS is running at http://127.0.0.1:${FRONTEND_PORT} (no oauth2-proxy here: send the identity headers yourself)

  curl -s -X POST http://127.0.0.1:${FRONTEND_PORT}/createTask \\
       -H 'X-Forwarded-User: alice' -H 'Content-Type: application/json' \\
       -d '{"url": "https://github.com/<you>/<go-function>.git", "parameters": ["hello"]}'

  curl -s 'http://127.0.0.1:${FRONTEND_PORT}/getTaskStatus?taskId=<id>' -H 'X-Forwarded-User: alice'

A process that dies is restarted ($RUN_DIR/logs/supervisor.log). Press Ctrl-C to stop everything.
MSG
if [ "$METRICS_BASE_PORT" != 0 ]; then
  echo "Metrics and health (docs/METRICS.md): http://127.0.0.1:PORT/metrics and /healthz, PORT ="
  echo "  frontend $FRONTEND_METRICS_PORT, worker $WORKER_METRICS_PORT, observer $OBSERVER_METRICS_PORT," \
       "injector $INJECTOR_METRICS_PORT"
fi

# the supervise loops only end by themselves when a service cannot start
status=0; wait -n "${service_pids[@]}" "$nats_pid" || status=$?
echo "a service stopped for good (exited with $status); see $RUN_DIR/logs/" >&2
exit 1
