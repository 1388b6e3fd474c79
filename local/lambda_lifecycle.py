"""A Lambda execution environment's life, in a process of its own: init (importing the handler module),
SnapStart's snapshot (running the before-snapshot hooks), restores (copies of the process made with fork(),
as Lambda resumes copies of one snapshot, each running the after-restore hooks) and invocations.

For the tests of what each step loads and renews (tests/api/test_cold_start.py) and for the cold-start
figures of `make bench` (bench/cold_start.py): only a fresh interpreter shows what a cold start pays for.
`run(plan)` starts `python -m local.lambda_lifecycle` with the plan:

    {"handler": "booking_api.handler", "snapshot": true, "copies": 2, "renew": true, "events": [...]}

and returns its report: for the import, the prime and each copy's restore and invocations, the modules
loaded and the CPU milliseconds spent; each invocation's result; and, in each copy, a draw from `random`
and whether the AWS session and the function's services are still the objects the snapshot held.
Until the handler is imported, the process has loaded only the standard library, so every module the
report names is the handler's doing.
"""

from __future__ import annotations

import functools
import importlib
import json
import os
import random
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]


def run(
    plan: Mapping[str, Any], env: Mapping[str, str] | None = None, timeout: float = 120
) -> dict[str, Any]:
    """Runs the plan in a fresh interpreter (with `env`, or this process's environment)."""
    with tempfile.TemporaryDirectory(prefix="lifecycle-") as directory:
        report = Path(directory) / "report.json"
        done = subprocess.run(
            [sys.executable, "-m", "local.lambda_lifecycle"],
            input=json.dumps({**plan, "report": str(report)}),
            capture_output=True,
            text=True,
            cwd=REPO,
            env=dict(env if env is not None else os.environ),
            timeout=timeout,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(f"the lifecycle failed:\n{done.stderr[-3000:]}")
        result: dict[str, Any] = json.loads(report.read_text(encoding="utf-8"))
        return result


class _Context:
    """What a handler reads of its Lambda context."""

    function_name = "lifecycle"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:eu-west-1:123456789012:function:lifecycle"

    def __init__(self) -> None:
        self.aws_request_id = str(uuid.uuid4())

    def get_remaining_time_in_millis(self) -> int:
        return 10_000


def _step(action: Callable[[], Any]) -> tuple[Any, dict[str, Any]]:
    """What `action()` returns, with the modules it loaded and the CPU time it took."""
    before = set(sys.modules)
    started = time.process_time()
    result = action()
    cpu_ms = (time.process_time() - started) * 1000
    return result, {"loaded": sorted(set(sys.modules) - before), "cpu_ms": cpu_ms}


def _services(handler: Any) -> Any:
    """The object holding the function's clients: the API's container, the reminders' services."""
    if hasattr(handler, "_container"):
        return handler._container()
    if hasattr(handler, "services"):
        return handler.services()
    return handler.service() if hasattr(handler, "service") else None


def _copy(plan: Mapping[str, Any], handler: Any, primed: Mapping[str, Any]) -> dict[str, Any]:
    report: dict[str, Any] = {}
    if primed and plan.get("renew", True):
        import snapshot_restore_py  # loaded with the handler

        def restore() -> None:
            for hook, args, kwargs in snapshot_restore_py.get_after_restore():
                hook(*args, **kwargs)

        _, report["restore"] = _step(restore)
    report["random"] = random.random()  # noqa: S311 - a draw shows whether copies share one seed
    if primed:
        import boto3  # loaded by the prime

        report["same_session"] = boto3.DEFAULT_SESSION is primed["session"]
        report["same_services"] = _services(handler) is primed["services"]
    answers = []
    for event in plan.get("events", []):
        result, step = _step(functools.partial(handler.lambda_handler, event, _Context()))
        answers.append({"result": result, **step})
    report["answers"] = answers
    return report


def _forked(plan: Mapping[str, Any], handler: Any, primed: Mapping[str, Any]) -> dict[str, Any]:
    read, write = os.pipe()
    state = random.getstate()
    pid = os.fork()
    if pid == 0:  # the copy: answer, report through the pipe, and leave without cleaning up
        # fork() reseeds `random` in the child (os.register_at_fork); a restored snapshot does not.
        random.setstate(state)
        os.close(read)
        with os.fdopen(write, "w") as out:
            json.dump(_copy(plan, handler, primed), out, default=str)
        os._exit(0)
    os.close(write)
    with os.fdopen(read) as reply:
        report: dict[str, Any] = json.load(reply)
    os.waitpid(pid, 0)
    return report


def main() -> None:
    plan = json.load(sys.stdin)
    handler, imported = _step(lambda: importlib.import_module(plan["handler"]))
    report: dict[str, Any] = {"import": imported}
    primed: dict[str, Any] = {}
    if plan.get("snapshot"):
        import snapshot_restore_py  # loaded with the handler

        def prime() -> None:  # the runtime runs them in reverse order of registration
            for hook, args, kwargs in reversed(snapshot_restore_py.get_before_snapshot()):
                hook(*args, **kwargs)

        _, report["prime"] = _step(prime)
        import boto3  # loaded by the prime

        primed = {"session": boto3.DEFAULT_SESSION, "services": _services(handler)}
    copies = int(plan.get("copies", 0))
    if copies:
        report["copies"] = [_forked(plan, handler, primed) for _ in range(copies)]
    else:
        report["copies"] = [_copy(plan, handler, primed)]
    Path(plan["report"]).write_text(json.dumps(report, default=str), encoding="utf-8")


if __name__ == "__main__":
    main()
