"""The local stack as end-to-end tests use it: `python -m local.devserver` in a subprocess on a free port,
with its own data directory and a clean environment, spoken to over real HTTP."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import requests

REPO = Path(__file__).resolve().parents[2]
START_TIMEOUT_SECONDS = 60
STOP_TIMEOUT_SECONDS = 20
HTTP_TIMEOUT_SECONDS = 10
# What the test process sets for the in-process handler; the stack must configure itself instead.
_TEST_SETTINGS = (
    "TABLE_NAME",
    "IDEMPOTENCY_TABLE_NAME",
    "SENDER_EMAIL",
    "APP_SECRET",
    "PUBLIC_BASE_URL",
    "SCHEDULE_GROUP_NAME",
    "REMINDERS_FUNCTION_ARN",
    "SCHEDULER_ROLE_ARN",
    "USER_POOL_ID",
    "USER_POOL_CLIENT_ID",
)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class LocalStack:
    """One `python -m local.devserver` process on a free port, with its output kept in a log file."""

    def __init__(self, data_dir: Path, log_dir: Path) -> None:
        self.data_dir = data_dir
        self.log_dir = log_dir
        self.process: subprocess.Popen[bytes] | None = None
        self.base_url = ""
        self.log_file: Path | None = None
        self.starts = 0

    def start(self) -> None:
        port = free_port()
        self.starts += 1
        self.log_file = self.log_dir / f"devserver-{self.starts}.log"
        # A clean environment: the stack must configure itself, not inherit the test process's AWS settings.
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "MOTO_"))}
        for name in _TEST_SETTINGS:
            env.pop(name, None)
        env["PYTHONUNBUFFERED"] = "1"
        with self.log_file.open("wb") as log:
            self.process = subprocess.Popen(  # its own process group, so a test can kill all of it
                [
                    sys.executable,
                    "-m",
                    "local.devserver",
                    "--port",
                    str(port),
                    "--data-dir",
                    str(self.data_dir),
                ],
                cwd=REPO,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.base_url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"the local stack exited with {self.process.returncode}:\n{self.log()}")
            try:
                if requests.get(f"{self.base_url}/v1/health", timeout=1).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.2)
        self.kill()
        pytest.fail(
            f"the local stack did not answer /v1/health within {START_TIMEOUT_SECONDS}s:\n{self.log()}"
        )

    def stop(self) -> int:
        """SIGTERM, as Ctrl-C or a process manager would, and wait for a clean exit."""
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=STOP_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            self.kill()
            pytest.fail(f"the local stack did not stop within {STOP_TIMEOUT_SECONDS}s:\n{self.log()}")

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=STOP_TIMEOUT_SECONDS)

    def kill_group(self) -> None:
        """SIGKILL to the whole process group, as a power-off of the process would be: no handler runs."""
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=STOP_TIMEOUT_SECONDS)

    def log(self) -> str:
        return self.log_file.read_text(encoding="utf-8", errors="replace") if self.log_file else ""

    # --- HTTP -----------------------------------------------------------------------------------------

    def request(self, method: str, path: str, token: str | None = None, **kwargs: Any) -> requests.Response:
        headers = dict(kwargs.pop("headers", {}))
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        return requests.request(
            method, f"{self.base_url}{path}", headers=headers, timeout=HTTP_TIMEOUT_SECONDS, **kwargs
        )

    def get(self, path: str, token: str | None = None, **kwargs: Any) -> requests.Response:
        return self.request("GET", path, token, **kwargs)

    def demo(self) -> dict[str, dict[str, Any]]:
        response = self.get("/dev/demo")
        assert response.status_code == 200, response.text
        return {b["slug"]: b for b in response.json()["businesses"]}

    def json(self, method: str, path: str, token: str | None = None, status: int = 200, **kwargs: Any) -> Any:
        response = self.request(method, path, token, **kwargs)
        assert response.status_code == status, f"{method} {path}: {response.status_code} {response.text}"
        return response.json()

    # --- the dev clock and the outbox ---------------------------------------------------------------

    def now(self) -> datetime:
        return datetime.fromisoformat(self.json("GET", "/dev/clock")["now"])

    def set_clock(self, instant: datetime) -> None:
        """Moves the clock; the dispatcher has fired whatever became due when this returns."""
        moved = self.json("POST", "/dev/clock", json={"now": instant.isoformat()})
        assert datetime.fromisoformat(moved["now"]) >= instant

    def outbox(self) -> list[dict[str, Any]]:
        """Everything sent, newest first (reading it runs the dispatcher once)."""
        messages: list[dict[str, Any]] = self.json("GET", "/dev/outbox.json")["messages"]
        return messages

    def stop_if_running(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.stop()


def running(
    tmp_path_factory: pytest.TempPathFactory, name: str, kind: type[LocalStack] = LocalStack
) -> Iterator[Any]:
    """A module's local stack: started in a directory of its own, stopped (or found dead) at the end."""
    root = tmp_path_factory.mktemp(name)
    local = kind(root / "data", root)
    local.start()
    try:
        yield local
    finally:
        local.stop_if_running()
