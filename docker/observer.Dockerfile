# MiniFaaS observer: watches the queue and, with SCALER=docker, starts and stops worker containers.
# Build context: the repository root, after `make build`.
#
# It runs as the unprivileged user `minifaas`. With SCALER=docker, docker-compose.yml mounts the Docker socket
# and adds the socket's group (DOCKER_GID) to the container, so no root is needed inside it. Access to that
# socket is root on the host all the same: it is mounted into this container only, never into a worker.
FROM debian:trixie-slim

# The same first layer in all four images (shared by the build cache): a headless JRE and the service user.
# (-slim drops /usr/share/man, where the JRE's postinst links its man page: recreate the folder.)
RUN mkdir -p /usr/share/man/man1 \
 && apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends openjdk-21-jre-headless \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --user-group --no-create-home --shell /usr/sbin/nologin minifaas

COPY observer/target/observer.jar /opt/minifaas/observer.jar
# the JVM settings make run and scripts/bench use too
COPY docker/jvm/observer.options /opt/minifaas/jvm.options
# The seccomp profile the worker containers need (docs/CONTAINERS.md): the Docker scaler gives it to the workers
# it starts (SCALER_WORKER_SECCOMP), so that they run like the compose file's replicas.
COPY docker/seccomp-worker.json /etc/minifaas/seccomp-worker.json

USER minifaas
ENTRYPOINT ["java", "@/opt/minifaas/jvm.options", "-jar", "/opt/minifaas/observer.jar"]
