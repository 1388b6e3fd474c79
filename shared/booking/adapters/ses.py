"""Email through Amazon SES v2: multipart (plain text + HTML) with optional attachments (calendar invites),
sent as a raw MIME message. Throttling and 5xx are retried with backoff by botocore's standard retry mode;
what still fails raises DeliveryFailed, saying whether a later attempt may succeed."""

from __future__ import annotations

from dataclasses import dataclass
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formataddr
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from booking.ports import Attachment, DeliveryFailed

# SESv2 errors that another try will not cure (everything else, e.g. TooManyRequests, LimitExceeded or an
# outage, may pass). https://docs.aws.amazon.com/ses/latest/APIReference-V2/API_SendEmail.html
PERMANENT = frozenset(
    {
        "MessageRejected",
        "MailFromDomainNotVerifiedException",
        "AccountSuspendedException",
        "SendingPausedException",
        "BadRequestException",
        "NotFoundException",
    }
)


def _one_line(value: str) -> str:
    """A header value from text people typed (a customer's or business's name): line breaks would be
    refused by the MIME library, or, if passed on, start a new header."""
    return " ".join(value.split())


@dataclass(frozen=True)
class SesEmailSender:
    client: Any  # boto3 sesv2 client, created with retries={"mode": "standard", "max_attempts": 5}
    sender: str  # the verified address mail is sent from

    def send(
        self,
        *,
        to: str,
        subject: str,
        text: str,
        html: str,
        from_name: str,
        reply_to: str | None = None,
        attachments: tuple[Attachment, ...] = (),
    ) -> str:
        message = EmailMessage()
        message["Subject"] = _one_line(subject)
        message["From"] = formataddr((_one_line(from_name), self.sender))
        message["To"] = to
        if reply_to:
            message["Reply-To"] = str(Address(addr_spec=reply_to))
        message.set_content(text)
        message.add_alternative(html, subtype="html")
        for attachment in attachments:
            maintype, _, subtype = attachment.content_type.partition("/")
            message.add_attachment(
                attachment.content,
                maintype=maintype,
                subtype=subtype,
                filename=attachment.filename,
                params=dict(attachment.params),
            )
        try:
            response = self.client.send_email(
                FromEmailAddress=self.sender,
                Destination={"ToAddresses": [to]},
                Content={"Raw": {"Data": message.as_bytes()}},
            )
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "")
            raise DeliveryFailed(f"SES refused the email: {code}", retryable=code not in PERMANENT) from error
        except BotoCoreError as error:  # timeouts, connection errors: worth another try later
            raise DeliveryFailed(f"SES did not answer: {type(error).__name__}") from error
        return str(response["MessageId"])
