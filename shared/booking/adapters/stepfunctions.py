"""Starting the meeting-links state machine for a booking version (the MeetingProvisioner port)."""

from __future__ import annotations

import json
from typing import Any

from botocore.exceptions import ClientError


def execution_name(booking_id: str, version: int) -> str:
    """One execution per booking version: starting it again (a redelivered stream record) is a no-op."""
    return f"{booking_id}-v{version}"


class StepFunctionsProvisioner:
    def __init__(self, client: Any, state_machine_arn: str) -> None:
        self._client = client
        self._arn = state_machine_arn

    def start(self, tenant_id: str, booking_id: str, version: int) -> None:
        payload = {"tenant_id": tenant_id, "booking_id": booking_id, "version": version}
        try:
            self._client.start_execution(
                stateMachineArn=self._arn,
                name=execution_name(booking_id, version),
                input=json.dumps(payload, sort_keys=True),
            )
        except ClientError as error:
            # Same name and input within 90 days: AWS answers with the running execution; a finished
            # one (or moto) answers ExecutionAlreadyExists. Either way it has been started once.
            if error.response["Error"]["Code"] != "ExecutionAlreadyExists":
                raise
