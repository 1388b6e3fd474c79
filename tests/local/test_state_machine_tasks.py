"""State machines run for real in the embedded AWS (moto's Step Functions execution), and their Lambda tasks
run handlers registered in this process (`local/moto/stepfunctions.py`, patch 8), as Step Functions sees Lambda:
the payload goes in, the return value comes out, an exception's class name is the error that Retry and
Catch match, retry pauses back off as declared (recorded here, not waited), and a function with no handler
fails the execution loudly."""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from local.aws import REGION, EmbeddedAws, LocalResources
from local.moto import register_function, set_retry_pause, unregister_function

Aws = tuple[EmbeddedAws, LocalResources]
ROLE_ARN = "arn:aws:iam::123456789012:role/StateMachineRole"
FINISH_TIMEOUT_SECONDS = 20


class Flaky(Exception):
    """What a provider adapter raises when the provider is briefly unavailable."""


def function_arn(name: str) -> str:
    return f"arn:aws:lambda:{REGION}:123456789012:function:{name}"


@pytest.fixture
def sfn(embedded_aws: Aws) -> Any:
    return embedded_aws[0].client("stepfunctions")


@pytest.fixture
def pauses() -> Iterator[list[float]]:
    """The retry pauses executions ask for, recorded instead of waited."""
    asked: list[float] = []
    previous = set_retry_pause(asked.append)
    yield asked
    set_retry_pause(previous)


@pytest.fixture
def register() -> Iterator[Callable[[Callable[[dict[str, Any], Any], Any]], str]]:
    """Registers a handler under a fresh function name; returns the function's ARN."""
    registered: list[str] = []

    def add(handler: Callable[[dict[str, Any], Any], Any]) -> str:
        arn = function_arn(f"test-{secrets.token_hex(4)}")
        register_function(arn, handler)
        registered.append(arn)
        return arn

    yield add
    for arn in registered:
        unregister_function(arn)


@pytest.fixture
def failures(register: Callable[[Callable[[dict[str, Any], Any], Any]], str]) -> tuple[str, list[Any]]:
    """A function that records what the Catch branch hands it."""
    seen: list[Any] = []

    def record(event: dict[str, Any], context: Any) -> dict[str, Any]:
        seen.append(event)
        return {"recorded": True}

    return register(record), seen


def definition(task_arn: str, failure_arn: str) -> dict[str, Any]:
    """A meeting-link-like machine: one lambda:invoke task with retries, and a Catch that records the
    failure through a second task (a plain function ARN, the other resource style)."""
    return {
        "StartAt": "CreateLink",
        "States": {
            "CreateLink": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke",
                "Parameters": {"FunctionName": task_arn, "Payload.$": "$"},
                "OutputPath": "$.Payload",
                "Retry": [
                    {"ErrorEquals": ["Flaky"], "IntervalSeconds": 2, "BackoffRate": 2, "MaxAttempts": 3}
                ],
                "Catch": [
                    {"ErrorEquals": ["States.ALL"], "ResultPath": "$.failure", "Next": "RecordFailure"}
                ],
                "End": True,
            },
            "RecordFailure": {"Type": "Task", "Resource": failure_arn, "End": True},
        },
    }


def create(sfn: Any, machine: dict[str, Any]) -> str:
    arn: str = sfn.create_state_machine(
        name=f"test-{secrets.token_hex(4)}", definition=json.dumps(machine), roleArn=ROLE_ARN
    )["stateMachineArn"]
    return arn


def finished(sfn: Any, execution_arn: str) -> dict[str, Any]:
    """Waits for the execution to end (it runs on moto's own thread); returns DescribeExecution's answer."""
    deadline = time.monotonic() + FINISH_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        described: dict[str, Any] = sfn.describe_execution(executionArn=execution_arn)
        if described["status"] != "RUNNING":
            return described
        time.sleep(0.02)
    pytest.fail(f"{execution_arn} was still running after {FINISH_TIMEOUT_SECONDS}s")


def run(sfn: Any, machine_arn: str, payload: dict[str, Any]) -> dict[str, Any]:
    started = sfn.start_execution(stateMachineArn=machine_arn, input=json.dumps(payload))
    return finished(sfn, started["executionArn"])


def history(sfn: Any, execution_arn: str) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = sfn.get_execution_history(executionArn=execution_arn)["events"]
    return events


def test_the_payload_reaches_the_handler_and_its_result_is_the_output(
    sfn: Any,
    register: Callable[[Callable[[dict[str, Any], Any], Any]], str],
    failures: tuple[str, list[Any]],
    pauses: list[float],
) -> None:
    calls: list[tuple[dict[str, Any], dict[str, Any]]] = []

    def create_link(event: dict[str, Any], context: Any) -> dict[str, Any]:
        calls.append(
            (
                event,
                {
                    "function_name": context.function_name,
                    "invoked_function_arn": context.invoked_function_arn,
                    "aws_request_id": context.aws_request_id,
                    "memory_limit_in_mb": context.memory_limit_in_mb,
                    "remaining": context.get_remaining_time_in_millis(),
                },
            )
        )
        return {"booking_id": event["booking_id"], "join_url": "https://meet.example/abc"}

    link_arn = register(create_link)
    machine = create(sfn, definition(link_arn, failures[0]))

    done = run(sfn, machine, {"booking_id": "b-1", "provider": "daily"})

    assert done["status"] == "SUCCEEDED"
    assert json.loads(done["output"]) == {"booking_id": "b-1", "join_url": "https://meet.example/abc"}
    [(event, context)] = calls
    assert event == {"booking_id": "b-1", "provider": "daily"}
    assert context["function_name"] == link_arn.rsplit(":", 1)[1]
    assert context["invoked_function_arn"] == link_arn
    assert context["aws_request_id"] and context["memory_limit_in_mb"] == 512
    assert 0 < context["remaining"] <= 60_000
    # lambda:invoke wraps the payload as Lambda's Invoke answers it (OutputPath then took the Payload)
    [succeeded] = [e for e in history(sfn, done["executionArn"]) if e["type"] == "TaskSucceeded"]
    wrapped = json.loads(succeeded["taskSucceededEventDetails"]["output"])
    assert wrapped["StatusCode"] == 200 and wrapped["Payload"]["join_url"] == "https://meet.example/abc"
    assert pauses == [] and failures[1] == []


