"""`make bench`: runs every benchmark, prints one table, and records it in docs/benchmarks.md."""

from __future__ import annotations

import argparse
import os
import sys
import time
import traceback
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from bench import api, cold_start, durability, dynamo_calls, engine, report, scale

REPO = Path(__file__).resolve().parents[1]
DOCS = REPO / "docs" / "benchmarks.md"
STAGES = ("engine", "api", "dynamo", "scale", "durability", "cold")
PREAMBLE = "# Benchmarks\n\nWritten by `make bench`; see bench/ for what each row measures.\n"


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--only", choices=STAGES, action="append", help="run only these (repeatable)")
    parser.add_argument("--engine-runs", type=int, default=20)
    parser.add_argument("--availability-runs", type=int, default=50)
    parser.add_argument("--bookings", type=int, default=100, help="sequential bookings over HTTP")
    parser.add_argument(
        "--concurrent", type=int, default=50, help="bookings over HTTP from --threads threads"
    )
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--probe", type=int, default=8, help="simultaneous requests for the deadlock probe")
    parser.add_argument("--retries", type=int, default=10, help="idempotent replays of the first bookings")
    parser.add_argument("--big-runs", type=int, default=2, help="timed availability calls, 50-staff tenant")
    parser.add_argument("--scale", type=int, default=2000, help="bookings into one local stack, for (e)")
    parser.add_argument("--scale-step", type=int, default=200, help="bookings per reported step of (e)")
    parser.add_argument("--kills", type=int, default=20, help="bookings each followed by kill -9, for (f)")
    parser.add_argument("--faulted", type=int, default=12, help="bookings made through injected faults")
    parser.add_argument("--cold-runs", type=int, default=9, help="fresh interpreters per figure, for (g)")
    parser.add_argument(
        "--no-docs",
        action="store_true",
        help=f"do not update {DOCS.relative_to(REPO)} (partial runs never do)",
    )
    return parser.parse_args(argv)


def _stage(name: str) -> None:
    print(f"[bench] {datetime.now(UTC):%H:%M:%S} {name}", file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    stages = args.only or list(STAGES)
    started_at = datetime.now(UTC)
    started = time.perf_counter()
    load_before = os.getloadavg()
    rows: list[report.Row] = []
    failed: list[str] = []

    def attempt(name: str, produce: Callable[[], list[report.Row]]) -> None:
        _stage(name)
        try:
            rows.extend(produce())
        except Exception:  # a broken stage must not hide the others' results
            failed.append(name)
            traceback.print_exc()

    if "engine" in stages:
        attempt(
            "(a) slot engine",
            lambda: report.engine_rows(engine.run(args.engine_runs), engine.run(args.engine_runs, False)),
        )
    if "api" in stages:
        attempt(
            "(b, c) local stack over HTTP",
            lambda: report.api_rows(
                api.run(
                    args.availability_runs,
                    args.bookings,
                    args.concurrent,
                    args.threads,
                    args.retries,
                    args.probe,
                )
            ),
        )
    if "dynamo" in stages:
        attempt(
            "(d) DynamoDB requests, in-process",
            lambda: report.dynamo_rows(dynamo_calls.run(True, args.big_runs)),
        )

    if "scale" in stages:
        attempt(
            "(e) 2,000 bookings: latency and memory",
            lambda: report.scale_rows(scale.run(args.scale, args.scale_step)),
        )
    if "durability" in stages:
        attempt(
            "(f) kills and faults",
            lambda: report.durability_rows(durability.run(args.kills, args.faulted)),
        )
    if "cold" in stages:
        attempt("(g) cold starts", lambda: report.cold_start_rows(cold_start.run(args.cold_runs)))

    seconds = time.perf_counter() - started
    command = " ".join(["python -m bench", *(argv if argv is not None else sys.argv[1:])])
    host = report.machine(started_at, seconds, command, REPO, load_before)
    print()
    print(report.text_table(rows))
    print(
        f"\n{host.cpus} CPUs ({host.cpu_model}), Python {host.python}, load {host.load_before[0]:.2f} -> "
        f"{host.load_after[0]:.2f}, {seconds:.0f} s"
    )
    if failed:
        print(f"FAILED: {', '.join(failed)}", file=sys.stderr)
        return 1
    if args.only or args.no_docs:
        print(f"({DOCS.relative_to(REPO)} not updated: partial run or --no-docs)")
    else:
        report.write_docs(DOCS, report.markdown_block(rows, host), PREAMBLE)
        print(f"Recorded in {DOCS.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
