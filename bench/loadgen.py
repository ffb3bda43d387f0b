"""A small HTTP load generator, for machines without `wrk` (bench/endpoints.py prefers wrk).

    python bench/loadgen.py URL --header "Authorization: Token …" [--connections 6]
                            [--seconds 20] [--requests 20000]

Each of `--connections` threads sends GET requests one after the other on its own
keep-alive connection (reconnecting when the server closes it, as gunicorn's sync workers
do), until `--seconds` have passed or `--requests` were sent in all. Prints one JSON line:
requests, seconds, requests per second, latency percentiles (ms), non-2xx and errors.
It runs as its own process, so its CPU time is not the server's.
"""

import argparse
import http.client
import json
import statistics
import threading
import time
from urllib.parse import urlsplit


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("url")
    parser.add_argument("--header", action="append", default=[], help="'Name: value', repeatable")
    parser.add_argument("--connections", type=int, default=6)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--requests", type=int, default=20_000)
    return parser.parse_args()


def main():
    args = parse_args()
    url = urlsplit(args.url)
    path = url.path + (f"?{url.query}" if url.query else "")
    headers = dict(h.split(": ", 1) for h in args.header)
    lock = threading.Lock()
    latencies, statuses, errors = [], {}, [0]
    budget = [args.requests]
    deadline = time.monotonic() + args.seconds

    def worker():
        connection = None
        while time.monotonic() < deadline:
            with lock:
                if budget[0] <= 0:
                    return
                budget[0] -= 1
            started = time.perf_counter()
            try:
                if connection is None:
                    connection = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
                connection.request("GET", path, headers=headers)
                response = connection.getresponse()
                response.read()
                status = response.status
                if response.getheader("Connection", "").lower() == "close":
                    connection.close()
                    connection = None
            except (OSError, http.client.HTTPException):
                connection = None
                with lock:
                    errors[0] += 1
                continue
            elapsed = time.perf_counter() - started
            with lock:
                latencies.append(elapsed)
                statuses[status] = statuses.get(status, 0) + 1

    started = time.monotonic()
    threads = [threading.Thread(target=worker) for _ in range(args.connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.monotonic() - started
    latencies.sort()

    def percentile(p):
        return round(latencies[min(int(p / 100 * len(latencies)), len(latencies) - 1)] * 1000, 1) if latencies else None

    print(
        json.dumps(
            {
                "requests": len(latencies),
                "seconds": round(seconds, 2),
                "rps": round(len(latencies) / seconds, 1),
                "latency_ms": {
                    "p50": percentile(50),
                    "p90": percentile(90),
                    "p99": percentile(99),
                    "max": round(latencies[-1] * 1000, 1) if latencies else None,
                    "mean": round(statistics.fmean(latencies) * 1000, 1) if latencies else None,
                },
                "non_2xx": sum(n for status, n in statuses.items() if not 200 <= status < 300),
                "errors": errors[0],
            }
        )
    )


if __name__ == "__main__":
    main()
