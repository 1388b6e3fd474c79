"""Meeting-links function: provisions video links for online appointments (issue: online appointments).

Until that work lands, an invocation is logged and answered with an explicit failure, so a state machine
calling it retries or escalates instead of believing a link exists.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

logger = Logger()


class MeetingLinksNotAvailable(RuntimeError):
    pass


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    raise MeetingLinksNotAvailable("meeting-link provisioning is not implemented yet")
