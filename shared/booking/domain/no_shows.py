"""The business's no-show policy: what happens to a customer's money when staff mark them a no-show.

Keep what was paid at booking (a deposit or the whole price: no refund), and/or charge a fee to the card
kept on file (fixed, or a percentage of the price), and optionally block the customer from booking online.
Pure: the amounts only; services/payments/no_shows.py charges and records them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Self

from pydantic import Field, model_validator

from booking.domain.booking import Booking
from booking.domain.refunds import percent_of
from booking.domain.types import Model


class NoShowPolicy(Model):
    keep_payment: bool = True  # keep what was paid at booking (a deposit or the full price) as the fee
    fee_minor: int | None = Field(default=None, ge=1, le=100_000_000)  # fixed, to the card kept on file
    fee_percent: int | None = Field(default=None, ge=1, le=100)  # of the price, to the card on file
    block_customer: bool = False  # from booking online

    @model_validator(mode="after")
    def _one_fee(self) -> Self:
        if self.fee_minor is not None and self.fee_percent is not None:
            raise ValueError("a fee is fixed (fee_minor) or a percentage (fee_percent), not both")
        return self


@dataclass(frozen=True)
class NoShowCharges:
    kept_minor: int  # of what was paid at booking, kept (not refunded)
    fee_minor: int  # to charge to the card on file


def no_show_charges(policy: NoShowPolicy, booking: Booking) -> NoShowCharges:
    """What the policy takes from a no-show: a payment made at booking is kept (when the policy keeps it)
    and then no further fee is charged; otherwise the fee, to be charged to the card on file."""
    payment = booking.payment
    paid = payment.captured_minor - payment.refunded_minor if payment is not None else 0
    if policy.keep_payment and paid > 0:
        return NoShowCharges(kept_minor=paid, fee_minor=0)
    if policy.fee_minor is not None:
        return NoShowCharges(kept_minor=0, fee_minor=policy.fee_minor)
    if policy.fee_percent is not None:
        return NoShowCharges(kept_minor=0, fee_minor=percent_of(booking.gross_minor, policy.fee_percent))
    return NoShowCharges(kept_minor=0, fee_minor=0)
