"""The functions' settings: one model, read once from the environment when a function builds its services
(booking/composition.py), validated, with the names infra/template.yaml sets.

`Settings` is what every function reads; the parts below it are read by the functions that need them, and
each function's settings are `Settings` plus its parts (`BookingApiSettings`, `RemindersSettings`,
`MeetingLinksSettings`, `WebhooksSettings`), so a function never requires a name it does not use.
`from_environment()` refuses a missing or malformed setting with a `SettingsError` naming every one at
fault: a deployment that forgot a name fails at start, before any request or message, and says which.

A name is checked for presence; a value with a form (an email address, an http(s) URL, JSON, a secret's
length) for its form too. A few names are set only outside AWS (`LOCAL_ONLY`: the local stack and the tests
set them; the template never does): the app secret in plain text, and where the embedded AWS, localstripe
and the meeting providers' fakes listen.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import Annotated, ClassVar, Self, TypeVar
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    EmailStr,
    Field,
    SecretStr,
    TypeAdapter,
    ValidationError,
    ValidationInfo,
    field_validator,
)

# Names only the local stack and the tests set (the template never does).
LOCAL_ONLY = frozenset({"APP_SECRET", "AWS_ENDPOINT_URL", "STRIPE_API_BASE", "MEETING_PROVIDER_ENDPOINTS"})
APP_SECRET_MIN_LENGTH = 32

_EMAIL: TypeAdapter[str] = TypeAdapter(EmailStr)


class SettingsError(ValueError):
    """A function's settings are missing or malformed; `names` are the environment names at fault."""

    def __init__(self, function: str, problems: list[tuple[tuple[str, ...], str]]) -> None:
        self.function = function
        self.names = tuple(name for names, _ in problems for name in names)
        listed = "; ".join(f"{' or '.join(names)} {problem}" for names, problem in problems)
        super().__init__(f"the {function} function's settings: {listed}")


class _Refused(ValueError):
    """A problem of several names together."""

    def __init__(self, names: tuple[str, ...], problem: str) -> None:
        super().__init__(problem)
        self.names = names
        self.problem = problem


def _blank_is_unset(value: object) -> object:
    """An optional name set to nothing is not set (`SCHEDULER_DLQ_ARN=`, as `or None` read it before)."""
    return None if value == "" else value


def _http_url(value: str) -> str:
    """An absolute http(s) URL, kept exactly as written (it is joined with paths as it is)."""
    parts = urlsplit(value)
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        raise ValueError("is not an http(s) URL")
    return value


def _email(value: str) -> str:
    """An email address (email-validator), kept exactly as written."""
    try:
        _EMAIL.validate_python(value)
    except ValidationError:
        raise ValueError("is not an email address") from None
    return value


def _json_object(value: object) -> object:
    if value is None or value == "":
        return {}
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            raise ValueError("is not JSON") from None
    return value


HttpUrl = Annotated[str, AfterValidator(_http_url)]
EmailAddress = Annotated[str, AfterValidator(_email)]
Unset = BeforeValidator(_blank_is_unset)


class _Part(BaseModel):
    """What every part shares: read by the environment names (the aliases), frozen, other names ignored."""

    model_config = ConfigDict(frozen=True, extra="ignore", populate_by_name=True)

    function: ClassVar[str] = "shared"  # the function package (functions/<function>/) these belong to

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> Self:
        """The settings from `environ` (the process's environment), or a SettingsError naming each name that
        is missing or malformed."""
        values = dict(os.environ if environ is None else environ)
        try:
            return cls.model_validate(values)
        except ValidationError as error:
            raise SettingsError(cls.function, _problems(error)) from None

    @classmethod
    def names(cls) -> frozenset[str]:
        """Every environment name these settings read."""
        return frozenset(field.alias or name for name, field in cls.model_fields.items())


def _problems(error: ValidationError) -> list[tuple[tuple[str, ...], str]]:
    problems: list[tuple[tuple[str, ...], str]] = []
    for item in error.errors(include_url=False, include_input=False):
        refused = (item.get("ctx") or {}).get("error")
        if isinstance(refused, _Refused):
            problems.append((refused.names, refused.problem))
            continue
        name, *inside = item["loc"]
        if item["type"] == "missing":
            problem = "is not set"
        else:
            message = str(item["msg"])
            if message.startswith("Value error, "):  # ours: "is not an http(s) URL"
                problem = message.removeprefix("Value error, ")
            else:  # pydantic's: "Input should be a valid dictionary"
                problem = f"is malformed: {message[:1].lower()}{message[1:]}"
            if inside:  # a JSON value's part
                problem = f"{problem} (at {'.'.join(str(p) for p in inside)})"
        problems.append(((str(name),), problem))
    return problems


