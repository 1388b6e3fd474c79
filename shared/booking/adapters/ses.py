"""Email through Amazon SES v2. (Confirmations and reminders grow out of this with their own templates.)"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger

from booking.domain.catalogue import Business

logger = Logger(child=True)


class SesNotifier:
    def __init__(self, client: Any, sender: str) -> None:
        self._client = client
        self._sender = sender

    def send_login_code(self, business: Business, email: str, code: str, expires_minutes: int) -> None:
        text = (
            f"Your sign-in code for {business.name} is {code}.\n\n"
            f"It expires in {expires_minutes} minutes. If you did not ask for it, ignore this email."
        )
        self._client.send_email(
            FromEmailAddress=f"{business.name} <{self._sender}>",
            Destination={"ToAddresses": [email]},
            Content={
                "Simple": {
                    "Subject": {"Data": f"{code} is your {business.name} sign-in code"},
                    "Body": {"Text": {"Data": text}},
                }
            },
        )
        logger.info("login code sent", extra={"business": business.id})
