"""Webhooks function: Stripe and video-provider callbacks (issue: payments).

Until signature verification lands, every webhook is refused with 501 problem+json: accepting an
unverified payment event would be worse than not accepting one (Stripe retries for days).
"""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

logger = Logger()


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    logger.warning("webhook refused: not implemented yet", extra={"path": event.get("path")})
    body = {
        "type": "urn:booking:problem:not-implemented",
        "title": "Not implemented",
        "status": 501,
        "detail": "webhooks are not accepted yet",
    }
    return {
        "statusCode": 501,
        "headers": {"Content-Type": "application/problem+json"},
        "body": json.dumps(body),
    }
