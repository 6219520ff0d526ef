"""Rate limits hold across web workers: gunicorn with two real worker processes, the
counts in Redis (production's required shared storage)."""

import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest
import requests

pytestmark = pytest.mark.redis

ROOT = Path(__file__).resolve().parent.parent
# A number of this run only: the counts live in a Redis that outlives the test.
MOBILE, PASSWORD = f"138{uuid.uuid4().int % 10**8:08d}", "right-pass-123"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _flask(env, *args):
    done = subprocess.run([sys.executable, "-m", "flask", "--app", "app:create_app", *args],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.fixture
def web(tmp_path, redis_url):
    """gunicorn -w 2 in production shape on a SQLite file, rate limits counted in Redis."""
    port = _free_port()
    env = {**os.environ, "PIFA_ENV": "production", "SECRET_KEY": "x" * 40,
           "PIFA_INSTANCE_DIR": str(tmp_path), "DATABASE_URL": f"sqlite:///{tmp_path}/w.db",
           "REDIS_URL": redis_url, "SESSION_COOKIE_SECURE": "false"}
    env.pop("RATELIMIT_STORAGE_URI", None)
    _flask(env, "db", "upgrade")
    _flask(env, "pifa", "sync-roles")
    _flask(env, "pifa", "create-admin", "--mobile", MOBILE, "--name", "测试",
           "--password", PASSWORD)
    log = tmp_path / "access.log"
    gunicorn = shutil.which("gunicorn", path=str(Path(sys.executable).parent))
    process = subprocess.Popen(
        [gunicorn, "-w", "2", "-b", f"127.0.0.1:{port}", "--no-control-socket",
         "--access-logfile", str(log), "--access-logformat", "%(p)s %(r)s %(s)s",
         "app:create_app()"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if requests.get(base + "/healthz", timeout=5).status_code == 200:
                    break
            except requests.RequestException:  # not listening yet, or still starting
                time.sleep(0.2)
        yield base, log
    finally:
        process.terminate()
        process.wait(20)


def _sign_in(base, password, together=None) -> int:
    with requests.Session() as fresh:  # a new connection each time
        fresh.headers["Connection"] = "close"
        page = fresh.get(base + "/auth/login", timeout=10)
        token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.text)[1]
        if together is not None:
            together.wait()  # both posts at once: each of the two workers takes one
        return fresh.post(base + "/auth/login", data={"mobile": MOBILE, "password": password,
                                                      "csrf_token": token},
                          allow_redirects=False, timeout=30).status_code


def test_failed_sign_ins_are_counted_across_web_workers(web, app):
    base, log = web
    limit = int(app.config["LIMIT_SIGN_IN_PER_ACCOUNT"].split()[0])
    together = threading.Barrier(2)
    statuses: list[int] = []

    def guesser():
        for _ in range(limit // 2 + 2):
            statuses.append(_sign_in(base, "wrong-pass-1", together))

    threads = [threading.Thread(target=guesser) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    # Two posts at once may both pass the check before either is counted: at most one
    # more than the limit gets through, never one per worker.
    refused_for_password = statuses.count(400)
    assert limit <= refused_for_password <= limit + 1, statuses
    assert statuses.count(429) == len(statuses) - refused_for_password >= 2, statuses
    assert _sign_in(base, PASSWORD) == 429  # the account waits, whichever worker answers
    time.sleep(0.5)  # the access log is written after each response
    workers = {line.split()[0] for line in log.read_text().splitlines()
               if "POST /auth/login" in line}
    assert len(workers) == 2, f"only one web worker answered: {workers}"
