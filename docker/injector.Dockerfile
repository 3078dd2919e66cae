# MiniFaaS injector. Build context: the repository root, after `make build`.
FROM debian:trixie-slim

# The same first layer in all four images (shared by the build cache): a headless JRE and the service user.
# (-slim drops /usr/share/man, where the JRE's postinst links its man page: recreate the folder.)
RUN mkdir -p /usr/share/man/man1 \
 && apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends openjdk-21-jre-headless \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --user-group --no-create-home --shell /usr/sbin/nologin minifaas

COPY injector/target/injector.jar /opt/minifaas/injector.jar
# the JVM settings make run and scripts/bench use too
COPY docker/jvm/injector.options /opt/minifaas/jvm.options

USER minifaas
ENTRYPOINT ["java", "@/opt/minifaas/jvm.options", "-jar", "/opt/minifaas/injector.jar"]
