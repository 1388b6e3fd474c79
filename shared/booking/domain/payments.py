"""What a booking costs at the time it is made: per-service payment rules, tax, and Stripe's minimum charges.

Pure arithmetic on integer minor units of ISO 4217 currencies (pence, cents, yen): no floats, no I/O. Every
rounding is half up to a whole minor unit, and symmetric about zero (a refund splits as the negative of
the same charge).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Annotated, Literal, assert_never

from pydantic import Field, ValidationInfo, field_validator, model_validator

from booking.domain.types import MinorUnits, Model

PaymentMode = Literal["none", "full", "deposit", "card_on_file"]
CaptureMode = Literal["immediate", "on_staff_confirmation"]
# The part of a rule a problem is in, as the field a client sends (a service's own price, or its rule's).
RuleField = Literal["price_minor", "deposit_minor", "deposit_percent"]

BASIS_POINTS = 10_000  # 100 %


# --- currencies ---------------------------------------------------------------------------------------

# ISO 4217 minor units where CLDR (Babel's precision) differs: amounts are stored in ISO minor units, and
# CLDR's display precision for these (0) would show a price a hundred or a thousand times too high.
_ISO_4217_EXPONENTS = {
    **dict.fromkeys(("AFN", "ALL", "IRR", "KPW", "LAK", "LBP", "MGA", "MMK", "RSD", "SOS", "SYP", "YER"), 2),
    "IQD": 3,
}


def minor_unit_exponent(currency: str) -> int:
    """How many decimals the currency's minor unit has under ISO 4217: 2 for GBP, 0 for JPY, 3 for KWD."""
    code = currency.upper()
    return _ISO_4217_EXPONENTS.get(code, _currency_precision(code))


def money_text(amount_minor: int, currency: str) -> str:
    """An amount for people, locale-neutral and unambiguous: 'GBP 0.30', 'JPY 50', 'HUF 17,500.00'."""
    exponent = minor_unit_exponent(currency)
    return f"{currency.upper()} {Decimal(amount_minor).scaleb(-exponent):,.{exponent}f}"


# Stripe's smallest charge per presentment currency, in minor units (Stripe's "Minimum and maximum charge
# amounts", https://docs.stripe.com/currencies#minimum-and-maximum-charge-amounts, as carried by
# woocommerce/woocommerce-gateway-stripe). For every currency listed, Stripe's API unit is the ISO 4217
# minor unit (JPY has none; HUF is charged in fillér), so these compare directly with our amounts.
# A currency not listed has no published minimum in its own terms: Stripe refuses a charge worth less than
# the settlement currency's minimum after conversion, which cannot be known without exchange rates, so the
# payment flow must still expect Stripe's `amount_too_small`.
MINIMUM_CHARGE_MINOR: dict[str, int] = {
    "USD": 50,
    "AED": 200,
    "AUD": 50,
    "BGN": 100,
    "BRL": 50,
    "CAD": 50,
    "CHF": 50,
    "CZK": 1500,
    "DKK": 250,
    "EUR": 50,
    "GBP": 30,
    "HKD": 400,
    "HUF": 17500,
    "INR": 50,
    "JPY": 50,
    "MXN": 1000,
    "MYR": 200,
    "NOK": 300,
    "NZD": 50,
    "PLN": 200,
    "RON": 200,
    "SEK": 300,
    "SGD": 50,
    "THB": 1000,
}


class BelowMinimumCharge(ValueError):
    """A positive amount smaller than the smallest charge card payments allow in its currency."""

    def __init__(self, amount_minor: int, minimum_minor: int, currency: str) -> None:
        self.amount_minor = amount_minor
        self.minimum_minor = minimum_minor
        self.currency = currency.upper()
        super().__init__(
            f"{money_text(amount_minor, currency)} is less than {money_text(minimum_minor, currency)}, "
            f"the smallest amount a card can be charged in {self.currency}"
        )


def check_chargeable(amount_minor: int, currency: str) -> None:
    """Raises BelowMinimumCharge (a ValueError) for a positive amount below the currency's minimum charge.

    0 is fine: nothing is charged. A currency without a known minimum accepts any positive amount here.
    """
    if amount_minor < 0:
        raise ValueError(f"a charge cannot be negative ({amount_minor})")
    minimum = MINIMUM_CHARGE_MINOR.get(currency.upper(), 0)
    if 0 < amount_minor < minimum:
        raise BelowMinimumCharge(amount_minor, minimum, currency)


# --- rules --------------------------------------------------------------------------------------------


class PaymentRule(Model):
    """What a customer pays when booking a service.

    'none': nothing online; 'full': the price at booking; 'deposit': part of it at booking, a fixed amount
    (deposit_minor) or a percentage of the price (deposit_percent), exactly one of the two;
    'card_on_file': nothing now, a card saved for cancellation and no-show fees.
    """

    mode: PaymentMode = "none"
    deposit_minor: Annotated[MinorUnits, Field(ge=1)] | None = None  # in the business's currency
    deposit_percent: int | None = Field(default=None, ge=1, le=100)  # of the price

    @field_validator("deposit_minor")
    @classmethod
    def _minor_only_for_deposits(cls, value: int | None, info: ValidationInfo) -> int | None:
        _only_for_deposits(value, info, "deposit_minor")
        return value

    @field_validator("deposit_percent")
    @classmethod
    def _percent_only_for_deposits(cls, value: int | None, info: ValidationInfo) -> int | None:
        _only_for_deposits(value, info, "deposit_percent")
        if value is not None and info.data.get("deposit_minor") is not None:
            raise ValueError("give deposit_minor (a fixed amount) or deposit_percent, not both")
        return value

    @model_validator(mode="after")
    def _deposit_has_an_amount(self) -> PaymentRule:
        if self.mode == "deposit" and self.deposit_minor is None and self.deposit_percent is None:
            raise ValueError(
                "a deposit needs deposit_minor (a fixed amount) or deposit_percent (of the price)"
            )
        return self

    @property
    def charges_at_booking(self) -> bool:
        """Whether money is taken when booking (full or deposit); card_on_file only saves a card."""
        return self.mode in ("full", "deposit")


