# A Git server for the container smoke test: the Go function in function/ committed to /srv/git/hello.git,
# served over smart HTTP (git http-backend behind scripts/git-http-server.py) on port 8000. Context: the repo root.
FROM debian:trixie-slim

RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends git python3 \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --user-group --no-create-home --shell /usr/sbin/nologin git

COPY scripts/git-http-server.py /usr/local/bin/git-http
COPY docker/ci/function/ /tmp/function/
RUN cd /tmp/function \
 && git init -q -b main \
 && git add . \
 && git -c user.name=minifaas-ci -c user.email=ci@localhost commit -q -m "smoke test function" \
 && mkdir -p /srv/git \
 && git clone -q --bare /tmp/function /srv/git/hello.git \
 && chown -R git:git /srv/git \
 && rm -rf /tmp/function

USER git
ENV GIT_PROJECT_ROOT=/srv/git PORT=8000 HOST=0.0.0.0
EXPOSE 8000
HEALTHCHECK --interval=3s --timeout=3s --retries=20 \
  CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/8000 && printf 'GET /hello.git/info/refs?service=git-upload-pack HTTP/1.0\\r\\n\\r\\n' >&3 && head -n 1 <&3 | grep -q ' 200 '"]
ENTRYPOINT ["python3", "/usr/local/bin/git-http"]
