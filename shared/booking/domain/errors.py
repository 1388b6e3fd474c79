"""Domain errors. Each has a stable kind; the HTTP edge maps kinds to problem+json types and statuses."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FieldProblem:
    """One invalid field: where it is (e.g. ("body", "shifts", 0, "end")) and what is wrong with it."""

    loc: tuple[str | int, ...]
    msg: str


class DomainError(Exception):
    """Base of every error a use case raises on purpose."""

    kind: str = "domain-error"
    title: str = "Request could not be completed"

    def __init__(self, detail: str, problems: list[FieldProblem] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.problems = problems or []  # the fields (or items) at fault, when there are some


class NotFound(DomainError):
    kind = "not-found"
    title = "Resource not found"


class Conflict(DomainError):
    kind = "conflict"
    title = "Conflict with the current state"


class Forbidden(DomainError):
    kind = "forbidden"
    title = "Not allowed for your role"


class Unauthorized(DomainError):
    kind = "unauthorized"
    title = "Authentication required"


class InvalidInput(DomainError):
    """Input that is well-formed but breaks a rule (an unknown referenced id, overlapping shifts...)."""

    kind = "validation-error"
    title = "Request validation failed"


class SlotTaken(Conflict):
    """The time was free when checked, and someone else claimed it first."""

    kind = "slot-taken"
    title = "That time was just taken"


class CustomerBlocked(Forbidden):
    kind = "customer-blocked"
    title = "Online booking is not available for this customer"


class TooLate(Conflict):
    kind = "too-late"
    title = "Too late to change this booking online"


class IdempotencyKeyReused(DomainError):
    kind = "idempotency-key-reused"
    title = "Idempotency-Key already used for a different request"


class RequestInProgress(Conflict):
    kind = "request-in-progress"
    title = "A request with this Idempotency-Key is still being processed"


class TooManyRequests(DomainError):
    """A limit on how often something may be asked for was reached; `retry_after` seconds until it lifts
    (None: a limit on how many at once, with no window to wait for)."""

    kind = "too-many-requests"
    title = "Too many requests"

    def __init__(self, detail: str, retry_after: int | None) -> None:
        super().__init__(detail)
        self.retry_after = retry_after


class ProviderDown(DomainError):
    """An outside provider needed to answer the request is failing now; trying again later may work."""

    kind = "provider-unavailable"
    title = "An outside provider is unavailable"


class Unavailable(DomainError):
    """The request could not be finished in the time the function has (a change kept losing races, an
    outside call would not fit): nothing was changed; `retry_after` seconds is a good moment to retry."""

    kind = "service-unavailable"
    title = "Please try again in a moment"

    def __init__(self, detail: str, retry_after: int) -> None:
        super().__init__(detail)
        self.retry_after = retry_after
