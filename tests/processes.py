"""Real processes for tests: a Redis of the test's own, an HTTP SMS gateway on loopback,
Celery workers started with `celery -A basodara worker`, and the helpers to wait for them.

Used by tests/integration (the outbox, /health/, imports) and tests/faults.
"""

import http.server
import json
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import quote, urlencode

BASE_DIR = Path(__file__).resolve().parents[1]
DEADLINE_SECONDS = 30
# Below HttpGateway's 10 s timeout: a held request must end with the worker's death, not a timeout.
HOLD_SECONDS = 8


def wait_for(predicate, what, *, timeout=DEADLINE_SECONDS, interval=0.1):
    """Poll `predicate` until it returns something truthy; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stop_process(process):
    if process is not None and process.poll() is None:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


class RedisServer:
    """A redis-server of the test's own, so the machine's shared Redis is never stopped."""

    def __init__(self, log_path, port=None, extra_args=()):
        self.port = port or free_port()
        self.log_path = log_path
        self.extra_args = list(extra_args)
        self.process = None

    @property
    def url(self):
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self):
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                # No persistence: a restart starts empty, as a crashed Redis without AOF does.
                ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1"]
                + ["--save", "", "--appendonly", "no", "--daemonize", "no"]
                + self.extra_args,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        wait_for(self._answers_ping, f"redis-server on port {self.port}", timeout=10)

    def _answers_ping(self):
        if self.process.poll() is not None:
            raise AssertionError(f"redis-server exited with {self.process.returncode}; see its log below")
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as s:
                s.sendall(b"PING\r\n")
                return s.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self):
        stop_process(self.process)


class SmsGateway:
    """A real HTTP SMS gateway on loopback that records each request's Idempotency-Key and
    body, answers 200, and can hold the first request so a test kills the sender meanwhile.
    Like a real idempotent gateway, it delivers one message per distinct key."""

    def __init__(self):
        self.requests = []
        self.hold_first = False
        self.first_arrived = threading.Event()
        self.release = threading.Event()
        gateway = self
        lock = threading.Lock()

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with lock:
                    gateway.requests.append({"key": self.headers.get("Idempotency-Key"), "body": body})
                    hold = gateway.hold_first and not gateway.first_arrived.is_set()
                    if hold:
                        gateway.first_arrived.set()
                if hold:
                    gateway.release.wait(HOLD_SECONDS)
                try:
                    self.send_response(200)
                    self.end_headers()
                except OSError:
                    pass  # the worker died while its request was held

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/sms"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def keys_for(self, notification_id):
        return [r["key"] for r in self.requests if r["key"] == str(notification_id)]

    @property
    def delivered_keys(self):
        return {r["key"] for r in self.requests}

    def close(self):
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


class Worker:
    """One `celery -A basodara worker` process (solo pool: SIGKILL ends the task with it)."""

    def __init__(self, env, log_path, name):
        self.env = env
        self.log_path = log_path
        self.name = name
        self.process = None

    def start(self):
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "celery", "-A", "basodara", "worker", "--pool", "solo", "-Q", "celery"]
                + ["--concurrency", "1", "--without-gossip", "--without-mingle", "--without-heartbeat"]
                + ["-l", "info", "-n", f"{self.name}@%h"],
                cwd=BASE_DIR,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        wait_for(self._ready, f"worker {self.name} to be ready")

    def _ready(self):
        if self.process.poll() is not None:
            raise AssertionError(f"worker {self.name} exited with {self.process.returncode}; see its log below")
        return " ready." in self.log_path.read_text(errors="replace")

    def kill(self):
        """SIGKILL: no warm shutdown, no ack, no chance to record anything."""
        self.process.kill()
        self.process.wait()

    def stop(self):
        stop_process(self.process)


def database_url(settings_dict):
    """A URL for the test database this process uses, for a worker in another process."""
    user = quote(settings_dict["USER"] or "", safe="")
    password = quote(settings_dict["PASSWORD"] or "", safe="")
    credentials = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    host = quote(settings_dict["HOST"] or "", safe="")  # a socket directory is percent-encoded
    port = f":{settings_dict['PORT']}" if settings_dict["PORT"] else ""
    options = {k: v for k, v in (settings_dict.get("OPTIONS") or {}).items() if isinstance(v, str)}
    query = f"?{urlencode(options)}" if options else ""
    return f"postgres://{credentials}{host}{port}/{quote(settings_dict['NAME'], safe='')}{query}"
