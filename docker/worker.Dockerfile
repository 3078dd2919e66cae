# MiniFaaS worker: clones, builds and runs Go, Python and Node.js functions. Build context: the repository root,
# after `make build`.
#
# The worker runs as root in its container, with no added capability, only to switch accounts: every step that
# touches user code (`git clone`, `go mod download`, `go build`, `npm ci`, the function) runs as an unprivileged
# account (setpriv: `minifaas-build`, uid 1002, BUILD_AS_USER, for clones, downloads and builds — the image has no
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

# bubblewrap is the sandbox (0.12 in trixie, not setuid); git clones repositories inside it; util-linux has setpriv
# (account switch) and prlimit (per-task rlimits); tini is PID 1 and reaps what a killed sandbox leaves behind (java
# is no init). The runtimes: two Go toolchains, /usr/lib/go-1.24 (trixie's golang-go) and /usr/lib/go-1.23, which
# the worker finds by themselves (GO_TOOLCHAINS unset) and picks from per repository by its go.mod (cgo off:
# CGO_ENABLED=0, no C compiler in the image); python3 (/usr/bin/python3) and python3-pip (`python3 -m pip install
# --target` for a requirements.txt); nodejs and npm (`npm ci` for a package.json's dependencies).
# Go 1.23 comes from bookworm-backports, the only suite that has it (trixie has 1.24 alone): Go is statically
# linked, so Debian 12's build runs here. The suite (trixie's mirror and key) is pinned so that nothing but
# golang-1.23-go and its sources package can ever come from it. Each runtime says its version, or the build stops.
RUN sed -e '/^$/,$d' -e 's/^Suites:.*/Suites: bookworm-backports/' -e 's/^Components:.*/Components: main/' \
      /etc/apt/sources.list.d/debian.sources >/etc/apt/sources.list.d/bookworm-backports.sources \
 && printf '%s\n' 'Package: golang-1.23-go golang-1.23-src' 'Pin: release n=bookworm-backports' 'Pin-Priority: 500' '' \
      'Package: *' 'Pin: release n=bookworm-backports' 'Pin-Priority: -1' >/etc/apt/preferences.d/bookworm-backports \
 && apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      bubblewrap git golang-go golang-1.23-go python3 python3-pip nodejs npm util-linux ca-certificates tini \
 && rm -rf /var/lib/apt/lists/* \
 && for go in /usr/lib/go-*/bin/go; do "$go" version || exit 1; done \
 && python3 --version && python3 -m pip --version && node --version && npm --version \
 && useradd --uid 1001 --user-group --no-create-home --shell /usr/sbin/nologin client \
 && useradd --uid 1002 --user-group --no-create-home --shell /usr/sbin/nologin minifaas-build

ENV WORKER_WORK_DIR=/tmp/minifaas-worker
# Warm the shared Go build cache, so that a new worker container (the observer starts some) is ready in seconds:
# at start the worker builds its bundled program (worker/src/main/resources/warmup/main.go: the standard packages
# small functions use) in a sandbox and keeps what that adds to the cache, ~45 s on 2 cores when the cache is cold.
# Built here with the same file and the same settings (CGO_ENABLED=0, GOTOOLCHAIN=local) by every toolchain the
# image has (each fills the one cache with entries of its own), the start finds it all cached, whichever toolchain
# a repository picks. The worker keeps its caches in $WORKER_WORK_DIR/cache (WORKER_CACHE_DIR; 0711): go-build,
# the shared build cache, belongs to the worker (root) and is read-only to everyone else (each build gets a layer
# of hard links over it); gomod, the module cache, belongs to the build account minifaas-build (uid 1002, 0700).
COPY worker/src/main/resources/warmup/main.go /tmp/warmup/main.go
RUN mkdir -p "$WORKER_WORK_DIR/cache/go-build" "$WORKER_WORK_DIR/cache/gomod" \
 && printf 'module minifaas.local/warmup\n\ngo 1.19\n' >/tmp/warmup/go.mod \
 && cd /tmp/warmup \
 && for go in /usr/lib/go-*/bin/go; do \
      env -i PATH=/usr/bin:/bin HOME=/tmp/warmup GOCACHE="$WORKER_WORK_DIR/cache/go-build" \
        GOMODCACHE="$WORKER_WORK_DIR/cache/gomod" GOPATH=/tmp/warmup/gopath GOENV=off GOTOOLCHAIN=local \
        GOTELEMETRY=off GOPROXY=off CGO_ENABLED=0 "$go" build -o /dev/null main.go || exit 1; \
    done \
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
