"""The client list under concurrent load: gunicorn on loopback, loaded from a second
process (wrk, or bench/loadgen.py where wrk is missing), bounded in time and in count.
gunicorn is always stopped at the end, whatever happens."""

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

from django.db import connection

BENCH = Path(__file__).resolve().parent

WRK_SCRIPT = """
wrk.headers["Authorization"] = "Token %(token)s"
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) count = 0; non2xx = 0 end
function response(status, headers, body)
  count = count + 1
  if status < 200 or status > 299 then non2xx = non2xx + 1 end
  if count >= %(per_thread)d then wrk.thread:stop() end
end
function done(summary, latency, requests)
  local n = 0
  for _, t in ipairs(threads) do n = n + t:get("non2xx") end
  io.write(string.format("bench-non-2xx: %%d\\n", n))
end
"""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_ready(url, token, deadline, *, warm=4):
    """Until the server answers 200; then `warm` more requests, so that every worker has
    its connection and caches before the measurement."""
    request = urllib.request.Request(url, headers={"Authorization": f"Token {token}"})
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(request, timeout=5) as response:
                if response.status == 200:
                    break
        except (urllib.error.URLError, OSError):
            time.sleep(0.3)
    else:
        raise RuntimeError(f"gunicorn did not answer 200 on {url}")
    for _ in range(warm):
        with urllib.request.urlopen(request, timeout=30) as response:
            response.read()


def with_wrk(url, token, args):
    threads = min(2, args.load_connections)
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(WRK_SCRIPT % {"token": token, "per_thread": max(args.load_requests // threads, 1)})
    try:
        command = ["wrk", "-t", str(threads), "-c", str(args.load_connections), "-d", f"{args.load_seconds:g}s",
                   "--timeout", "30s", "--latency", "-s", script.name, url]  # fmt: skip
        output = subprocess.run(command, capture_output=True, text=True, timeout=args.load_seconds + 60).stdout
    finally:
        os.unlink(script.name)

    def find(pattern, cast=float):
        match = re.search(pattern, output)
        return cast(match[1]) if match else None

    def latency(percent):
        match = re.search(rf"^\s+{percent}%\s+([\d.]+)(us|ms|s)\s*$", output, re.M)
        if not match:
            return None
        return float(match[1]) * {"us": 0.001, "ms": 1, "s": 1000}[match[2]]

    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    return {
        "tool": "wrk",
        "requests": find(r"(\d+) requests in", int),
        "seconds": find(r"requests in ([\d.]+)s"),
        "rps": find(r"Requests/sec:\s+([\d.]+)"),
        "latency_ms": {"p50": latency(50), "p90": latency(90), "p99": latency(99)},
        "non_2xx": find(r"bench-non-2xx: (\d+)", int),
        "errors": sum(map(int, errors.groups())) if errors else 0,
        "raw": output,
    }


def with_loadgen(url, token, args):
    command = [sys.executable, str(BENCH / "loadgen.py"), url, "--header", f"Authorization: Token {token}",
               "--connections", str(args.load_connections), "--seconds", str(args.load_seconds),
               "--requests", str(args.load_requests)]  # fmt: skip
    output = subprocess.run(command, capture_output=True, text=True, timeout=args.load_seconds + 60).stdout
    return {"tool": "bench/loadgen.py", **json.loads(output.strip().splitlines()[-1])}


def run_load(personas, args, environ):
    """gunicorn on loopback with `environ` (production settings), loaded from a second
    process, as each of `args.load_roles`; always stopped."""
    port = free_port()
    env = {**os.environ, **environ}
    log = tempfile.NamedTemporaryFile("w+", suffix=".log", prefix="bench-gunicorn-", delete=False)
    command = [sys.executable, "-m", "gunicorn", "basodara.wsgi", "-w", str(args.workers), "-b", f"127.0.0.1:{port}",
               "--timeout", "60"]  # fmt: skip
    # Our own connections stay idle meanwhile; the server's workers open their own.
    connection.close()
    server = subprocess.Popen(command, cwd=BENCH.parent, env=env, stdout=log, stderr=log, start_new_session=True)
    results = []
    try:
        tool = with_wrk if shutil.which("wrk") else with_loadgen
        for role in [r.strip() for r in args.load_roles.split(",") if r.strip()]:
            persona = personas[role]
            url = f"http://127.0.0.1:{port}/api/v1/clients/?page_size=50"
            wait_ready(url, persona.token, time.monotonic() + 60, warm=2 * args.workers)
            result = tool(url, persona.token, args)
            results.append((role, result))
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.seek(0)
        server_log = log.read()
        log.close()
        os.unlink(log.name)
    print(
        f"\nconcurrent load: GET /api/v1/clients/?page_size=50, gunicorn {args.workers} sync workers on 127.0.0.1, "
        f"{args.load_connections} connections from a second process, at most {args.load_seconds:g} s and "
        f"{args.load_requests} requests per role"
    )
    header = f"{'as':14} {'tool':17} {'requests':>8} {'seconds':>7} {'req/s':>7} {'p50 ms':>7} {'p90 ms':>7} " \
             f"{'p99 ms':>7} {'non-2xx':>7} {'errors':>6}"  # fmt: skip
    print(header + "\n" + "-" * len(header))
    for role, r in results:
        lat = r["latency_ms"]
        print(
            f"{role:14} {r['tool']:17} {r['requests']:>8} {r['seconds']:>7} {r['rps']:>7} {lat['p50']:>7} "
            f"{lat['p90']:>7} {lat['p99']:>7} {r['non_2xx']:>7} {r['errors']:>6}"
        )
    if any(r["requests"] >= args.load_requests for _, r in results):
        print("(stopped by the request cap: wrk still counts the full duration, so that req/s is understated)")
    if any(r["non_2xx"] or r["errors"] for _, r in results):
        print("gunicorn's log (tail):\n" + "\n".join(server_log.splitlines()[-20:]))
    return results
