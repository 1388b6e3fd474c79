"""Step Functions: patch 8, executions run, and their Lambda tasks run our handlers in process.

moto only runs state machines when its `execute_state_machine` config is on (`apply` turns it on), and it
invokes a Lambda task (`arn:aws:states:::lambda:invoke` or a plain function ARN) through its own Lambda,
which needs Docker. Both resource styles go through `lambda_eval_utils._invoke_lambda_function`, replaced
here by a call to the handler registered with `register_function`, with AWS's semantics: the return value
is the payload, an exception is FunctionError "Unhandled" with {"errorType": class name, ...} so Retry and
Catch match on the class name, an unknown function is ResourceNotFoundException. Retry pauses go through
`set_retry_pause` (tests record them instead of waiting). An execution started without a name gets a UUID,
as on AWS (moto named every one "None", so the second one was refused)."""

from __future__ import annotations

import json
import logging
import time
import traceback
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from local.moto.installing import ORIGINALS

logger = logging.getLogger(__name__)

LambdaHandler = Callable[[Any, Any], Any]  # handler(event, context), as Lambda's Python runtime calls it
RetryPause = Callable[[float], None]


@dataclass
class LambdaContext:
    """What a handler reads of its Lambda context (what Powertools reads, and the rest of the Python
    runtime's attributes)."""

    function_name: str
    invoked_function_arn: str
    memory_limit_in_mb: int = 512
    timeout_seconds: float = 60.0
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    function_version: str = "$LATEST"
    log_stream_name: str = "local"
    _started: float = field(default_factory=time.monotonic, repr=False)

    @property
    def log_group_name(self) -> str:
        return f"/aws/lambda/{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._started + self.timeout_seconds - time.monotonic()) * 1000))


@dataclass(frozen=True)
class _Function:
    handler: LambdaHandler
    memory_limit_in_mb: int
    timeout_seconds: float


_functions: dict[str, _Function] = {}
_retry_pause: RetryPause = time.sleep  # AWS waits for real, and so does the local stack


def function_name_of(function: str) -> str:
    """The function's name from what Lambda accepts as FunctionName: a name, a partial or full ARN, each
    with or without a version or alias."""
    if ":function:" in function:
        function = function.split(":function:", 1)[1]
    return function.split(":", 1)[0]


def register_function(
    function: str, handler: LambdaHandler, *, memory_limit_in_mb: int = 512, timeout_seconds: float = 60.0
) -> None:
    """State machine tasks that invoke `function` (a name or an ARN; any version or alias of it) call
    `handler(event, context)` in this process. `timeout_seconds` only sets what the context reports as
    remaining time: a handler is not stopped when it runs over."""
    _functions[function_name_of(function)] = _Function(handler, memory_limit_in_mb, timeout_seconds)


def unregister_function(function: str) -> None:
    _functions.pop(function_name_of(function), None)


def set_retry_pause(pause: RetryPause | None) -> RetryPause:
    """Every pause a state's Retry asks for (IntervalSeconds x BackoffRate^n, capped by MaxDelaySeconds,
    jittered when JitterStrategy is FULL) is `pause(seconds)`, on the execution's thread; None restores
    real waiting. Returns the previous pause, to put it back."""
    global _retry_pause  # noqa: PLW0603 - one hook per process, as moto's executions are
    previous = _retry_pause
    _retry_pause = pause or time.sleep
    return previous


def _lambda_error(status: int, code: str, message: str) -> Exception:
    """What boto3's Lambda client raises for an error answer; moto's tasks turn it into Lambda.<code>."""
    from botocore.exceptions import ClientError

    metadata: Any = {"HTTPStatusCode": status, "RequestId": str(uuid.uuid4())}
    return ClientError({"Error": {"Code": code, "Message": message}, "ResponseMetadata": metadata}, "Invoke")


