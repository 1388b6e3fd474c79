"""localstripe (PyPI) as the Stripe server of `make dev` and the tests: the official SDK talks to it through
STRIPE_API_BASE, exactly as it talks to api.stripe.com.

localstripe keeps its whole state in one pickle at a fixed path, /tmp/localstripe.pickle, which it rewrites
on every change and reloads at start unless told `--from-scratch`; it has no option to move it. Every
localstripe on the machine (each test worker, `make dev`, another checkout's tests) would share, overwrite
and reload that one file. So it is not run as `python -m localstripe` but through `main()` below, in its
own process: the same aiohttp application, with its store kept in the file we name (the data directory for
`make dev`, so payments survive a restart and `make dev-reset` wipes them) or in memory only (the tests),
and listening on 127.0.0.1 only (localstripe itself binds every interface).

Its webhook registrations (`/_config/webhooks/{id}`) live in memory only: register them after each start.
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import IO, Any

REPO = Path(__file__).resolve().parents[1]
HOST = "127.0.0.1"
STATE_FILE = "localstripe.pickle"
LOG_FILE = "localstripe.log"
START_TIMEOUT = 20.0  # seconds; importing aiohttp on a busy machine is the slow part
STOP_TIMEOUT = 5.0
START_ATTEMPTS = 3  # a port picked free can be taken before localstripe binds it: pick another


class StripeServer:
    """A running localstripe subprocess."""

    def __init__(
        self, process: subprocess.Popen[bytes], port: int, log_path: Path, log: IO[bytes], temporary_log: bool
    ) -> None:
        self.process = process
        self.port = port
        self.base_url = f"http://{HOST}:{port}"
        self.log_path = log_path
        self._log = log
        self._temporary_log = temporary_log
        self._stopped = False

    def environment(self) -> dict[str, str]:
        """Where the payments adapter points the SDK: `base_addresses={"api": STRIPE_API_BASE}`."""
        return {"STRIPE_API_BASE": self.base_url}

    def register_webhook(self, name: str, url: str, secret: str, events: list[str] | None = None) -> None:
        """Has localstripe POST its events to `url`, signed with `secret` as Stripe signs them
        (`Stripe-Signature: t=<created>,v1=<hmac>`), about a second after each event. `events` limits
        the types sent (None: all); `[]` silences the webhook (localstripe cannot delete one). Registering
        a name again replaces it."""
        # JSON rather than a form, so that an empty list of events arrives as a list (a form drops it).
        body = json.dumps({"url": url, "secret": secret, "events": events}).encode("utf-8")
        request = urllib.request.Request(  # noqa: S310 (our own local URL)
            f"{self.base_url}/_config/webhooks/{urllib.parse.quote(name, safe='')}",
            data=body,
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 (our own local URL)
            response.read()

    def stop(self) -> None:
        """Terminates localstripe (killed if it does not stop in time); safe to call more than once."""
        if self._stopped:
            return
        self._stopped = True
        _end(self.process)
        self._log.close()
        if self._temporary_log:
            self.log_path.unlink(missing_ok=True)


def start_stripe(port: int = 0, data_dir: Path | None = None) -> StripeServer:
    """Starts localstripe on 127.0.0.1:`port` (any free port when 0) and waits until it answers.

    With `data_dir`, its state is kept in `data_dir/localstripe.pickle` (restored at start) and its log is
    `data_dir/localstripe.log`; without, it starts empty, keeps everything in memory, and logs to a
    temporary file removed at stop. Its output never reaches the caller's stdout or stderr. It is stopped
    at exit, and stops itself if this process dies without stopping it."""
    if data_dir is not None:
        data_dir.mkdir(parents=True, exist_ok=True)
        log_path = data_dir / LOG_FILE
        log: IO[bytes] = log_path.open("ab")
    else:
        log = tempfile.NamedTemporaryFile(prefix="localstripe-", suffix=".log", delete=False)  # noqa: SIM115
        log_path = Path(log.name)
    failure = ""
    for _ in range(START_ATTEMPTS if port == 0 else 1):
        chosen = port or _free_port()
        if not _is_free(chosen):  # else the wait below could take another server's answer for its own
            failure = f"port {chosen} is in use"
            continue
        command = [sys.executable, "-m", "local.stripe_server", "--port", str(chosen)]
        if data_dir is not None:
            command += ["--state", str((data_dir / STATE_FILE).resolve())]
        log.write(f"--- localstripe on {HOST}:{chosen} ---\n".encode())
        log.flush()
        # stdin stays a pipe from us: localstripe exits when it closes, i.e. when this process dies.
        process = subprocess.Popen(command, cwd=REPO, stdin=subprocess.PIPE, stdout=log, stderr=log)
        failure = _wait_until_answering(process, f"http://{HOST}:{chosen}")
        if not failure:
            server = StripeServer(process, chosen, log_path, log, temporary_log=data_dir is None)
            atexit.register(server.stop)
            return server
        _end(process)
    log.close()
    raise RuntimeError(f"localstripe did not start: {failure} (log: {log_path})\n{_tail(log_path)}")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        port: int = probe.getsockname()[1]
    return port


def _is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as localstripe binds it
        try:
            probe.bind((HOST, port))
        except OSError:
            return False
    return True


def _wait_until_answering(process: subprocess.Popen[bytes], base_url: str) -> str:
    """'' once localstripe answers HTTP, else why not."""
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return f"it exited with status {process.returncode}"
        try:
            # Any HTTP answer will do: this one is localstripe's 401 for a request without a key.
            with urllib.request.urlopen(f"{base_url}/v1/charges", timeout=1):  # noqa: S310 (local URL)
                pass
            return ""
        except urllib.error.HTTPError:
            return ""
        except OSError:
            time.sleep(0.05)
    return f"no answer within {START_TIMEOUT:.0f} s"


def _end(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    if process.stdin is not None:
        with contextlib.suppress(OSError):
            process.stdin.close()


def _tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


# ---- inside the subprocess -------------------------------------------------------------------------------


def _keep_store_in(state: Path | None) -> None:
    """Moves localstripe's store from /tmp/localstripe.pickle to `state` (None: memory only).

    localstripe pickles the whole store on every item set and again after each POST/PUT/DELETE request;
    only the latter is kept (it runs before the response is sent, so an acknowledged change is on disk),
    written to a temporary file and renamed, so that a kill mid-write leaves the previous state whole."""
    import pickle

    from localstripe import resources

    def load(store: Any) -> None:
        if state is None or not state.exists():
            return
        try:
            with state.open("rb") as file:
                saved = pickle.load(file)  # noqa: S301 (our own file, written by this module)
        except Exception as error:  # e.g. written by another localstripe version: keep it, start empty
            aside = state.with_suffix(".unreadable")
            os.replace(state, aside)
            print(f"could not read {state} ({error!r}); moved to {aside}, starting empty", flush=True)
            return
        store.clear()
        dict.update(store, saved)

    def dump(store: Any) -> None:
        if state is None:
            return
        tmp = state.with_suffix(".tmp")
        with tmp.open("wb") as file:
            pickle.dump(dict(store), file, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, state)

    def set_item(store: Any, key: Any, value: Any) -> None:
        dict.__setitem__(store, key, value)

    def del_item(store: Any, key: Any) -> None:
        dict.__delitem__(store, key)

    resources.Store.try_load_from_disk = load
    resources.Store.dump_to_disk = dump
    resources.Store.__setitem__ = set_item
    resources.Store.__delitem__ = del_item


def _exit_when_parent_goes(pid: int) -> None:
    """Our stdin is a pipe from the process that started us: end of file means it has gone (even killed
    with -9, when its atexit never runs), and localstripe must not outlive it."""

    def watch() -> None:
        # The raw descriptor, not sys.stdin: a daemon thread holding a buffered reader's lock makes the
        # interpreter abort at exit.
        with contextlib.suppress(OSError):
            while os.read(0, 4096):
                pass
        os.kill(pid, signal.SIGTERM)  # aiohttp stops gracefully

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="localstripe, with its state where we say.")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--state", type=Path, default=None, help="state file (default: memory only)")
    args = parser.parse_args(argv)

    import logging

    from aiohttp import web

    _keep_store_in(args.state)
    from localstripe import server  # its routes, middlewares and the store they use

    server.store.try_load_from_disk()
    _exit_when_parent_goes(os.getpid())

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((HOST, args.port))
    # As localstripe's own start(): its access log and webhook deliveries, to our stdout (the log file).
    logger = logging.getLogger("aiohttp.access")
    logger.setLevel(logging.DEBUG)
    logger.addHandler(logging.StreamHandler(sys.stdout))
    web.run_app(server.app, sock=sock, access_log=logger, print=None)


if __name__ == "__main__":
    main()
