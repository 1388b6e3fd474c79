"""The SMS policy, applied by the pipeline to every text of every kind: a text goes only from a business that
sends them, to a customer with a phone who has not opted out, in a country the business allows
(`sms_countries`; by default its own), at most once in a while for a kind that says so, and at most
`sms_daily_cap` texts a day per business. Taking one from the day's cap is the last check, so a text refused
for another reason costs nothing."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from booking.domain.sms import allowed_countries, country_refusal
from booking.ports import Clock, CustomerRepository, RateLimiter, SmsBudget
from booking.services.messaging.kinds import MessageKind, Subject


class SmsPolicy:
    def __init__(
        self, customers: CustomerRepository, budget: SmsBudget, limiter: RateLimiter, clock: Clock
    ) -> None:
        self._customers = customers
        self._budget = budget
        self._limiter = limiter
        self._clock = clock

    def refusal(self, kind: MessageKind[Any], subject: Subject[Any]) -> str | None:
        """Why this text to the subject's customer must not go out (None: it may, and was counted)."""
        business = subject.business
        customer = subject.customer
        if not business.sms_enabled:
            return "the business does not send SMS"
        if not customer.phone:
            return "no phone number"
        profile = self._customers.profile(subject.tenant_id, customer.email)
        if customer.sms_opt_out or (profile is not None and profile.sms_opt_out):
            return "customer opted out of SMS"
        refused = country_refusal(
            customer.phone, allowed_countries(business.sms_countries, business.time_zone)
        )
        if refused is not None:
            return refused
        now = self._clock.now()
        period = kind.texts_once_in
        if period is not None and not self._limiter.once_in(
            subject.tenant_id,
            f"{kind.name.replace('_', '-')}-text:{customer.email.lower()}",
            subject.id,  # the same message's retry is not a second text
            now,
            period,
        ):
            minutes = int(period.total_seconds() // 60)
            return (
                f"the customer was texted about a {subject.about} in the last {minutes} minutes: email only"
            )
        today = now.astimezone(ZoneInfo(business.time_zone)).date()
        if not self._budget.take(business.id, today, business.sms_daily_cap):
            return f"the business's daily SMS cap ({business.sms_daily_cap}) is reached"
        return None
