"""Meeting-links function: the tasks of the meeting-links state machine
(infra/statemachines/meeting_links.asl.json).

`provision` makes the provider's meeting match the booking as it is now; a provider error is raised
under its own class name (ProviderUnavailable, ProviderRateLimited, CredentialsRejected, MeetingRefused,
CredentialsMissing), which is what the state machine's Retry and Catch match on. `give_up` runs from the
Catch: the booking keeps its time and shows why it has no link.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger

from booking.adapters import snapstart

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

    from booking.services.meetings import MeetingProvisioning

logger = Logger()


def _from_environment() -> MeetingProvisioning:
    from meeting_links.container import build_provisioning  # noqa: PLC0415 - first use only

    return build_provisioning()


# The use case, one per environment (built on first use: this function primes nothing for a snapshot).
provisioning: snapstart.PerEnvironment[MeetingProvisioning] = snapstart.PerEnvironment(_from_environment)


def install(use_case: MeetingProvisioning) -> None:
    """The local stack installs a use case built on its dev clock; on Lambda it is built on first use."""
    provisioning.install(use_case)


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    tenant_id, booking_id = str(event["tenant_id"]), str(event["booking_id"])
    logger.append_keys(booking_id=booking_id)
    action = event.get("action", "provision")
    if action == "give_up":
        outcome = provisioning().give_up(
            tenant_id, booking_id, str(event.get("error", "")), str(event.get("cause", ""))
        )
    else:
        outcome = provisioning().provision(tenant_id, booking_id)
    logger.info("meeting task done", extra={"action": action, "outcome": outcome})
    return {"booking_id": booking_id, "outcome": outcome}
