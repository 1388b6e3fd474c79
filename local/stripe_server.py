"""localstripe (PyPI) as the Stripe server of `make dev` and the tests: the official SDK talks to it through
STRIPE_API_BASE, exactly as it talks to api.stripe.com.

It is not run as `python -m localstripe` but through `main()` below, in its own process: the same aiohttp
application, patched where the application leans on Stripe's behaviour (`local/stripe_patches/`, the one
place that changes localstripe: Stripe's test cards, idempotency keys, refund limits, the events Stripe
sends, webhook retries, authorisations lapsing on the dev clock), with its store kept in the file we name
(the data directory for `make dev`, so payments survive a restart and `make dev-reset` wipes them) or in
memory only (the tests) rather than in the one /tmp/localstripe.pickle every localstripe on the machine
would share, and listening on 127.0.0.1 only (localstripe itself binds every interface).

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
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import IO

REPO = Path(__file__).resolve().parents[1]
HOST = "127.0.0.1"
STATE_FILE = "localstripe.pickle"
PORT_FILE = "localstripe.port"
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
        (`Stripe-Signature: t=<now>,v1=<hmac>`), about a second after each event, in the order they were
        made; a delivery not answered 2xx is retried after growing pauses (stripe_patches, patch 5).
        `events` limits the types sent (None: all); `[]` silences the webhook, retries included
        (localstripe cannot delete one). Registering a name again replaces it."""
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

    def lapse_authorisations(self, now: datetime, timeout: float = 2.0) -> list[str]:
        """Tells localstripe the dev clock's time: Stripe cancels an authorisation not captured within 7 days
        (`payment_intent.canceled`, cancellation_reason "automatic"), and localstripe, on real time, cannot
        know when that is. Returns the ids of the intents it cancelled. Raises OSError (URLError) when
        localstripe does not answer."""
        body = json.dumps({"now": now.timestamp()}).encode("utf-8")
        request = urllib.request.Request(  # noqa: S310 (our own local URL)
            f"{self.base_url}/_local/lapse_authorisations",
            data=body,
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 (our own local URL)
            lapsed: list[str] = json.loads(response.read())["lapsed"]
        return lapsed

    def stop(self) -> None:
        """Terminates localstripe (killed if it does not stop in time); safe to call more than once."""
        if self._stopped:
            return
        self._stopped = True
        _end(self.process)
        self._log.close()
        if self._temporary_log:
            self.log_path.unlink(missing_ok=True)


def start_stripe(
    port: int = 0,
    data_dir: Path | None = None,
    webhook_delay: float | None = None,
    webhook_retry_pauses: Sequence[float] | None = None,
) -> StripeServer:
    """Starts localstripe on 127.0.0.1:`port` (any free port when 0) and waits until it answers.

    With `data_dir`, its state is kept in `data_dir/localstripe.pickle` (restored at start) and its log is
    `data_dir/localstripe.log`; without, it starts empty, keeps everything in memory, and logs to a
    temporary file removed at stop. Its output never reaches the caller's stdout or stderr. It is stopped
    at exit, and stops itself if this process dies without stopping it. `webhook_delay` (seconds before an
    event's first delivery) and `webhook_retry_pauses` (the pauses before each retry of a failed delivery)
    default to stripe_patches' (1 s; 1 s, 2 s, 4 s ... 5 minutes): tests shorten them."""
    if data_dir is not None:
        data_dir.mkdir(parents=True, exist_ok=True)
        log_path = data_dir / LOG_FILE
        log: IO[bytes] = log_path.open("ab")
    else:
        log = tempfile.NamedTemporaryFile(prefix="localstripe-", suffix=".log", delete=False)  # noqa: SIM115
        log_path = Path(log.name)
    failure = ""
    # The port a data directory's localstripe had before, so its address (in /dev/demo, in a browser tab,
    # in a webhook registered by hand) stays the same across restarts while that port is free.
    remembered = _remembered_port(data_dir) if port == 0 else None
    for attempt in range(START_ATTEMPTS if port == 0 else 1):
        chosen = port or (remembered if attempt == 0 and remembered else _free_port())
        if not _is_free(chosen):  # else the wait below could take another server's answer for its own
            failure = f"port {chosen} is in use"
            continue
        command = [sys.executable, "-m", "local.stripe_server", "--port", str(chosen)]
        if data_dir is not None:
            command += ["--state", str((data_dir / STATE_FILE).resolve())]
        if webhook_delay is not None:
            command += ["--webhook-delay", str(webhook_delay)]
        if webhook_retry_pauses is not None:
            command += ["--webhook-retry-pauses", ",".join(str(p) for p in webhook_retry_pauses)]
        log.write(f"--- localstripe on {HOST}:{chosen} ---\n".encode())
        log.flush()
        # stdin stays a pipe from us: localstripe exits when it closes, i.e. when this process dies.
        process = subprocess.Popen(command, cwd=REPO, stdin=subprocess.PIPE, stdout=log, stderr=log)
        failure = _wait_until_answering(process, f"http://{HOST}:{chosen}")
        if not failure and data_dir is not None:
            (data_dir / PORT_FILE).write_text(str(chosen), encoding="utf-8")
        if not failure:
            server = StripeServer(process, chosen, log_path, log, temporary_log=data_dir is None)
            atexit.register(server.stop)
            return server
        _end(process)
    log.close()
    raise RuntimeError(f"localstripe did not start: {failure} (log: {log_path})\n{_tail(log_path)}")


def _remembered_port(data_dir: Path | None) -> int | None:
    """The port recorded in the data directory, if there is one and it is free now."""
    if data_dir is None:
        return None
    try:
        port = int((data_dir / PORT_FILE).read_text(encoding="utf-8").strip())
    except (OSError, ValueError):
        return None
    return port if 1024 <= port <= 65535 and _is_free(port) else None


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
    parser.add_argument("--webhook-delay", type=float, default=None, help="seconds before a first delivery")
    parser.add_argument(
        "--webhook-retry-pauses", default=None, help="seconds before each retry of a failed delivery: 1,2,4"
    )
    args = parser.parse_args(argv)

    import logging

    from aiohttp import web

    from local import stripe_patches  # imports localstripe: its routes, middlewares and the store they use

    stripe_patches.keep_store_in(args.state)
    pauses = args.webhook_retry_pauses
    stripe_patches.install(
        webhook_delay=stripe_patches.WEBHOOK_DELAY_SECONDS
        if args.webhook_delay is None
        else args.webhook_delay,
        webhook_retry_pauses=stripe_patches.WEBHOOK_RETRY_PAUSES
        if pauses is None
        else [float(p) for p in pauses.split(",") if p],
    )
    from localstripe import server

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
