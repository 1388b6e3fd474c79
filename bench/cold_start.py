"""(g) Cold starts, in CPU time of fresh interpreters (local/lambda_lifecycle.py), medians of `runs`:

- importing each function's handler module, against `import boto3` measured in the same run (the target:
  at most 2x);
- without SnapStart: importing the API handler and answering a first availability request (which builds
  the resolver, the models and the container);
- with SnapStart: the before-snapshot prime (paid once, when a version is published) and, in a copy made
  after it, the after-restore hooks plus the first answer (what each cold start then pays), for the API
  (availability) and the reminders function (a reminder whose booking is gone).

Against an embedded AWS seeded with the demo business. CPU time rather than wall time, so the embedded AWS
(a thread of this process) is not counted and a busy machine skews the figures less.
"""

from __future__ import annotations

import os
import secrets
import statistics
import tempfile
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.api import SERVICE_NAME, SLUG, ZONE
from bench.demo import outside_services, seed_demo
from local import lambda_lifecycle
from local.aws import EmbeddedAws

HANDLERS = ("booking_api.handler", "reminders.handler", "meeting_links.handler", "webhooks.handler")


@dataclass(frozen=True)
class ColdStartResult:
    runs: int
    boto3_ms: float
    imports_ms: dict[str, float]  # handler module -> median CPU ms of importing it
    api_first_answer_ms: float  # import + first availability answer, no SnapStart
    api_prime_ms: float
    api_restored_answer_ms: float  # after-restore hooks + first availability answer
    reminders_prime_ms: float
    reminders_restored_answer_ms: float
    failures: list[str]  # answers that were not what they should be

    def ratio(self, handler: str) -> float:
        return self.imports_ms[handler] / self.boto3_ms


def _availability_event(service_id: str, day: date) -> dict[str, Any]:
    query = {
        "services": service_id,
        "staff": "any",
        "from": day.isoformat(),
        "to": day.isoformat(),
        "tz": ZONE,
    }
    path = f"/v1/public/businesses/{SLUG}/availability"
    return {
        "resource": "/{proxy+}",
        "path": path,
        "httpMethod": "GET",
        "headers": {"Host": "api.example.com"},
        "queryStringParameters": query,
        "multiValueQueryStringParameters": {k: [v] for k, v in query.items()},
        "pathParameters": {"proxy": path.lstrip("/")},
        "requestContext": {
            "resourcePath": "/{proxy+}",
            "httpMethod": "GET",
            "stage": "bench",
            "requestId": secrets.token_hex(8),
            "identity": {"sourceIp": "198.51.100.7"},
        },
        "body": None,
        "isBase64Encoded": False,
    }


def _answer_ms(copy: dict[str, Any], failures: list[str], expected: Any) -> float:
    [answer] = copy["answers"]
    result = answer["result"]
    ok = result.get("statusCode") == 200 if expected == 200 else result == expected
    if not ok:
        failures.append(str(result)[:200])
    return float(copy.get("restore", {}).get("cpu_ms", 0.0)) + float(answer["cpu_ms"])


def run(runs: int = 7) -> ColdStartResult:
    aws = EmbeddedAws()
    aws.start()
    services = ExitStack()
    try:
        services.enter_context(outside_services())
        resources = aws.provision()
        env = {**os.environ, **resources.environment(), "APP_SECRET": secrets.token_urlsafe(36)}
        os.environ.update(env)  # the container below seeds the demo through the same embedded AWS
        from booking_api.container import build_container  # noqa: PLC0415 - once the environment is set

        container = build_container(claims=lambda event: None)
        # moto keeps its state per process: an earlier stage of this run may have seeded the demo already.
        if container.catalogue_reader.tenant_for_slug(SLUG) is None:
            with tempfile.TemporaryDirectory(prefix="bench-cold-") as data_dir:
                cognito = aws.client("cognito-idp")
                seed_demo(container, cognito, resources.user_pool_id, Path(data_dir))
        tenant_id = container.catalogue_reader.tenant_for_slug(SLUG)
        service = next(
            s for s in container.catalogue.public_catalogue(SLUG).services if s.name == SERVICE_NAME
        )
        availability = _availability_event(service.id, datetime.now(UTC).date() + timedelta(days=2))
        reminder = {
            "type": "reminder",
            "tenant_id": tenant_id,
            "booking_id": "gone",
            "minutes_before": 60,
            "planned_start": "2030-01-01T09:00:00+00:00",
            "channels": ["email"],
        }
        samples: dict[str, list[float]] = {}
        failures: list[str] = []

        def sample(name: str, value: float) -> None:
            samples.setdefault(name, []).append(value)

        for _ in range(runs):  # interleaved, so a slow moment of the machine touches every figure alike
            sample("boto3", lambda_lifecycle.run({"handler": "boto3"}, env)["import"]["cpu_ms"])
            for handler in HANDLERS:
                sample(handler, lambda_lifecycle.run({"handler": handler}, env)["import"]["cpu_ms"])
            cold = lambda_lifecycle.run({"handler": HANDLERS[0], "events": [availability]}, env)
            sample("api first", cold["import"]["cpu_ms"] + _answer_ms(cold["copies"][0], failures, 200))
            snap = lambda_lifecycle.run(
                {"handler": HANDLERS[0], "snapshot": True, "copies": 1, "events": [availability]}, env
            )
            sample("api prime", snap["prime"]["cpu_ms"])
            sample("api restored", _answer_ms(snap["copies"][0], failures, 200))
            snap = lambda_lifecycle.run(
                {"handler": HANDLERS[1], "snapshot": True, "copies": 1, "events": [reminder]}, env
            )
            sample("reminders prime", snap["prime"]["cpu_ms"])
            sample("reminders restored", _answer_ms(snap["copies"][0], failures, {"handled": "reminder"}))

        def median(name: str) -> float:
            return statistics.median(samples[name])

        return ColdStartResult(
            runs=runs,
            boto3_ms=median("boto3"),
            imports_ms={handler: median(handler) for handler in HANDLERS},
            api_first_answer_ms=median("api first"),
            api_prime_ms=median("api prime"),
            api_restored_answer_ms=median("api restored"),
            reminders_prime_ms=median("reminders prime"),
            reminders_restored_answer_ms=median("reminders restored"),
            failures=failures,
        )
    finally:
        services.close()
        aws.stop()
