"""booking/settings.py: each function's settings, read once from the environment, and refused by name when
one is missing or malformed."""

from __future__ import annotations

import pytest

from booking.settings import (
    FUNCTIONS,
    BookingApiSettings,
    MeetingLinksSettings,
    RemindersSettings,
    Settings,
    SettingsError,
    WebhooksSettings,
)

SECRET = "s3cret-" * 6  # 42 characters

# What a deployment sets (infra/template.yaml), and what the local stack adds.
ENVIRONMENT = {
    "TABLE_NAME": "BookingTable",
    "IDEMPOTENCY_TABLE_NAME": "IdempotencyTable",
    "PUBLIC_BASE_URL": "https://booking.example.com",
    "SENDER_EMAIL": "no-reply@example.com",
    "APP_SECRET_PARAMETER": "/booking/app-secret",
    "USER_POOL_CLIENT_ID": "client",
    "CREDENTIALS_SECRET_PREFIX": "booking/stack/tenants/",
    "PHOTOS_BUCKET_NAME": "photos",
    "SCHEDULE_GROUP_NAME": "reminders",
    "REMINDERS_FUNCTION_ARN": "arn:aws:lambda:eu-west-1:123456789012:function:stack-reminders:live",
    "SCHEDULER_ROLE_ARN": "arn:aws:iam::123456789012:role/SchedulerInvokeRole",
    "SCHEDULER_DLQ_ARN": "arn:aws:sqs:eu-west-1:123456789012:timers-dlq",
    "MEETING_LINKS_STATE_MACHINE_ARN": "arn:aws:states:eu-west-1:123456789012:stateMachine:links",
    "POWERTOOLS_SERVICE_NAME": "booking",
}
LOCAL = {
    "APP_SECRET": SECRET,
    "AWS_ENDPOINT_URL": "http://127.0.0.1:5000",
    "STRIPE_API_BASE": "http://127.0.0.1:8420",
    "MEETING_PROVIDER_ENDPOINTS": '{"zoom": {"api_base": "http://127.0.0.1:9101"}}',
}


def without(environment: dict[str, str], *names: str) -> dict[str, str]:
    return {k: v for k, v in environment.items() if k not in names}


def refusal(kind: type[Settings], environment: dict[str, str]) -> SettingsError:
    with pytest.raises(SettingsError) as refused:
        kind.from_environment(environment)
    return refused.value


def test_the_settings_are_read_from_the_environment_typed() -> None:
    reminders = RemindersSettings.from_environment(ENVIRONMENT)
    assert reminders.table_name == "BookingTable"
    assert reminders.public_base_url == "https://booking.example.com"  # as written: no slash added
    assert reminders.scheduler_dlq_arn == ENVIRONMENT["SCHEDULER_DLQ_ARN"]
    assert reminders.stripe_api_base is None  # Stripe's own API

    api = BookingApiSettings.from_environment({**ENVIRONMENT, **LOCAL})
    assert api.meeting_provider_endpoints == {"zoom": {"api_base": "http://127.0.0.1:9101"}}
    assert api.stripe_api_base == "http://127.0.0.1:8420"
    assert api.app_secret is not None and api.app_secret.get_secret_value() == SECRET
    assert BookingApiSettings.from_environment(ENVIRONMENT).meeting_provider_endpoints == {}


def test_a_name_set_to_nothing_is_not_set_where_it_may_be_left_out() -> None:
    blank = {"SCHEDULER_DLQ_ARN": "", "STRIPE_API_BASE": "", "AWS_ENDPOINT_URL": ""}
    reminders = RemindersSettings.from_environment({**ENVIRONMENT, **blank})
    assert (reminders.scheduler_dlq_arn, reminders.stripe_api_base, reminders.aws_endpoint_url) == (None,) * 3
    assert (
        MeetingLinksSettings.from_environment(
            {**ENVIRONMENT, "MEETING_PROVIDER_ENDPOINTS": ""}
        ).meeting_provider_endpoints
        == {}
    )


