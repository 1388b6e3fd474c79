"""Patch 1, Stripe's test cards: which cards are declined (and with what), which ask for 3-D Secure, the test
PaymentMethods (`pm_card_visa`, ...), and a declined charge as Stripe answers it (a 402 `card_error`).

What a PaymentIntent does with them is in `card_payments.py`, a SetupIntent in `card_setups.py`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from localstripe import resources
from localstripe.errors import UserError

from local.stripe_patches._support import _error
from local.stripe_patches.installing import _ORIGINALS, _replace


@dataclass(frozen=True)
class Decline:
    code: str
    decline_code: str
    message: str
    param: str | None = None

    def fields(self) -> dict[str, Any]:
        found = {
            "code": self.code,
            "decline_code": self.decline_code,
            "doc_url": f"https://stripe.com/docs/error-codes/{self.code.replace('_', '-')}",
            "message": self.message,
            "param": self.param,
            "type": "card_error",
        }
        return {k: v for k, v in found.items() if v is not None}


_DECLINED = "Your card was declined."
# Declined when charged, and when saved (attached to a Customer or set up by a SetupIntent): the cards
# localstripe declines when saved (PaymentMethod._attaching_is_declined), with Stripe's codes.
DECLINED: dict[str, Decline] = {
    "4000000000000002": Decline("card_declined", "generic_decline", _DECLINED),
    "4000000000009995": Decline("card_declined", "insufficient_funds", "Your card has insufficient funds."),
    "4000000000009987": Decline("card_declined", "lost_card", _DECLINED),
    "4000000000009979": Decline("card_declined", "stolen_card", _DECLINED),
    "4000000000000069": Decline("expired_card", "expired_card", "Your card has expired.", "exp_month"),
    "4000000000000127": Decline(
        "incorrect_cvc", "incorrect_cvc", "Your card's security code is incorrect.", "cvc"
    ),
    "4000000000000119": Decline(
        "processing_error",
        "processing_error",
        "An error occurred while processing your card. Try again in a little bit.",
    ),
    "4242424242424241": Decline(
        "incorrect_number", "incorrect_number", "Your card number is incorrect.", "number"
    ),
}
# Saved without complaint, declined when charged (after 3-D Secure, for the two that ask for it).
DECLINED_WHEN_CHARGED: dict[str, Decline] = {
    "4000000000000341": Decline("card_declined", "generic_decline", _DECLINED),
    "4000008260003178": Decline("card_declined", "insufficient_funds", "Your card has insufficient funds."),
    "4000008400001629": Decline("card_declined", "generic_decline", _DECLINED),
}
# Of the cards that ask for 3-D Secure (PaymentMethod._requires_authentication), those that no longer ask
# off-session once saved through a SetupIntent; the others always ask.
AUTHENTICATION_ON_SETUP_ONLY = frozenset({"4000002500003155"})
AUTHENTICATION_REQUIRED = Decline(
    "authentication_required",
    "authentication_required",
    "Your card was declined. This transaction requires authentication.",
)
AUTHENTICATION_FAILED_PAYMENT = {
    "code": "payment_intent_authentication_failure",
    "message": (
        "The provided PaymentMethod has failed authentication. You can provide payment_method_data or a new "
        "PaymentMethod to attempt to fulfill this PaymentIntent again."
    ),
    "type": "invalid_request_error",
}
AUTHENTICATION_FAILED_SETUP = {
    "code": "setup_intent_authentication_failure",
    "message": "The latest attempt to set up the payment method has failed because authentication failed.",
    "type": "invalid_request_error",
}
# Stripe's test PaymentMethods (https://docs.stripe.com/testing?testing-method=payment-methods) that are
# 16-digit cards (localstripe takes no other length).
TEST_PAYMENT_METHODS: dict[str, str] = {
    "pm_card_visa": "4242424242424242",
    "pm_card_visa_debit": "4000056655665556",
    "pm_card_mastercard": "5555555555554444",
    "pm_card_mastercard_debit": "5200828282828210",
    "pm_card_mastercard_prepaid": "5105105105105100",
    "pm_card_discover": "6011111111111117",
    "pm_card_jcb": "3566002020360505",
    "pm_card_unionpay": "6200000000000005",
    "pm_card_visa_chargeDeclined": "4000000000000002",
    "pm_card_chargeDeclined": "4000000000000002",
    "pm_card_visa_chargeDeclinedInsufficientFunds": "4000000000009995",
    "pm_card_chargeDeclinedInsufficientFunds": "4000000000009995",
    "pm_card_visa_chargeDeclinedLostCard": "4000000000009987",
    "pm_card_chargeDeclinedLostCard": "4000000000009987",
    "pm_card_visa_chargeDeclinedStolenCard": "4000000000009979",
    "pm_card_chargeDeclinedStolenCard": "4000000000009979",
    "pm_card_visa_chargeDeclinedExpiredCard": "4000000000000069",
    "pm_card_chargeDeclinedExpiredCard": "4000000000000069",
    "pm_card_visa_chargeDeclinedIncorrectCvc": "4000000000000127",
    "pm_card_chargeDeclinedIncorrectCvc": "4000000000000127",
    "pm_card_visa_chargeDeclinedProcessingError": "4000000000000119",
    "pm_card_chargeDeclinedProcessingError": "4000000000000119",
    "pm_card_chargeCustomerFail": "4000000000000341",
    "pm_card_authenticationRequiredOnSetup": "4000002500003155",
    "pm_card_authenticationRequired": "4000002760003184",
    "pm_card_authenticationRequiredChargeDeclinedInsufficientFunds": "4000008260003178",
    "pm_card_threeDSecure2Required": "4000000000003220",
    "pm_card_threeDSecureRequired": "4000000000003063",
    "pm_card_threeDSecureOptional": "4000000000003055",
}
# The brand of a test card by its first digits, the longest prefix first.
_BRANDS = (("6011", "discover"), ("35", "jcb"), ("62", "unionpay"), ("5", "mastercard"), ("2", "mastercard"))
_NEXT_ACTION = {
    "type": "use_stripe_sdk",
    "use_stripe_sdk": {"type": "three_d_secure_redirect", "stripe_js": ""},
}
_PAYMENT_METHOD_STATUSES = ("requires_payment_method", "requires_confirmation", "requires_action")


def _card_number(source: Any) -> str | None:
    if getattr(source, "type", None) != "card":
        return None
    number = getattr(source, "_card_number", None)
    return number if isinstance(number, str) else None


def _decline_when_charged(source: Any) -> Decline | None:
    number = _card_number(source)
    if number is None:
        return None
    return DECLINED.get(number) or DECLINED_WHEN_CHARGED.get(number)


def _brand(number: str) -> str:
    return next((brand for prefix, brand in _BRANDS if number.startswith(prefix)), "visa")


def _export_of(payment_method_id: str | None) -> dict[str, Any] | None:
    if not payment_method_id:
        return None
    try:
        exported: dict[str, Any] = resources.PaymentMethod._api_retrieve(payment_method_id)._export()
    except UserError:
        return None
    return exported


def _test_payment_method(cls: Any, id: str) -> Any:
    number = TEST_PAYMENT_METHODS.get(id)
    if number is None:
        return None
    # As at Stripe, each use of a test id makes a new PaymentMethod.
    method = cls(type="card", card={"number": number, "exp_month": "12", "exp_year": "2034", "cvc": "123"})
    method.card["brand"] = _brand(number)
    return method


def _charging_is_declined(self: Any) -> bool:
    if _card_number(self) is not None:
        return _decline_when_charged(self) is not None
    return bool(_ORIGINALS["localstripe.resources:PaymentMethod._charging_is_declined"](self))


def _set_auth_failure(self: Any) -> None:
    """A declined charge, with the code, decline code and message Stripe gives its card."""
    _ORIGINALS["localstripe.resources:Charge._set_auth_failure"](self)
    try:
        source = resources.PaymentMethod._api_retrieve(self.payment_method)
    except UserError:
        return
    decline = _decline_when_charged(source)
    if decline is not None:
        self.failure_code = decline.code
        self.failure_message = decline.message
        self._decline = {k: v for k, v in decline.fields().items() if k not in ("code", "message")}
        self.outcome = {"type": "issuer_declined", "reason": decline.decline_code}


def _charge_decline(charge: Any) -> dict[str, Any]:
    """What Stripe says of a declined charge: in its 402 and in the intent's last_payment_error."""
    fields: dict[str, Any] = {
        "type": "card_error",
        "decline_code": "generic_decline",
        **getattr(charge, "_decline", {}),
        "code": charge.failure_code,
        "message": charge.failure_message,
        "charge": charge.id,
    }
    return fields


def _raise_failure(self: Any) -> None:
    fields = _charge_decline(self)
    raise _error(402, fields.pop("message"), fields.pop("type"), **fields)


def apply() -> None:
    """Patch 1's replacements in localstripe's PaymentMethod and Charge (called by `install`)."""
    r = resources
    _replace(r.PaymentMethod, "_try_get_canonical_test_article", _test_payment_method)
    _replace(r.PaymentMethod, "_charging_is_declined", _charging_is_declined)
    _replace(r.Charge, "_set_auth_failure", _set_auth_failure)
    _replace(r.Charge, "_raise_failure", _raise_failure)
