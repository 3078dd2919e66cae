#!/usr/bin/env python3
"""The measuring half of scripts/bench: latency, throughput, the raw baseline, live logs and the runtimes. Prints one
JSON object."""
import http.client
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

BASE = os.environ["BENCH_BASE"]
REPO = os.environ["BENCH_REPO"]


_conns = threading.local()


def call(method, path, user, body=None):
    """One request. Reads (GET) go over a connection this thread keeps open (HTTP/1.1 keep-alive, as curl, browsers
    and the CLI do), opened again once if the server closed it; writes open a connection of their own, so that a
    request is never sent twice."""
    headers = {"X-Forwarded-User": user, "Content-Type": "application/json"}
    if method != "GET":
        req = urllib.request.Request(BASE + path, method=method, data=body, headers=headers)
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, json.loads(r.read() or b"null")
    for attempt in (1, 2):
        conn = getattr(_conns, "conn", None)
        if conn is None:
            url = urllib.parse.urlsplit(BASE)
            conn = _conns.conn = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
        try:
            conn.request("GET", path, headers=headers)
            r = conn.getresponse()
            data = r.read()
        except (http.client.HTTPException, OSError):
            conn.close()
            _conns.conn = None
            if attempt == 2:
                raise
            continue
        if r.status >= 400:
            raise urllib.error.HTTPError(BASE + path, r.status, r.reason, r.headers, None)
        return r.status, json.loads(data or b"null")


def create(user, params):
    status, body = call("POST", "/createTask", user, json.dumps({"url": REPO, "parameters": params}).encode())
    assert status == 201, (status, body)
    return body["data"]


def status_of(user, task_id):
    return call("GET", "/getTaskStatus?taskId=" + task_id, user)[1]["data"]


def wait_final(user, task_id, timeout=120, every=0.01):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        s = status_of(user, task_id)
        if s in ("FINISHED", "FINISHED_WITH_ERRORS", "UNEXPECTED_ERROR"):
            return s
        time.sleep(every)
    return "TIMEOUT"


def latency(n=11, user="bench-latency"):
    """n sequential tasks of one user; `user` differs per run, so that no run meets its bucket being swept (a user
    coming back just as the retention sweep holds their emptied bucket waits up to its 6 s)."""
    n = int(n)
    times = []
    for i in range(n):
        t0 = time.monotonic()
        tid = create(user, [str(i)])
        final = wait_final(user, tid)
        if final != "FINISHED":
            with urllib.request.urlopen(urllib.request.Request(BASE + "/getTaskResult?taskId=" + tid,
                                        headers={"X-Forwarded-User": user})) as r:
                sys.exit(f"task {tid} ended {final}; result: {r.read()[:2000]!r}")
        times.append(time.monotonic() - t0)
    return {"cold_s": times[0], "median_warm_s": statistics.median(times[1:]), "all_s": times}


def waited(n=11):
    """As a client that waits instead of polling (the CLI's `status --wait`): POST /v1/tasks, then one
    GET /v1/tasks/{id}?waitSeconds=30 until the record is final. Each task from the POST to the final answer."""
    times = []
    for i in range(n):
        t0 = time.monotonic()
        status, record = call("POST", "/v1/tasks", "bench-waited", json.dumps({"url": REPO, "parameters": [str(i)]}).encode())
        assert status == 202, (status, record)
        while record["status"] in ("PENDING", "EXECUTING"):
            record = call("GET", f"/v1/tasks/{record['id']}?waitSeconds=30", "bench-waited")[1]
        if record["status"] != "FINISHED":
            sys.exit(f"task {record['id']} ended {record['status']}: {record.get('error')}")
        times.append(time.monotonic() - t0)
    return {"median_warm_s": statistics.median(times[1:]), "all_s": times}


