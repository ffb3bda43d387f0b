"""Real processes for tests: a Redis of the test's own, an HTTP SMS gateway on loopback,
Celery workers started with `celery -A basodara worker`, and the helpers to wait for them.

Used by tests/integration (the outbox, /health/, imports) and tests/faults, which also
starts a PostgreSQL cluster and gunicorn of its own.
"""

import http.server
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import quote, urlencode

import psycopg

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


PG_BIN = Path("/usr/lib/postgresql/15/bin")


class PostgresCluster:
    """A PostgreSQL cluster of the test's own (Debian's initdb/pg_ctl), so it can be restarted
    without touching the machine's shared server. Run as the `postgres` user when the tests
    run as root (initdb refuses root)."""

    def __init__(self, directory, port):
        self.directory = Path(directory)
        self.data = self.directory / "data"
        self.log_path = self.directory / "postgresql.log"
        self.port = port
        self._as_postgres = os.geteuid() == 0

    def url(self, database):
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def _run(self, *command, timeout=60):
        prefix = ["runuser", "-u", "postgres", "--"] if self._as_postgres else []
        return subprocess.run(prefix + [str(c) for c in command], check=True, capture_output=True, timeout=timeout)

    def init(self):
        if self._as_postgres:
            shutil.chown(self.directory, "postgres", "postgres")
        self._run(PG_BIN / "initdb", "-D", self.data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync")
        with open(self.data / "postgresql.conf", "a") as conf:
            conf.write(
                f"port = {self.port}\nlisten_addresses = '127.0.0.1'\n"
                f"unix_socket_directories = '{self.directory}'\nfsync = off\nfull_page_writes = off\n"
            )

    def start(self):
        self._run(PG_BIN / "pg_ctl", "-D", self.data, "-l", self.log_path, "-w", "-t", "30", "start")

    def restart(self):
        """Fast mode, as an update does: sessions are cut, in-flight transactions roll back."""
        self._run(PG_BIN / "pg_ctl", "-D", self.data, "-l", self.log_path, "-m", "fast", "-w", "-t", "30", "restart")

    def stop(self):
        if (self.data / "postmaster.pid").exists():
            self._run(PG_BIN / "pg_ctl", "-D", self.data, "-m", "immediate", "-w", "stop")

    def execute(self, sql, database="postgres"):
        with psycopg.connect(self.url(database).replace("postgres://", "postgresql://"), autocommit=True) as conn:
            return conn.execute(sql).fetchall() if sql.lstrip().upper().startswith("SELECT") else conn.execute(sql)


class Gunicorn:
    """`gunicorn basodara.wsgi:application` as production runs it, with its worker pids."""

    def __init__(self, env, log_path, port, workers=2):
        self.env, self.log_path, self.port, self.workers = env, log_path, port, workers
        self.process = None

    @property
    def base_url(self):
        return f"http://127.0.0.1:{self.port}"

    def start(self):
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "basodara.wsgi:application", "--bind", f"127.0.0.1:{self.port}"]
                + ["--workers", str(self.workers), "--timeout", "30", "--graceful-timeout", "5"],
                cwd=BASE_DIR,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        wait_for(self._answers, f"gunicorn on port {self.port}", timeout=60)
        wait_for(lambda: len(self.worker_pids()) == self.workers, "gunicorn's workers")

    def _answers(self):
        if self.process.poll() is not None:
            raise AssertionError(f"gunicorn exited with {self.process.returncode}; see its log")
        try:
            with urllib.request.urlopen(f"{self.base_url}/health/", timeout=5):
                return True
        except urllib.error.HTTPError:
            return True  # 503 from /health/ is an answer
        except OSError:
            return False

    def worker_pids(self):
        pids = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == self.process.pid:
                pids.append(int(stat.parent.name))
        return sorted(pids)

    def stop(self):
        stop_process(self.process)
