# NATS with JetStream from Debian's nats-server package: a stand-in for nats:2.10-alpine on machines that reach
# no container registry (CI). Built by scripts/debian-base-image.sh --nats; context: docker/.
# Same entrypoint contract as the official image, so compose's `command: -js -sd /data -m 8222` works for both.
FROM debian:trixie-slim

RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends nats-server \
 && rm -rf /var/lib/apt/lists/* \
 && (id nats >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin nats) \
 && mkdir -p /data && chown nats: /data

USER nats
VOLUME /data
EXPOSE 4222 8222
# the image has no curl or wget: bash's /dev/tcp asks the monitoring port
HEALTHCHECK --interval=5s --timeout=3s --start-period=5s --retries=10 \
  CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/8222 && printf 'GET /healthz HTTP/1.0\\r\\n\\r\\n' >&3 && grep -q '\"ok\"' <&3"]
ENTRYPOINT ["nats-server"]
CMD ["-js", "-sd", "/data", "-m", "8222"]
