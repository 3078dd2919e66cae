# A Git server for the container smoke test: each function in docker/ci/functions/NAME/ committed to its own bare
# repository /srv/git/NAME.git (Go: hello, memory, network, tmp; python: main.py; node: package.json + handler.js),
# served over smart HTTP (git http-backend behind scripts/git-http-server.py) on port 8000:
# http://gitserver:8000/NAME.git. Context: the repo root.
FROM debian:trixie-slim

RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends git python3 \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --user-group --no-create-home --shell /usr/sbin/nologin git

COPY scripts/git-http-server.py /usr/local/bin/git-http
COPY docker/ci/functions/ /tmp/functions/
RUN mkdir -p /srv/git \
 && for dir in /tmp/functions/*/; do \
      name=$(basename "$dir") \
      && git -C "$dir" init -q -b main \
      && git -C "$dir" add . \
      && git -C "$dir" -c user.name=minifaas-ci -c user.email=ci@localhost commit -q -m "smoke test function $name" \
      && git clone -q --bare "$dir" "/srv/git/$name.git" || exit 1; \
    done \
 && chown -R git:git /srv/git \
 && rm -rf /tmp/functions

USER git
ENV GIT_PROJECT_ROOT=/srv/git PORT=8000 HOST=0.0.0.0
EXPOSE 8000
HEALTHCHECK --interval=3s --timeout=3s --retries=20 \
  CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/8000 && printf 'GET /hello.git/info/refs?service=git-upload-pack HTTP/1.0\\r\\n\\r\\n' >&3 && head -n 1 <&3 | grep -q ' 200 '"]
ENTRYPOINT ["python3", "/usr/local/bin/git-http"]