def _only_for_deposits(value: int | None, info: ValidationInfo, name: str) -> None:
    mode = info.data.get("mode")  # absent when the mode itself was invalid: that error is enough
    if value is not None and mode is not None and mode != "deposit":
        raise ValueError(f"{name} is only for mode 'deposit', not {mode!r}")


class PaymentRuleError(ValueError):
    """A rule that cannot be applied to a price; `field` is the part to change (see RuleField)."""

    def __init__(self, field: RuleField, message: str) -> None:
        super().__init__(message)
        self.field: RuleField = field


def amount_due(price_minor: int, rule: PaymentRule, currency: str) -> int:
    """What is charged at booking, in minor units: none -> 0; full -> the price; deposit -> its fixed amount,
    or its percentage of the price rounded half up to a whole minor unit; card_on_file -> 0 (a SetupIntent
    saves the card, nothing is charged now).

    Raises PaymentRuleError (a ValueError, field 'deposit_minor') for a fixed deposit above the price.
    Minimum charges are not checked here: see check_chargeable and charge_at_booking.
    """
    if price_minor < 0:
        raise ValueError(f"a price cannot be negative ({price_minor})")
    match rule.mode:
        case "none" | "card_on_file":
            return 0
        case "full":
            return price_minor
        case "deposit":
            if rule.deposit_minor is not None:
                if rule.deposit_minor > price_minor:
                    raise PaymentRuleError(
                        "deposit_minor",
                        f"the deposit {money_text(rule.deposit_minor, currency)} is more than the price "
                        f"{money_text(price_minor, currency)}",
                    )
                return rule.deposit_minor
            if rule.deposit_percent is None:  # only a model built without validation gets here
                raise ValueError("a deposit needs deposit_minor or deposit_percent")
            return _divide_half_up(price_minor * rule.deposit_percent, 100)
        case unreachable:
            assert_never(unreachable)


def charge_at_booking(price_minor: int, rule: PaymentRule, currency: str) -> int:
    """The amount due at booking (amount_due), checked to be chargeable: 0, or at least the currency's
    minimum charge. Raises PaymentRuleError naming what to change: the deposit's amount or percentage, or
    the price when the whole price is charged."""
    due = amount_due(price_minor, rule, currency)
    try:
        check_chargeable(due, currency)
    except BelowMinimumCharge as below:
        field: RuleField
        if rule.mode == "deposit":
            field = "deposit_minor" if rule.deposit_minor is not None else "deposit_percent"
        else:
            field = "price_minor"
        what = "the price" if field == "price_minor" else "the deposit"
        raise PaymentRuleError(
            field,
            f"{what} due at booking, {money_text(due, currency)}, is less than "
            f"{money_text(below.minimum_minor, currency)}, the smallest amount a card can be charged in "
            f"{below.currency}",
        ) from None
    return due


# --- tax ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TaxSplit:
    """An amount split into net and tax; net_minor + tax_minor == gross_minor always."""

    net_minor: int
    tax_minor: int
    gross_minor: int


def tax_of(amount_minor: int, rate_basis_points: int, included: bool) -> TaxSplit:
    """Splits an amount at a tax rate in basis points (2000 = 20 %), the tax rounded half up to the minor
    unit. included=True: the amount is gross (tax inside it; net = amount - tax); included=False: the
    amount is net and the tax is added on top (gross = amount + tax)."""
    if not 0 <= rate_basis_points <= BASIS_POINTS:
        raise ValueError(f"a tax rate is 0 to {BASIS_POINTS} basis points, not {rate_basis_points}")
    if included:
        tax = _divide_half_up(amount_minor * rate_basis_points, BASIS_POINTS + rate_basis_points)
        return TaxSplit(net_minor=amount_minor - tax, tax_minor=tax, gross_minor=amount_minor)
    tax = _divide_half_up(amount_minor * rate_basis_points, BASIS_POINTS)
    return TaxSplit(net_minor=amount_minor, tax_minor=tax, gross_minor=amount_minor + tax)


def _divide_half_up(numerator: int, denominator: int) -> int:
    """numerator / denominator (denominator > 0) rounded to the nearest integer, halves away from zero."""
    quotient, remainder = divmod(abs(numerator), denominator)
    if 2 * remainder >= denominator:
        quotient += 1
    return quotient if numerator >= 0 else -quotient


def _currency_precision(currency: str) -> int:
    """CLDR's digits for the currency; Babel is imported on first use, off the availability path."""
    from babel.numbers import get_currency_precision  # noqa: PLC0415 - see the docstring

    return int(get_currency_precision(currency))
