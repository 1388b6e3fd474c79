"""The local stack (`python -m local.devserver`) as a subprocess on a free port, with a fresh data directory."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import TracebackType

import requests

REPO = Path(__file__).resolve().parents[1]
START_TIMEOUT_SECONDS = 90
STOP_TIMEOUT_SECONDS = 10


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class LocalStack:
    """Starts on `with`, is terminated (then killed if it hangs) on leaving it, whatever happened."""

    def __init__(self) -> None:
        self._tmp = tempfile.TemporaryDirectory(prefix="bench-stack-")
        self.data_dir = Path(self._tmp.name) / "data"
        self.log_file = Path(self._tmp.name) / "devserver.log"
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.startup_seconds = 0.0
        self._process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> LocalStack:
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.stop()

    def _start(self) -> None:
        # The stack configures its own AWS endpoint: nothing of this process's AWS settings may leak in.
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "MOTO_"))}
        for name in ("TABLE_NAME", "IDEMPOTENCY_TABLE_NAME", "APP_SECRET"):
            env.pop(name, None)
        env["PYTHONUNBUFFERED"] = "1"
        started = time.monotonic()
        with self.log_file.open("ab") as log:
            self._process = subprocess.Popen(  # noqa: S603  # our own interpreter and module, fixed args
                [
                    sys.executable,
                    "-m",
                    "local.devserver",
                    "--port",
                    str(self.port),
                    "--data-dir",
                    str(self.data_dir),
                ],
                cwd=REPO,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group, which `kill_hard` kills whole
            )
        deadline = started + START_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"the local stack exited with {self._process.returncode}:\n{self.log()}")
            try:
                if requests.get(f"{self.base_url}/v1/health", timeout=1).status_code == 200:
                    self.startup_seconds = time.monotonic() - started
                    return
            except requests.RequestException:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"no answer on /v1/health within {START_TIMEOUT_SECONDS}s:\n{self.log()}")

    def kill_hard(self) -> None:
        """SIGKILL to the whole process group at once: no handler runs, nothing is flushed."""
        assert self._process is not None
        os.killpg(self._process.pid, signal.SIGKILL)
        self._process.wait(timeout=STOP_TIMEOUT_SECONDS)

    def restart(self) -> None:
        """A new dev server on the same port and data directory (after a kill or a crash)."""
        if self._process is not None and self._process.poll() is None:
            self.kill_hard()
        self._start()

    def alive(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def rss_mb(self) -> float:
        """The dev server's resident memory (VmRSS), in MiB."""
        assert self._process is not None
        for line in Path(f"/proc/{self._process.pid}/status").read_text(encoding="ascii").splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        raise RuntimeError("no VmRSS in /proc/<pid>/status")

    def log(self, tail: int = 4000) -> str:
        try:
            return self.log_file.read_text(encoding="utf-8", errors="replace")[-tail:]
        except FileNotFoundError:
            return ""

    def count_in_log(self, text: str) -> int:
        """How often `text` occurs in the stack's output so far (e.g. the embedded AWS's "Error on request")."""
        try:
            return self.log_file.read_text(encoding="utf-8", errors="replace").count(text)
        except FileNotFoundError:
            return 0

    def stop(self) -> None:
        process, self._process = self._process, None
        try:
            if process is not None and process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=STOP_TIMEOUT_SECONDS)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait(timeout=STOP_TIMEOUT_SECONDS)
        finally:
            self._tmp.cleanup()
