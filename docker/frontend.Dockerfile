# MiniFaaS frontend: the task API, reached only through oauth2-proxy (docker-compose.yml).
# Build context: the repository root, after `make build` (copies the fat jar Maven made).
FROM debian:trixie-slim

# The same first layer in all four images (shared by the build cache): a headless JRE and the service user.
# (-slim drops /usr/share/man, where the JRE's postinst links its man page: recreate the folder.)
RUN mkdir -p /usr/share/man/man1 \
 && apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends openjdk-21-jre-headless \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --user-group --no-create-home --shell /usr/sbin/nologin minifaas

COPY frontend/target/frontend.jar /opt/minifaas/frontend.jar
# the JVM settings make run and scripts/bench use too
COPY docker/jvm/frontend.options /opt/minifaas/jvm.options

USER minifaas
ENV FRONTEND_PORT=8080
EXPOSE 8080
# No curl in the image: bash's /dev/tcp asks /healthz and checks for a 200 status line.
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/${FRONTEND_PORT:-8080} && printf 'GET /healthz HTTP/1.0\\r\\nHost: localhost\\r\\n\\r\\n' >&3 && head -n 1 <&3 | grep -q ' 200 '"]
ENTRYPOINT ["java", "@/opt/minifaas/jvm.options", "-jar", "/opt/minifaas/frontend.jar"]
