"""Bounded load on the app, from a process of its own (tests/faults).

    python tests/faults/load.py BASE_URL USERNAME PASSWORD OUT_FILE [--threads 2] [--pause 0.02]

Gets an API token with `POST /api/v1/auth/token/`, then each thread loops: list clients
twice, record a home visit once (a unique `plan` marks each attempt). Every request is one
JSON line in OUT_FILE: start and end (epoch seconds), method, status (0 for a connection
that broke), Retry-After, and for a visit its marker and the id a 201 gave. SIGTERM stops it.
"""

import argparse
import json
import signal
import threading
import time
import urllib.error
import urllib.request
import uuid
from datetime import UTC, datetime, timedelta

TIMEOUT = 40  # above gunicorn's 30 s: a request never ends on our side first


def request(base, method, path, token=None, body=None):
    headers = {"Accept": "application/json"}
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    if token:
        headers["Authorization"] = f"Token {token}"
    req = urllib.request.Request(base + path, data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(req, timeout=TIMEOUT) as response:
            return response.status, response.headers, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        payload = error.read()
        try:
            payload = json.loads(payload)
        except ValueError:
            payload = None
        return error.code, error.headers, payload
    except (OSError, urllib.error.URLError) as error:
        return 0, {}, {"error": type(error).__name__}


def get_token(base, username, password):
    deadline = time.monotonic() + 30
    while True:
        credentials = {"username": username, "password": password}
        status, _, body = request(base, "POST", "/api/v1/auth/token/", body=credentials)
        if status == 200:
            return body["token"]
        if time.monotonic() > deadline:
            raise SystemExit(f"no token: HTTP {status} {body}")
        time.sleep(0.5)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("base")
    parser.add_argument("username")
    parser.add_argument("password")
    parser.add_argument("out")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--pause", type=float, default=0.02)
    args = parser.parse_args()

    token = get_token(args.base, args.username, args.password)
    status, _, body = request(args.base, "GET", "/api/v1/clients/?page_size=50", token)
    assert status == 200, (status, body)
    client_ids = [row["id"] for row in body["results"]]
    assert client_ids, "the user has no clients to visit"

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    lock = threading.Lock()
    out = open(args.out, "a", buffering=1)  # noqa: SIM115 — one line per request, flushed

    def record(**entry):
        with lock:
            out.write(json.dumps(entry) + "\n")

    def loop(number):
        i = 0
        while not stop.is_set():
            i += 1
            started = time.time()
            if i % 3:
                status, headers, body = request(args.base, "GET", "/api/v1/clients/?page_size=20", token)
                record(
                    start=started, end=time.time(), method="GET", status=status, retry_after=headers.get("Retry-After")
                )
            else:
                marker = f"faults-{uuid.uuid4()}"
                visit = {
                    "client": client_ids[(i + number) % len(client_ids)],
                    "visited_at": (datetime.now(UTC) - timedelta(hours=1)).isoformat(),
                    "kind": "home_visit",
                    "plan": marker,
                }
                status, headers, body = request(args.base, "POST", "/api/v1/visits/", token, visit)
                record(
                    start=started,
                    end=time.time(),
                    method="POST",
                    status=status,
                    retry_after=headers.get("Retry-After"),
                    marker=marker,
                    id=body.get("id") if status == 201 else None,
                    detail=None if status in (201, 503) else body,
                )
            time.sleep(args.pause)

    threads = [threading.Thread(target=loop, args=(n,)) for n in range(args.threads)]
    for thread in threads:
        thread.start()
    print("load running", flush=True)
    for thread in threads:
        thread.join()
    out.close()


if __name__ == "__main__":
    main()
