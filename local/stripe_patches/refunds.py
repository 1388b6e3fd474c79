"""Patch 3, refunds never exceed what is refundable (with Stripe's messages, amounts written by `money`),
and each refund's events in Stripe's order."""

from __future__ import annotations

from typing import Any

from localstripe import resources

from local.stripe_patches._support import _error
from local.stripe_patches.events import _emit
from local.stripe_patches.installing import _ORIGINALS, _replace

_ZERO_DECIMAL = frozenset(
    (
        "bif",
        "clp",
        "djf",
        "gnf",
        "jpy",
        "kmf",
        "krw",
        "mga",
        "pyg",
        "rwf",
        "ugx",
        "vnd",
        "vuv",
        "xaf",
        "xof",
        "xpf",
    )
)
_SYMBOLS = {"gbp": "£", "usd": "$", "eur": "€", "aud": "A$", "cad": "CA$", "nzd": "NZ$", "chf": "CHF "}


def money(amount: int, currency: str) -> str:
    """An amount as Stripe writes it in its messages: £25.00, $4.00, ¥500, 12.00 SEK."""
    currency = currency.lower()
    value = f"{amount}" if currency in _ZERO_DECIMAL else f"{amount / 100:.2f}"
    if currency == "jpy":
        return f"¥{value}"
    symbol = _SYMBOLS.get(currency)
    return f"{symbol}{value}" if symbol else f"{value} {currency.upper()}"


def _refund_init(
    self: Any,
    charge: Any = None,
    payment_intent: Any = None,
    amount: Any = None,
    metadata: Any = None,
    reason: Any = None,
    **kwargs: Any,
) -> None:
    original = _ORIGINALS["localstripe.resources:Refund.__init__"]
    amount = resources.try_convert_to_int(amount)
    well_formed = (
        not kwargs
        and reason in (None, "duplicate", "fraudulent", "requested_by_customer")
        and (amount is None or (type(amount) is int and amount > 0))
        and (
            (isinstance(charge, str) and charge.startswith("ch_") and payment_intent is None)
            or (charge is None and isinstance(payment_intent, str) and payment_intent.startswith("pi_"))
        )
    )
    if not well_formed:  # localstripe's own refusal (400), before anything is made
        if reason not in (None, "duplicate", "fraudulent", "requested_by_customer"):
            raise _error(400, f"Invalid reason: {reason}", param="reason")
        original(
            self, charge=charge, payment_intent=payment_intent, amount=amount, metadata=metadata, **kwargs
        )
        return
    if payment_intent is not None:
        intent = resources.PaymentIntent._api_retrieve(payment_intent)
        if intent.status == "requires_capture":
            raise _error(
                400,
                f"This PaymentIntent ({intent.id}) has not been captured: it cannot be refunded. Cancel the "
                "PaymentIntent to release the authorisation instead.",
                code="payment_intent_unexpected_state",
            )
        captured = intent.latest_charge
        if intent.status != "succeeded" or captured is None:
            raise _error(
                400, f"This PaymentIntent ({intent.id}) does not have a successful charge to refund."
            )
    else:
        captured = resources.Charge._api_retrieve(charge)
    left = captured.amount - captured.amount_refunded
    if captured.status == "succeeded" and left <= 0:
        raise _error(400, f"Charge {captured.id} has already been refunded.", code="charge_already_refunded")
    if amount is None:
        amount = left
    elif captured.status == "succeeded" and amount > left:
        refunded_before = captured.amount_refunded > 0
        limit = "unrefunded amount on charge" if refunded_before else "charge amount"
        raise _error(
            400,
            f"Refund amount ({money(amount, captured.currency)}) is greater than {limit} "
            f"({money(left, captured.currency)})",
            param="amount",
        )
    original(self, charge=charge, payment_intent=payment_intent, amount=amount, metadata=metadata)
    if self.payment_intent is None:
        self.payment_intent = captured.payment_intent
    self.reason = reason


def _refund_api_create(cls: Any, /, **data: Any) -> Any:
    refund = cls(**data)
    charge = resources.Charge._api_retrieve(refund.charge)
    # Stripe's order: the charge, then the refund made, then the refund's (immediate) success.
    _emit("charge.refunded", charge)
    _emit("refund.created", refund)
    _emit("charge.refund.updated", refund)
    return refund


def apply() -> None:
    """Patch 3's replacements in localstripe's Refund (called by `install`)."""
    r = resources
    _replace(r.Refund, "__init__", _refund_init)
    r.Refund._api_create = classmethod(_refund_api_create)
    r.Refund.reason = None
