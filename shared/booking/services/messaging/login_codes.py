"""Sign-in codes: the one message that does not go through the pipeline, on purpose. A code is sent once,
as it is issued, and never recorded anywhere but the provider: a communications log entry would keep a
secret (or a trace of one) that is useless ten minutes later, and a retry would deliver a code after the
customer asked for another. So it is sent directly, and a failure is logged (without the address or the
code) and left: the customer asks again. It is emailed as every message is (`email_from`)."""

from __future__ import annotations

from aws_lambda_powertools import Logger

from booking.domain.catalogue import Business
from booking.ports import DeliveryFailed, EmailSender
from booking.rendering.messages import login_code_message
from booking.services.messaging.pipeline import email_from

logger = Logger(child=True)


class LoginCodeMailer:
    """The Notifier port for customer sign-in codes."""

    def __init__(self, email: EmailSender) -> None:
        self._email = email

    def send_login_code(self, business: Business, email: str, code: str, expires_minutes: int) -> None:
        try:
            email_from(self._email, business, email, login_code_message(business, code, expires_minutes))
        except DeliveryFailed:
            logger.warning("login code could not be sent", extra={"business": business.id})
