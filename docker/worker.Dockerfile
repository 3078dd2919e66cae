# MiniFaaS worker: clones, builds and runs Go functions. Build context: the repository root, after `make build`.
#
# The worker itself runs as root because it switches to the unprivileged user `client` (uid 1001, RUN_AS_USER)
# with setsid + setpriv for every step that runs user code (go build, the function). Functions never see the
# Docker socket, and the worker's network (docker-compose.yml: `work`) does not reach the frontend.
FROM debian:trixie-slim

# The same first layer in all four images (shared by the build cache): a headless JRE and the service user.
# (-slim drops /usr/share/man, where the JRE's postinst links its man page: recreate the folder.)
RUN mkdir -p /usr/share/man/man1 \
 && apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends openjdk-21-jre-headless \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --user-group --no-create-home --shell /usr/sbin/nologin minifaas

# go builds the functions (no C compiler: cgo is off, as go does by itself when gcc is missing);
# util-linux has setsid and setpriv; tini reaps what a killed function leaves behind (java is no init).
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      golang-go util-linux ca-certificates tini \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --uid 1001 --user-group --no-create-home --shell /usr/sbin/nologin client \
 && useradd --uid 1002 --user-group --no-create-home --shell /usr/sbin/nologin minifaas-build

ENV WORKER_WORK_DIR=/tmp/minifaas-worker
# Warm the Go build cache of the build account (WORKER_WORK_DIR/cache-1002/gocache: BUILD_AS_USER owns it,
# functions cannot read or write it) with the packages a small function uses: a new worker container (the
# observer starts some) then builds a first function in ~0.2 s instead of ~5 s spent compiling the standard
# library (measured on 2 cores).
COPY docker/worker-warmup.go /tmp/warmup/main.go
RUN mkdir -p "$WORKER_WORK_DIR/cache-1002" \
 && cd /tmp/warmup \
 && GOCACHE="$WORKER_WORK_DIR/cache-1002/gocache" GOTOOLCHAIN=local GOTELEMETRY=off CGO_ENABLED=0 \
      go build -o /dev/null main.go \
 && chown -R minifaas-build:minifaas-build "$WORKER_WORK_DIR/cache-1002" \
 && chmod 700 "$WORKER_WORK_DIR/cache-1002" \
 && rm -rf /tmp/warmup /root/.cache /root/.config

COPY worker/target/worker.jar /opt/minifaas/worker.jar

ENTRYPOINT ["/usr/bin/tini", "--", "java", "-XX:MaxRAMPercentage=50", "-XX:+ExitOnOutOfMemoryError", "-jar", "/opt/minifaas/worker.jar"]
