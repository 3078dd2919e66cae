#!/usr/bin/env python3
"""Serves the Git repositories under a directory over smart HTTP: a small CGI bridge to `git http-backend`,
the program Git hosting servers run. For trying MiniFaaS without a Git host, for scripts/bench, and for the
container smoke test's Git server.

    scripts/git-http-server.py [DIR] [PORT] [--host HOST]

DIR defaults to $GIT_PROJECT_ROOT (else .), PORT to $PORT (else 8900), HOST to $HOST (else 127.0.0.1: loopback
only). A repository DIR/hello is then cloneable as http://HOST:PORT/hello."""
import os
import signal
import subprocess
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit


class GitHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"  # one request per connection; the body length is always known
    root = "."

    def do_GET(self):
        self.handle_cgi()

    def do_POST(self):
        self.handle_cgi()

    def read_body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            parts = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    return b"".join(parts)
                parts.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def handle_cgi(self):
        url = urlsplit(self.path)
        body = self.read_body()
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "GIT_PROJECT_ROOT": self.root,
            "GIT_HTTP_EXPORT_ALL": "1",
            "GATEWAY_INTERFACE": "CGI/1.1",
            "SERVER_PROTOCOL": "HTTP/1.0",
            "REQUEST_METHOD": self.command,
            "PATH_INFO": url.path,
            "QUERY_STRING": url.query,
            "CONTENT_TYPE": self.headers.get("Content-Type", ""),
            "CONTENT_LENGTH": str(len(body)),
            "REMOTE_ADDR": self.client_address[0],
        }
        for name, value in self.headers.items():  # Git-Protocol (v2), Content-Encoding (gzip), ...
            key = "HTTP_" + name.upper().replace("-", "_")
            if key not in ("HTTP_CONTENT_TYPE", "HTTP_CONTENT_LENGTH", "HTTP_TRANSFER_ENCODING"):
                env[key] = value
        try:
            done = subprocess.run(["git", "http-backend"], input=body, env=env, capture_output=True, timeout=60)
        except subprocess.TimeoutExpired:
            self.send_error(504, "git http-backend timed out")
            return
        out = done.stdout
        sep = out.find(b"\r\n\r\n")
        head, payload = (out[:sep], out[sep + 4:]) if sep >= 0 else out.partition(b"\n\n")[::2]
        status, headers = 200, []
        for line in head.decode("latin-1").splitlines():
            name, _, value = line.partition(":")
            if name.lower() == "status":
                status = int(value.strip().split()[0])
            elif name:
                headers.append((name, value.strip()))
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)
        if done.returncode != 0 and done.stderr:
            sys.stderr.write(done.stderr.decode(errors="replace"))

    def log_message(self, fmt, *args):
        if os.environ.get("GIT_HTTP_VERBOSE"):
            sys.stderr.write("git-http: %s %s\n" % (self.address_string(), fmt % args))


if __name__ == "__main__":
    args = sys.argv[1:]
    host = os.environ.get("HOST", "127.0.0.1")
    if "--host" in args:
        i = args.index("--host")
        host = args[i + 1]
        del args[i:i + 2]
    GitHandler.root = os.path.abspath(args[0] if args else os.environ.get("GIT_PROJECT_ROOT", "."))
    port = int(args[1] if len(args) > 1 else os.environ.get("PORT", "8900"))
    # as PID 1 of a container, SIGTERM would be ignored without a handler: stop at once instead
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    server = ThreadingHTTPServer((host, port), GitHandler)
    print(f"serving git repositories of {GitHandler.root} at http://{host}:{server.server_address[1]}/", flush=True)
    server.serve_forever()