def throughput(n=60, users=3, prefix="bench-burst"):
    n, users = int(n), int(users)
    t0 = time.monotonic()
    ids = [(f"{prefix}-{i % users}", create(f"{prefix}-{i % users}", [str(i)])) for i in range(n)]
    results = {}
    lock = threading.Lock()

    def watch(chunk):
        for user, tid in chunk:
            s = wait_final(user, tid, timeout=300, every=0.05)
            with lock:
                results[tid] = s

    threads = [threading.Thread(target=watch, args=(ids[k::6],)) for k in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.monotonic() - t0
    wrong = sum(1 for s in results.values() if s != "FINISHED")
    return {"tasks": n, "users": users, "all_finished_s": elapsed, "lost": n - len(results), "wrong_status": wrong}


def log_latency(ticks=20):
    """A function prints "tick <unix ns>" every 100 ms; the SSE client notes when each line arrives (same clock)."""
    repo = os.environ["BENCH_TICKER_REPO"]
    req = urllib.request.Request(BASE + "/v1/tasks", method="POST",
                                 data=json.dumps({"url": repo, "parameters": [str(ticks)]}).encode(),
                                 headers={"X-Forwarded-User": "bench-logs", "Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as r:
        tid = json.loads(r.read())["id"]
    delays = []
    stream = urllib.request.Request(BASE + f"/v1/tasks/{tid}/logs", headers={"X-Forwarded-User": "bench-logs"})
    with urllib.request.urlopen(stream, timeout=120) as r:
        event = None
        for raw in r:
            line = raw.decode().rstrip("\n")
            if line.startswith("event:"):
                event = line[6:].strip()
            elif line.startswith("data:") and event == "stdout":
                for part in line[5:].strip().split():
                    if part.isdigit():
                        delays.append((time.time_ns() - int(part)) / 1e6)
            elif line == "" and event == "end":
                break
    if not delays:
        sys.exit(f"no tick reached the log stream of task {tid}")
    delays.sort()
    return {"lines": len(delays), "median_ms": statistics.median(delays),
            "p95_ms": delays[int(len(delays) * 0.95) - 1], "max_ms": delays[-1]}


def v1_run(user, url, params, timeout=300, every=0.01):
    """One task through /v1/tasks, its record polled every 10 ms (as latency does) until final: (seconds, record)."""
    t0 = time.monotonic()
    status, record = call("POST", "/v1/tasks", user, json.dumps({"url": url, "parameters": params}).encode())
    assert status == 202, (status, record)
    deadline = t0 + timeout
    while time.monotonic() < deadline:
        record = call("GET", "/v1/tasks/" + record["id"], user)[1]
        if record["status"] not in ("PENDING", "EXECUTING"):
            break
        time.sleep(every)
    return time.monotonic() - t0, record


def runtimes(warm=10):
    """Per runtime (BENCH_RUNTIMES: a JSON list of [name, repository URL, expected runtime]): the first task of a
    repository the worker has never seen (clone + build or install), then the median of `warm` more tasks of it (a
    known commit: no clone, the cached build). A runtime whose first task fails is reported with its error."""
    out = {}
    for name, url, expected in json.loads(os.environ["BENCH_RUNTIMES"]):
        user = "bench-runtime-" + name
        first_s, first = v1_run(user, url, ["first"])
        entry = {"runtime": first.get("runtime"), "toolchain": first.get("toolchain"), "first_s": first_s,
                 "first": {k: first.get(k) for k in ("cloneMs", "buildMs", "runMs", "binaryCached", "cloneSkipped")}}
        if first["status"] != "FINISHED" or first.get("runtime") != expected:
            entry["error"] = f"{first['status']} as {first.get('runtime')}: {first.get('error')}"
            out[name] = entry
            continue
        times, runs, skipped, failed = [], [], 0, 0
        for i in range(warm):
            s, record = v1_run(user, url, [str(i)])
            times.append(s)
            failed += record["status"] != "FINISHED"
            skipped += bool(record.get("cloneSkipped"))
            if record.get("runMs") is not None:
                runs.append(record["runMs"])
        entry.update({"warm_median_s": statistics.median(times), "warm_n": warm, "warm_failed": failed,
                      "warm_without_clone": skipped, "warm_run_ms_mean": statistics.mean(runs) if runs else None,
                      "warm_all_s": times})
        out[name] = entry
    return out


def baseline(n=5):
    times = []
    for _ in range(n):
        with tempfile.TemporaryDirectory() as d:
            t0 = time.monotonic()
            subprocess.run(["git", "clone", "-q", "--depth", "1", REPO, d + "/fn"], check=True)
            subprocess.run(["go", "run", "main.go", "x"], cwd=d + "/fn", check=True, capture_output=True)
            times.append(time.monotonic() - t0)
    return {"median_s": statistics.median(times), "all_s": times}


if __name__ == "__main__":
    what, args = sys.argv[1], sys.argv[2:]
    print(json.dumps({"latency": latency, "throughput": throughput, "baseline": baseline,
                      "loglatency": log_latency, "waited": waited, "runtimes": runtimes}[what](*args)))
