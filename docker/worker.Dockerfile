# MiniFaaS worker: clones, builds and runs Go functions. Build context: the repository root, after `make build`.
#
# The worker runs as root in its container, with no added capability, only to switch accounts: every step that
# touches user code (`git clone`, `go mod download`, `go build`, the function) runs as an unprivileged account
# (setpriv: `minifaas-build`, uid 1002, BUILD_AS_USER, for clones, downloads and builds — the image has no
# slirp4netns for the functions' egress network, so clones are not run as `client`; `client`, uid 1001,
# RUN_AS_USER, for the function) inside a bubblewrap sandbox of its own (SANDBOX=bwrap, the default): new user,
# PID, mount, IPC, UTS, network and cgroup namespaces, the system read-only, a private size-capped /tmp,
# loopback-only network (clones and module downloads alone share the container's). bwrap is not setuid here:
# it uses unprivileged user namespaces, which Docker's default seccomp profile forbids, so the container must run
# with docker/seccomp-worker.json (compose and the observer's scaler pass it; docs/CONTAINERS.md, "The worker's
# sandbox"). Limits: cgroups are read-only
# in a container, so the worker falls back to rlimits per task (prlimit: RLIMIT_DATA, RLIMIT_NPROC,
# RLIMIT_FSIZE) inside the container's own mem_limit/pids_limit. The worker's network (`work`) does not reach
# the frontend, and functions never see the Docker socket.
FROM debian:trixie-slim

# The same first layer in all four images (shared by the build cache): a headless JRE and the service user.
# (-slim drops /usr/share/man, where the JRE's postinst links its man page: recreate the folder.)
RUN mkdir -p /usr/share/man/man1 \
 && apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends openjdk-21-jre-headless \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --user-group --no-create-home --shell /usr/sbin/nologin minifaas

# bubblewrap is the sandbox (0.12 in trixie, not setuid); git clones repositories inside it; util-linux has setpriv (account switch) and prlimit
# (per-task rlimits); go builds the functions (cgo off: CGO_ENABLED=0, no C compiler in the image); tini is
# PID 1 and reaps what a killed sandbox leaves behind (java is no init).
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      bubblewrap git golang-go util-linux ca-certificates tini \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --uid 1001 --user-group --no-create-home --shell /usr/sbin/nologin client \
 && useradd --uid 1002 --user-group --no-create-home --shell /usr/sbin/nologin minifaas-build

ENV WORKER_WORK_DIR=/tmp/minifaas-worker
# Warm the shared Go build cache, so that a new worker container (the observer starts some) is ready in seconds:
# at start the worker builds its bundled program (worker/src/main/resources/warmup/main.go: the standard packages
# small functions use) in a sandbox and keeps what that adds to the cache, ~45 s on 2 cores when the cache is cold.
# Built here with the same file and the same settings (CGO_ENABLED=0, GOTOOLCHAIN=local), the start finds it all
# cached. The worker keeps its caches in $WORKER_WORK_DIR/cache (WORKER_CACHE_DIR; 0711): go-build, the shared
# build cache, belongs to the worker (root) and is read-only to everyone else (each build gets a layer of hard
# links over it); gomod, the module cache, belongs to the build account minifaas-build (uid 1002, 0700).
COPY worker/src/main/resources/warmup/main.go /tmp/warmup/main.go
RUN mkdir -p "$WORKER_WORK_DIR/cache/go-build" "$WORKER_WORK_DIR/cache/gomod" \
 && printf 'module minifaas.local/warmup\n\ngo 1.19\n' >/tmp/warmup/go.mod \
 && cd /tmp/warmup \
 && env -i PATH=/usr/bin:/bin HOME=/tmp/warmup GOCACHE="$WORKER_WORK_DIR/cache/go-build" \
      GOMODCACHE="$WORKER_WORK_DIR/cache/gomod" GOPATH=/tmp/warmup/gopath GOENV=off GOTOOLCHAIN=local \
      GOTELEMETRY=off GOPROXY=off CGO_ENABLED=0 go build -o /dev/null main.go \
 && cd / && rm -rf /tmp/warmup \
 && chmod -R u=rwX,go=rX "$WORKER_WORK_DIR/cache/go-build" \
 && chown minifaas-build:minifaas-build "$WORKER_WORK_DIR/cache/gomod" \
 && chmod 700 "$WORKER_WORK_DIR/cache/gomod" \
 && chmod 711 "$WORKER_WORK_DIR" "$WORKER_WORK_DIR/cache"

COPY worker/target/worker.jar /opt/minifaas/worker.jar
# the JVM settings make run and scripts/bench use too
COPY docker/jvm/worker.options /opt/minifaas/jvm.options

# The JVM's heap is a tenth of the container's memory limit (docker-compose.yml: WORKER_MEM_LIMIT, 3g: ~300 MB):
# the rest is for the builds and functions the worker runs, which share that limit.
ENTRYPOINT ["/usr/bin/tini", "--", "java", "@/opt/minifaas/jvm.options", "-jar", "/opt/minifaas/worker.jar"]
