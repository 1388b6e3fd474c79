"""Schemathesis over the whole `/v1/openapi.json` of a running local stack: the public routes without
credentials, and the admin routes with a token for each role of the demo spa. Every phase runs (examples,
coverage, fuzzing, and the stateful phase that follows the document's links: create, then read, change,
delete). Checks: no server error, every status code and content type documented, every response body
conforming to its schema.

tests/e2e/test_fuzz.py runs it bounded, with a fixed seed, in `make test`; `make fuzz` runs it longer
against a fresh local stack:

    make fuzz                                    # 10 minutes
    .venv/bin/python -m tests.fuzz --minutes 30 --seed 7
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
CHECKS = "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance"
SLUG = "serenity-spa"


@dataclass(frozen=True)
class Campaign:
    name: str
    paths: str  # a regular expression over paths
    role: str | None = None  # the demo spa's user whose token is sent; None: no credentials


CAMPAIGNS = (
    Campaign("public", r"^/v1/(public|health)"),
    *(
        Campaign(f"admin as {role}", r"^/v1/admin", role)
        for role in ("owner", "admin", "staff", "dispatcher")
    ),
)


@dataclass(frozen=True)
class Outcome:
    returncode: int
    output: str

    @property
    def cases(self) -> tuple[int, int]:
        """(generated, passed) test cases, from the summary line."""
        found = re.search(r"(\d+) generated, (\d+) passed", self.output)
        return (int(found.group(1)), int(found.group(2))) if found else (0, 0)


def run(
    base_url: str, demo: dict[str, Any], campaign: Campaign, *, seconds: int, examples: int, seed: int
) -> Outcome:
    command = [
        str(Path(sys.executable).parent / "schemathesis"),
        "run",
        f"{base_url}/v1/openapi.json",
        "--url",
        base_url,
        "--include-path-regex",
        campaign.paths,
        "--checks",
        CHECKS,
        "--max-time",
        str(seconds),
        "--max-examples",
        str(examples),
        "--seed",
        str(seed),
        "--workers",
        "1",
        "--no-color",
    ]
    if campaign.role is not None:
        token = demo[SLUG]["users"][campaign.role]["token"]
        command += ["--header", f"Authorization: Bearer {token}"]
    result = subprocess.run(
        command, cwd=REPO, capture_output=True, text=True, timeout=seconds + 300, check=False
    )
    return Outcome(result.returncode, result.stdout + result.stderr)


def main(argv: list[str] | None = None) -> int:
    from bench.stack import LocalStack

    parser = argparse.ArgumentParser(prog="python -m tests.fuzz", description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=10, help="time budget, shared by the campaigns")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--examples", type=int, default=500, help="test cases per operation and phase, at most"
    )
    args = parser.parse_args(argv)
    seconds = max(10, int(args.minutes * 60 / len(CAMPAIGNS)))
    failed = 0
    with LocalStack() as stack:
        import requests

        demo = {
            b["slug"]: b for b in requests.get(f"{stack.base_url}/dev/demo", timeout=30).json()["businesses"]
        }
        for campaign in CAMPAIGNS:
            outcome = run(
                stack.base_url, demo, campaign, seconds=seconds, examples=args.examples, seed=args.seed
            )
            generated, passed = outcome.cases
            print(f"{campaign.name}: {generated} test cases, {passed} passed (exit {outcome.returncode})")
            if outcome.returncode != 0:
                failed += 1
                print(outcome.output[-8000:])
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