def _invoke_lambda_function(
    parameters: dict[str, Any], region: str, state_credentials: Any
) -> dict[str, Any]:
    """Replaces moto's invoke of a Lambda task (both resource styles): the registered handler, in process,
    answered as Lambda's Invoke answers (the payload parsed, as moto's does)."""
    from moto.core.models import DEFAULT_ACCOUNT_ID

    requested = str(parameters.get("FunctionName", ""))
    name = function_name_of(requested)
    if requested.startswith("arn:"):
        arn = requested
    elif ":function:" in requested:
        arn = f"arn:aws:lambda:{region}:{requested}"
    else:
        arn = f"arn:aws:lambda:{region}:{DEFAULT_ACCOUNT_ID}:function:{requested}"
    function = _functions.get(name)
    if function is None:
        logger.error("a state machine invoked %s, which has no handler registered in the local stack", arn)
        raise _lambda_error(
            404,
            "ResourceNotFoundException",
            f"Function not found: {arn} (no handler is registered for it: local.moto.register_function)",
        )
    payload = parameters.get("Payload")
    event = json.loads(payload) if payload else {}
    context = LambdaContext(name, arn, function.memory_limit_in_mb, function.timeout_seconds)
    response: dict[str, Any] = {"StatusCode": 200, "ExecutedVersion": "$LATEST"}
    try:
        result = function.handler(event, context)
    except Exception as error:
        # As the Python runtime reports an unhandled exception: Step Functions' error name is errorType.
        logger.warning("%s raised %s (a Step Functions task)", name, type(error).__name__)
        stack = traceback.format_list(traceback.extract_tb(error.__traceback__)[1:])  # from the handler on
        response["FunctionError"] = "Unhandled"
        response["Payload"] = {
            "errorMessage": str(error),
            "errorType": type(error).__name__,
            "requestId": context.aws_request_id,
            "stackTrace": stack,
        }
        return response
    try:
        response["Payload"] = json.loads(json.dumps(result))  # the runtime sends the result as JSON
    except (TypeError, ValueError) as error:
        response["FunctionError"] = "Unhandled"
        response["Payload"] = {
            "errorMessage": f"Unable to marshal response: {error}",
            "errorType": "Runtime.MarshalError",
            "requestId": context.aws_request_id,
            "stackTrace": [],
        }
    return response


def _retrier_eval_body(self: Any, env: Any) -> None:
    """moto's `RetrierDecl._eval_body`, with the pause through `_retry_pause` instead of `time.sleep`."""
    from moto.stepfunctions.parser.asl.component.common.retry.max_attempts_decl import MaxAttemptsOutcome
    from moto.stepfunctions.parser.asl.component.common.retry.retrier_outcome import RetrierOutcome

    self.error_equals.eval(env)
    if not env.stack.pop():
        env.stack.append(RetrierOutcome.Skipped)
        return
    self.max_attempts.eval(env=env)
    if env.stack.pop() == MaxAttemptsOutcome.EXHAUSTED:
        env.stack.append(RetrierOutcome.Failed)
        return
    # Each leaves the interval so far on the stack: base, x backoff, capped, jittered.
    self.interval_seconds.eval(env=env)
    self.backoff_rate.eval(env=env)
    self.max_delay_seconds.eval(env=env)
    self.jitter_strategy.eval(env=env)
    _retry_pause(float(env.stack.pop()))
    env.stack.append(RetrierOutcome.Executed)


def _start_execution(
    self: Any,
    state_machine_arn: str,
    name: str | None = None,
    execution_input: str | None = None,
    trace_header: str | None = None,
) -> Any:
    # AWS names an unnamed execution with a UUID; moto's parser backend named them all "None".
    return ORIGINALS["sfn.start_execution"](
        self, state_machine_arn, name or str(uuid.uuid4()), execution_input, trace_header
    )


def apply() -> None:
    from moto.core.config import default_user_config

    # State machines run (moto reads this per request, so it must be on before the first one is made:
    # with it off, moto keeps state machines in another backend that never runs them).
    default_user_config["stepfunctions"] = {"execute_state_machine": True}
    from moto.stepfunctions.parser.asl.component.common.retry.retrier_decl import RetrierDecl
    from moto.stepfunctions.parser.asl.component.state.exec.state_task import lambda_eval_utils
    from moto.stepfunctions.parser.models import StepFunctionsParserBackend

    ORIGINALS["sfn.invoke_lambda_function"] = lambda_eval_utils._invoke_lambda_function
    ORIGINALS["sfn.retrier_eval_body"] = RetrierDecl._eval_body
    ORIGINALS["sfn.start_execution"] = StepFunctionsParserBackend.start_execution
    lambda_eval_utils._invoke_lambda_function = _invoke_lambda_function
    RetrierDecl._eval_body = _retrier_eval_body  # type: ignore[method-assign]
    StepFunctionsParserBackend.start_execution = _start_execution  # type: ignore[method-assign]