@pytest.mark.parametrize(
    ("kind", "name"),
    [
        (kind, field.alias)
        for kind in FUNCTIONS
        for field in kind.model_fields.values()
        if field.is_required() and field.alias
    ],
)
def test_a_missing_setting_is_refused_naming_it(kind: type[Settings], name: str) -> None:
    refused = refusal(kind, without(ENVIRONMENT, name))
    assert refused.names == (name,)
    assert f"{name} is not set" in str(refused)
    assert refused.function == kind.function


def test_every_missing_setting_is_named_at_once() -> None:
    missing = ("TABLE_NAME", "SENDER_EMAIL", "SCHEDULE_GROUP_NAME", "APP_SECRET_PARAMETER")
    refused = refusal(RemindersSettings, without(ENVIRONMENT, *missing))
    assert set(refused.names) == {*missing, "APP_SECRET"}


@pytest.mark.parametrize("kind", [BookingApiSettings, RemindersSettings])
def test_a_function_that_signs_needs_the_secret_from_parameter_store_or_a_long_enough_local_one(
    kind: type[Settings],
) -> None:
    no_parameter = without(ENVIRONMENT, "APP_SECRET_PARAMETER")
    for local in ({}, {"APP_SECRET": "too-short"}, {"APP_SECRET": ""}):
        refused = refusal(kind, {**no_parameter, **local})
        assert refused.names == ("APP_SECRET_PARAMETER", "APP_SECRET")
        assert "too-short" not in str(refused)  # a secret is never shown, even a bad one
    local_only = kind.from_environment({**no_parameter, "APP_SECRET": SECRET})
    assert SECRET not in repr(local_only) and SECRET not in str(local_only)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("SENDER_EMAIL", "no-reply"),
        ("SENDER_EMAIL", ""),
        ("PUBLIC_BASE_URL", "booking.example.com"),
        ("PUBLIC_BASE_URL", "ftp://booking.example.com"),
        ("STRIPE_API_BASE", "127.0.0.1:8420"),
        ("AWS_ENDPOINT_URL", "localhost"),
        ("MEETING_PROVIDER_ENDPOINTS", "{zoom"),
        ("MEETING_PROVIDER_ENDPOINTS", '{"zoom": "http://127.0.0.1:9101"}'),
        ("MEETING_PROVIDER_ENDPOINTS", "[]"),
    ],
)
def test_a_malformed_setting_is_refused_naming_it(name: str, value: str) -> None:
    kind = next(k for k in FUNCTIONS if name in k.names())
    refused = refusal(kind, {**ENVIRONMENT, name: value})
    assert refused.names == (name,)
    assert str(refused).startswith(f"the {kind.function} function's settings: {name} ")


def test_a_function_does_not_require_what_it_does_not_read() -> None:
    only = {"TABLE_NAME": "BookingTable", "CREDENTIALS_SECRET_PREFIX": "booking/stack/tenants/"}
    assert MeetingLinksSettings.from_environment(only).table_name == "BookingTable"
    assert WebhooksSettings.from_environment(only).credentials_secret_prefix == "booking/stack/tenants/"
    # nor checks it: a malformed name another function reads is none of its business
    assert WebhooksSettings.from_environment({**only, "SENDER_EMAIL": "no-reply"})
    assert "SENDER_EMAIL" not in MeetingLinksSettings.names() | WebhooksSettings.names()
    assert "SCHEDULE_GROUP_NAME" not in BookingApiSettings.names()


def test_settings_are_read_once_and_stay_as_read() -> None:
    environment = dict(ENVIRONMENT)
    settings = WebhooksSettings.from_environment(environment)
    environment["TABLE_NAME"] = "Other"
    assert settings.table_name == "BookingTable"
    with pytest.raises(ValueError, match="frozen"):
        settings.table_name = "Other"  # type: ignore[misc]
