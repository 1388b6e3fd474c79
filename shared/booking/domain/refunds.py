"""Cancellation policies: how much of what a customer paid comes back when a booking is cancelled, by how
much notice they gave. Tiers by notice, e.g. 48 hours or more: 100 %; 24 hours or more: 50 %; less: 0 %.

A policy's tiers are given by the least notice each needs (`notice_hours`); one tier needs none (0) so
every cancellation falls in exactly one tier: tiers cannot overlap (two with the same notice) or leave a
gap (no tier for short notice). A refund never exceeds what was captured less what was refunded already.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Annotated

from pydantic import Field, field_validator

from booking.domain.types import Model


class PolicyTier(Model):
    notice_hours: Annotated[int, Field(ge=0, le=24 * 365)]  # the least notice (hours before) it needs
    refund_percent: Annotated[int, Field(ge=0, le=100)]


class CancellationPolicy(Model):
    tiers: list[PolicyTier] = Field(min_length=1, max_length=10)

    @field_validator("tiers")
    @classmethod
    def _one_tier_for_any_notice(cls, tiers: list[PolicyTier]) -> list[PolicyTier]:
        notices = [t.notice_hours for t in tiers]
        if len(set(notices)) != len(notices):
            raise ValueError("two tiers need the same notice: they would overlap")
        if 0 not in notices:
            raise ValueError("no tier for short notice: add one with notice_hours 0 (it may refund 0 %)")
        ordered = sorted(tiers, key=lambda t: -t.notice_hours)
        for longer, shorter in itertools.pairwise(ordered):
            if shorter.refund_percent > longer.refund_percent:
                raise ValueError("less notice cannot refund more than more notice")
        return ordered


@dataclass(frozen=True)
class RefundQuote:
    refundable_minor: int  # captured less refunded already: the most any refund may be
    amount_minor: int  # what the policy gives now
    percent: int
    notice_hours: float  # the notice given, for the customer to see why


def percent_of(amount_minor: int, percent: int) -> int:
    return int((Decimal(amount_minor) * percent / 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def policy_refund(
    policy: CancellationPolicy | None,
    captured_minor: int,
    refunded_minor: int,
    start: datetime,
    at: datetime,
) -> RefundQuote:
    """The refund due for cancelling at `at` a booking starting at `start`; without a policy, all of it."""
    refundable = max(0, captured_minor - refunded_minor)
    notice = (start - at) / timedelta(hours=1)
    percent = 100
    if policy is not None:
        percent = next((t.refund_percent for t in policy.tiers if notice >= t.notice_hours), 0)
    return RefundQuote(
        refundable_minor=refundable,
        amount_minor=min(refundable, percent_of(captured_minor, percent)),
        percent=percent,
        notice_hours=round(notice, 1),
    )


def check_refund(amount_minor: int, refundable_minor: int) -> None:
    """A refund is positive and never more than what is left of the captured amount (Stripe checks too;
    the local Stripe does not, so this check is ours)."""
    if amount_minor <= 0:
        raise ValueError("a refund is a positive amount")
    if amount_minor > refundable_minor:
        raise ValueError(f"at most {refundable_minor} can be refunded (what was captured, less refunds)")
