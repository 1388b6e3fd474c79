"""SMS through Amazon SNS (direct publish to a phone number, transactional)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from booking.ports import DeliveryFailed

# SNS errors that another try will not cure (throttling and internal errors may pass).
# https://docs.aws.amazon.com/sns/latest/api/API_Publish.html
PERMANENT = frozenset(
    {"InvalidParameter", "InvalidParameterValue", "AuthorizationError", "OptedOut", "EndpointDisabled"}
)


@dataclass(frozen=True)
class SnsSmsSender:
    client: Any  # boto3 sns client, created with standard retries

    def send(self, *, to: str, text: str, sender_id: str | None = None) -> str:
        attributes: dict[str, Any] = {
            "AWS.SNS.SMS.SMSType": {"DataType": "String", "StringValue": "Transactional"},
        }
        if sender_id:
            attributes["AWS.SNS.SMS.SenderID"] = {"DataType": "String", "StringValue": sender_id}
        try:
            response = self.client.publish(PhoneNumber=to, Message=text, MessageAttributes=attributes)
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "")
            raise DeliveryFailed(f"SNS refused the SMS: {code}", retryable=code not in PERMANENT) from error
        except BotoCoreError as error:  # timeouts, connection errors: worth another try later
            raise DeliveryFailed(f"SNS did not answer: {type(error).__name__}") from error
        return str(response["MessageId"])