def test_a_flaky_handler_is_retried_with_backing_off_pauses_until_it_succeeds(
    sfn: Any,
    register: Callable[[Callable[[dict[str, Any], Any], Any]], str],
    failures: tuple[str, list[Any]],
    pauses: list[float],
) -> None:
    attempts: list[dict[str, Any]] = []

    def create_link(event: dict[str, Any], context: Any) -> dict[str, Any]:
        attempts.append(event)
        if len(attempts) <= 2:
            raise Flaky("the provider answered 503")
        return {"join_url": "https://meet.example/xyz"}

    machine = create(sfn, definition(register(create_link), failures[0]))
    started = time.monotonic()

    done = run(sfn, machine, {"booking_id": "b-2"})

    assert done["status"] == "SUCCEEDED"
    assert json.loads(done["output"]) == {"join_url": "https://meet.example/xyz"}
    assert attempts == [{"booking_id": "b-2"}] * 3  # each try gets the same payload
    assert pauses == [2, 4]  # IntervalSeconds 2, then x BackoffRate 2
    assert time.monotonic() - started < 2  # recorded, not waited
    assert failures[1] == []


def test_a_handler_that_keeps_failing_ends_in_the_catch_branch_with_its_error_and_message(
    sfn: Any,
    register: Callable[[Callable[[dict[str, Any], Any], Any]], str],
    failures: tuple[str, list[Any]],
    pauses: list[float],
) -> None:
    attempts: list[int] = []

    def create_link(event: dict[str, Any], context: Any) -> dict[str, Any]:
        attempts.append(1)
        raise Flaky("the provider answered 503 for booking b-3")

    machine = create(sfn, definition(register(create_link), failures[0]))

    done = run(sfn, machine, {"booking_id": "b-3"})

    assert done["status"] == "SUCCEEDED"  # the Catch branch handled it
    assert len(attempts) == 4 and pauses == [2, 4, 8]  # the first try and MaxAttempts 3 retries
    [recorded] = failures[1]
    assert recorded["booking_id"] == "b-3"
    assert recorded["failure"]["Error"] == "Flaky"
    cause = json.loads(recorded["failure"]["Cause"])  # Lambda's error payload, as on AWS
    assert cause["errorType"] == "Flaky"
    assert cause["errorMessage"] == "the provider answered 503 for booking b-3"
    assert any("create_link" in line for line in cause["stackTrace"])


def test_an_error_no_retrier_names_is_caught_at_once(
    sfn: Any,
    register: Callable[[Callable[[dict[str, Any], Any], Any]], str],
    failures: tuple[str, list[Any]],
    pauses: list[float],
) -> None:
    def create_link(event: dict[str, Any], context: Any) -> dict[str, Any]:
        raise ValueError("the business has no credentials for this provider")

    machine = create(sfn, definition(register(create_link), failures[0]))

    done = run(sfn, machine, {"booking_id": "b-4"})

    assert done["status"] == "SUCCEEDED"
    assert pauses == []  # Retry names Flaky only: the class name is matched exactly
    [recorded] = failures[1]
    assert recorded["failure"]["Error"] == "ValueError"


@pytest.mark.parametrize("style", ["lambda:invoke", "function ARN"])
def test_a_function_without_a_handler_fails_the_execution_naming_it(
    sfn: Any, pauses: list[float], style: str
) -> None:
    missing = function_arn(f"test-missing-{secrets.token_hex(4)}")
    task: dict[str, Any] = (
        {
            "Resource": "arn:aws:states:::lambda:invoke",
            "Parameters": {"FunctionName": missing, "Payload.$": "$"},
        }
        if style == "lambda:invoke"
        else {"Resource": missing}
    )
    machine = create(sfn, {"StartAt": "Call", "States": {"Call": {"Type": "Task", **task, "End": True}}})

    done = run(sfn, machine, {"booking_id": "b-5"})

    assert done["status"] == "FAILED"
    assert f"Function not found: {missing}" in done["cause"]
    if style == "lambda:invoke":
        assert done["error"] == "Lambda.ResourceNotFoundException"
    failed = [e for e in history(sfn, done["executionArn"]) if e["type"].endswith("Failed")]
    assert any(missing in json.dumps(e, default=str) for e in failed)


def test_executions_started_without_a_name_each_run(
    sfn: Any,
    register: Callable[[Callable[[dict[str, Any], Any], Any]], str],
    failures: tuple[str, list[Any]],
) -> None:
    machine = create(sfn, definition(register(lambda event, context: event), failures[0]))

    first = run(sfn, machine, {"n": 1})
    second = run(sfn, machine, {"n": 2})

    assert first["executionArn"] != second["executionArn"]
    assert [json.loads(d["output"]) for d in (first, second)] == [{"n": 1}, {"n": 2}]