class Settings(_Part):
    """What every function reads."""

    table_name: str = Field(alias="TABLE_NAME", description="the booking table")
    credentials_secret_prefix: str = Field(
        alias="CREDENTIALS_SECRET_PREFIX",
        description="where each business's provider credentials are kept in Secrets Manager",
    )
    aws_endpoint_url: Annotated[HttpUrl | None, Unset] = Field(
        None,
        alias="AWS_ENDPOINT_URL",
        description="local only: the embedded AWS (boto3 reads it itself; checked here)",
    )


class AppSecret(_Part):
    """The application secret (signs manage links, customer sessions, login-code hashes): the name of its
    Parameter Store SecureString on AWS, or the value itself locally."""

    app_secret_parameter: Annotated[str | None, Unset] = Field(None, alias="APP_SECRET_PARAMETER")
    app_secret: Annotated[SecretStr | None, Unset] = Field(None, alias="APP_SECRET", validate_default=True)

    @field_validator("app_secret")
    @classmethod
    def _one_of_them(cls, value: SecretStr | None, info: ValidationInfo) -> SecretStr | None:
        """Checked as a field (not the model, whose checks wait for every field), so that it is named with
        every other setting at fault."""
        if info.data.get("app_secret_parameter") is None and (
            value is None or len(value.get_secret_value()) < APP_SECRET_MIN_LENGTH
        ):
            raise _Refused(
                ("APP_SECRET_PARAMETER", "APP_SECRET"),
                f"is not set: set APP_SECRET_PARAMETER (AWS) or APP_SECRET (local, "
                f"{APP_SECRET_MIN_LENGTH}+ characters)",
            )
        return value


class Messaging(_Part):
    """Where messages come from and point to."""

    public_base_url: HttpUrl = Field(
        alias="PUBLIC_BASE_URL", description="where customers open manage links, the portal and the staff app"
    )
    sender_email: EmailAddress = Field(alias="SENDER_EMAIL", description="the SES address email is sent from")


class Timers(_Part):
    """EventBridge Scheduler's one-time schedules (reminders, message retries, payment timers, request
    escalations), each invoking the reminders function."""

    schedule_group_name: str = Field(alias="SCHEDULE_GROUP_NAME")
    reminders_function_arn: str = Field(alias="REMINDERS_FUNCTION_ARN", description="the schedules' target")
    scheduler_role_arn: str = Field(alias="SCHEDULER_ROLE_ARN", description="lets the scheduler invoke it")
    scheduler_dlq_arn: Annotated[str | None, Unset] = Field(
        None, alias="SCHEDULER_DLQ_ARN", description="where a timer that keeps failing ends up"
    )


class ApiResources(_Part):
    """What only the booking API uses."""

    idempotency_table_name: str = Field(alias="IDEMPOTENCY_TABLE_NAME")
    user_pool_client_id: str = Field(
        alias="USER_POOL_CLIENT_ID", description="the only app client whose ID tokens the API accepts"
    )
    photos_bucket_name: str = Field(alias="PHOTOS_BUCKET_NAME", description="booking requests' photos")


class StripeApi(_Part):
    """Stripe: its own API, or localstripe (local only)."""

    stripe_api_base: Annotated[HttpUrl | None, Unset] = Field(None, alias="STRIPE_API_BASE")


class MeetingProviderEndpoints(_Part):
    """The meeting providers: their own endpoints, or the local fakes' (local only), as JSON such as
    {"zoom": {"api_base": "http://127.0.0.1:9101", "oauth_base": "http://127.0.0.1:9101"}}."""

    meeting_provider_endpoints: Annotated[dict[str, dict[str, str]], BeforeValidator(_json_object)] = Field(
        default_factory=dict, alias="MEETING_PROVIDER_ENDPOINTS"
    )


class MeetingLinksStateMachine(_Part):
    """The meeting-links state machine, started for the online bookings that need a link."""

    meeting_links_state_machine_arn: str = Field(alias="MEETING_LINKS_STATE_MACHINE_ARN")


class BookingApiSettings(ApiResources, Messaging, AppSecret, StripeApi, MeetingProviderEndpoints, Settings):
    function: ClassVar[str] = "booking_api"


class RemindersSettings(Messaging, AppSecret, Timers, MeetingLinksStateMachine, StripeApi, Settings):
    function: ClassVar[str] = "reminders"


class MeetingLinksSettings(MeetingProviderEndpoints, Settings):
    function: ClassVar[str] = "meeting_links"


class WebhooksSettings(StripeApi, Settings):
    function: ClassVar[str] = "webhooks"


FUNCTIONS: tuple[type[Settings], ...] = (
    BookingApiSettings,
    RemindersSettings,
    MeetingLinksSettings,
    WebhooksSettings,
)

PartT = TypeVar("PartT", bound=_Part)


def part(settings: Settings, kind: type[PartT]) -> PartT:
    """`settings` as the part `kind` of them, or a TypeError saying this function does not read it."""
    if not isinstance(settings, kind):
        names = ", ".join(sorted(kind.names()))
        raise TypeError(f"the {settings.function} function's settings do not include {names}")
    return settings
