"""Browser tests drive the real product: `smmdesk migrate`, `smmdesk demo`, `smmdesk serve` in a fresh data
dir, exactly as `make run` does, and Debian's chromium through Playwright (it cannot download its own)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from email.message import Message
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SMMDESK = ROOT / ".venv" / "bin" / "smmdesk"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]
START_TIMEOUT = 60.0
# Variables that would point the served product somewhere other than its own fresh SQLite data dir.
DROPPED_ENV = {"DATABASE_URL", "REDIS_URL", "HOST", "PORT", "DJANGO_SETTINGS_MODULE"}
# The served product runs on 127.0.0.1; no proxy may stand in between.
NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))


# base URL -> (process, log file) of the served product, so a test can tell "the server died" from a bug.
RUNNING: dict[str, tuple[subprocess.Popen, Path]] = {}


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def get_json(url: str, timeout: float = 2.0) -> tuple[int, dict]:
    """(status, body) of a GET; an error status is an answer too."""
    try:
        with NO_PROXY.open(url, timeout=timeout) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")


def fetch_headers(url: str, timeout: float = 2.0) -> tuple[int, Message]:
    """(status, headers) of a GET whose body is not needed; the headers are looked up case-insensitively."""
    try:
        with NO_PROXY.open(url, timeout=timeout) as response:
            return response.status, response.headers
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers


def product_env(data_dir: Path, port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SMMDESK_") and k not in DROPPED_ENV}
    env.update(SMMDESK_DATA_DIR=str(data_dir), HOST="127.0.0.1", PORT=str(port), PYTHONUNBUFFERED="1")
    return env


def run_command(args: list[str], env: dict[str, str]) -> str:
    result = subprocess.run(
        [str(SMMDESK), *args], env=env, cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, f"smmdesk {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}"
    return result.stdout


def stop(process: subprocess.Popen) -> None:
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=5)
    except ProcessLookupError:
        pass


@pytest.fixture(scope="session")
def server(tmp_path_factory):
    """The real product on a free port; yields its base URL. Checks /healthz before any test runs."""
    if not SMMDESK.exists():
        pytest.fail(f"{SMMDESK} is missing: run `make install-test` first")
    data_dir = tmp_path_factory.mktemp("smmdesk-browser-data")
    port = free_port()
    env = product_env(data_dir, port)
    run_command(["migrate"], env)
    run_command(["demo"], env)
    log_path = data_dir / "serve.log"
    with open(log_path, "w") as log:
        process = subprocess.Popen(
            [str(SMMDESK), "serve"],
            env=env,
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    base_url = f"http://127.0.0.1:{port}"
    RUNNING[base_url] = (process, log_path)
    try:
        deadline = time.monotonic() + START_TIMEOUT
        answer = None
        while answer is None:
            if process.poll() is not None:
                pytest.fail(f"smmdesk serve exited with {process.returncode}:\n{log_path.read_text()}")
            if time.monotonic() > deadline:
                pytest.fail(
                    f"smmdesk serve did not answer within {START_TIMEOUT:.0f}s:\n{log_path.read_text()}"
                )
            try:
                answer = get_json(f"{base_url}/healthz", timeout=1.0)
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                # Not listening yet: wait on the process itself, so an early exit is noticed at once.
                try:
                    process.wait(timeout=0.2)
                except subprocess.TimeoutExpired:
                    pass
        status, body = answer
        assert (status, body) == (200, {"database": "ok", "queue": "ok"}), log_path.read_text()
        yield base_url
    finally:
        RUNNING.pop(base_url, None)
        stop(process)


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} is missing: `make test` installs it (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def page(browser, server):
    """A fresh context (so no cookies carry over) per test, in English, at 1280x800."""
    process, log_path = RUNNING[server]
    if process.poll() is not None:
        pytest.fail(f"smmdesk serve stopped (exit {process.returncode}):\n{log_path.read_text()[-3000:]}")
    context = browser.new_context(base_url=server, viewport={"width": 1280, "height": 800}, locale="en-US")
    context.set_default_timeout(10_000)
    page = context.new_page()
    try:
        yield page
    finally:
        context.close()
