"""Reminders function: the target of EventBridge Scheduler's one-time reminder schedules.

Sending lands with issue 4 (confirmations and reminders). Until then a schedule that fires is logged and
acknowledged: no message is sent, and the function says so rather than pretending.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

logger = Logger()


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    logger.warning("reminder sending is not implemented yet; nothing sent", extra={"keys": sorted(event)})
    return {"sent": False, "reason": "not-implemented"}
