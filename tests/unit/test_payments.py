"""Payment rules, tax and minimum charges: what a customer is asked to pay at booking, to the minor unit."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from booking.domain.catalogue import BusinessSettings, Service
from booking.domain.payments import (
    MINIMUM_CHARGE_MINOR,
    BelowMinimumCharge,
    PaymentRule,
    PaymentRuleError,
    TaxSplit,
    amount_due,
    charge_at_booking,
    check_chargeable,
    minor_unit_exponent,
    money_text,
    tax_of,
)


def deposit(**fields: Any) -> PaymentRule:
    return PaymentRule(mode="deposit", **fields)


# --- the rule's own fields ----------------------------------------------------------------------------


def test_a_rule_defaults_to_no_payment() -> None:
    rule = PaymentRule()
    assert (rule.mode, rule.deposit_minor, rule.deposit_percent) == ("none", None, None)
    assert not rule.charges_at_booking
    assert PaymentRule(mode="full").charges_at_booking
    assert deposit(deposit_percent=20).charges_at_booking
    assert not PaymentRule(mode="card_on_file").charges_at_booking


def errors_of(**fields: Any) -> list[tuple[tuple[str | int, ...], str]]:
    with pytest.raises(ValidationError) as caught:
        PaymentRule(**fields)
    return [(tuple(e["loc"]), e["msg"]) for e in caught.value.errors()]


@pytest.mark.parametrize("mode", ["none", "full", "card_on_file"])
@pytest.mark.parametrize(("field", "value"), [("deposit_minor", 500), ("deposit_percent", 20)])
def test_only_a_deposit_carries_deposit_fields(mode: str, field: str, value: int) -> None:
    [(loc, message)] = errors_of(mode=mode, **{field: value})
    assert loc == (field,)
    assert field in message and "deposit" in message and mode in message


def test_a_deposit_is_a_fixed_amount_or_a_percentage_not_both() -> None:
    [(loc, message)] = errors_of(mode="deposit", deposit_minor=500, deposit_percent=20)
    assert loc == ("deposit_percent",)
    assert "not both" in message


def test_a_deposit_needs_an_amount_or_a_percentage() -> None:
    [(_, message)] = errors_of(mode="deposit")
    assert "deposit_minor" in message and "deposit_percent" in message


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"deposit_percent": 0}, "deposit_percent"),
        ({"deposit_percent": 101}, "deposit_percent"),
        ({"deposit_percent": 12.5}, "deposit_percent"),
        ({"deposit_minor": 0}, "deposit_minor"),
        ({"deposit_minor": -100}, "deposit_minor"),
        ({"deposit_minor": 100_000_001}, "deposit_minor"),
        ({"deposit_minor": 99.5}, "deposit_minor"),
    ],
)
def test_deposit_amounts_and_percentages_are_bounded(fields: dict[str, Any], field: str) -> None:
    assert [loc for loc, _ in errors_of(mode="deposit", **fields)] == [(field,)]


def test_an_unknown_mode_is_refused_on_its_own() -> None:
    # the deposit field is not blamed as well: the mode is what is wrong
    assert [loc for loc, _ in errors_of(mode="later", deposit_minor=500)] == [("mode",)]


def test_a_rule_round_trips_through_json() -> None:
    rule = deposit(deposit_percent=25)
    assert PaymentRule.model_validate_json(rule.model_dump_json()) == rule


# --- what is due at booking ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rule", "due"),
    [
        (PaymentRule(), 0),
        (PaymentRule(mode="full"), 6500),
        (deposit(deposit_minor=2000), 2000),
        (deposit(deposit_minor=6500), 6500),  # a deposit may be the whole price
        (deposit(deposit_percent=20), 1300),
        (deposit(deposit_percent=100), 6500),
        (PaymentRule(mode="card_on_file"), 0),  # the card is saved, nothing charged
    ],
)
def test_the_amount_due_for_each_mode(rule: PaymentRule, due: int) -> None:
    assert amount_due(6500, rule, "GBP") == due


@pytest.mark.parametrize(
    ("price", "percent", "due"),
    [
        (1999, 15, 300),  # 299.85 -> 300
        (1999, 10, 200),  # 199.9 -> 200
        (1001, 50, 501),  # 500.5: a half rounds up
        (999, 50, 500),  # 499.5 -> 500
        (1, 50, 1),  # 0.5 -> 1
        (1, 49, 0),  # 0.49 -> 0
        (3333, 33, 1100),  # 1099.89 -> 1100
        (2005, 10, 201),  # 200.5 -> 201
        (2004, 10, 200),  # 200.4 -> 200
        (0, 30, 0),
    ],
)
def test_a_percentage_deposit_rounds_half_up_to_a_whole_minor_unit(
    price: int, percent: int, due: int
) -> None:
    assert amount_due(price, deposit(deposit_percent=percent), "GBP") == due


def test_zero_decimal_currencies_round_to_whole_units() -> None:
    # JPY has no minor unit: 15 % of ¥3,333 is ¥499.95, charged as ¥500
    assert minor_unit_exponent("JPY") == 0
    assert amount_due(3333, deposit(deposit_percent=15), "JPY") == 500
    assert amount_due(5000, PaymentRule(mode="full"), "JPY") == 5000
    assert amount_due(101, deposit(deposit_percent=50), "JPY") == 51


def test_a_deposit_above_the_price_is_refused_in_the_currency_s_terms() -> None:
    with pytest.raises(PaymentRuleError) as caught:
        amount_due(6500, deposit(deposit_minor=7000), "GBP")
    assert caught.value.field == "deposit_minor"
    assert str(caught.value) == "the deposit GBP 70.00 is more than the price GBP 65.00"
    assert isinstance(caught.value, ValueError)

    with pytest.raises(PaymentRuleError, match="JPY 7,000 is more than the price JPY 6,500"):
        amount_due(6500, deposit(deposit_minor=7000), "JPY")


def test_a_free_service_owes_nothing_and_cannot_take_a_fixed_deposit() -> None:
    assert amount_due(0, PaymentRule(mode="full"), "GBP") == 0
    with pytest.raises(PaymentRuleError):
        amount_due(0, deposit(deposit_minor=100), "GBP")


def test_a_negative_price_is_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        amount_due(-1, PaymentRule(mode="full"), "GBP")


# --- minimum charges ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("currency", "minimum"),
    [("USD", 50), ("EUR", 50), ("GBP", 30), ("JPY", 50), ("HUF", 17500), ("MXN", 1000), ("CZK", 1500)],
)
def test_stripe_s_minimum_charges(currency: str, minimum: int) -> None:
    assert MINIMUM_CHARGE_MINOR[currency] == minimum
    check_chargeable(minimum, currency)
    check_chargeable(minimum + 1, currency)
    check_chargeable(0, currency)  # nothing to charge
    with pytest.raises(BelowMinimumCharge) as caught:
        check_chargeable(minimum - 1, currency)
    assert (caught.value.minimum_minor, caught.value.currency) == (minimum, currency)


def test_the_minimum_is_named_for_people() -> None:
    with pytest.raises(ValueError) as caught:
        check_chargeable(20, "GBP")
    assert str(caught.value) == (
        "GBP 0.20 is less than GBP 0.30, the smallest amount a card can be charged in GBP"
    )
    with pytest.raises(ValueError, match=r"JPY 49 is less than JPY 50,"):
        check_chargeable(49, "JPY")
    with pytest.raises(ValueError, match=r"HUF 174\.99 is less than HUF 175\.00,"):
        check_chargeable(17499, "HUF")


def test_the_currency_code_may_be_lower_case() -> None:
    with pytest.raises(BelowMinimumCharge, match=r"EUR 0\.50"):
        check_chargeable(1, "eur")


def test_a_currency_without_a_published_minimum_accepts_any_positive_amount() -> None:
    assert "KES" not in MINIMUM_CHARGE_MINOR
    check_chargeable(1, "KES")


def test_a_negative_charge_is_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        check_chargeable(-50, "USD")


def test_every_minimum_is_in_iso_minor_units_of_a_real_currency() -> None:
    for currency, minimum in MINIMUM_CHARGE_MINOR.items():
        assert currency.isupper() and len(currency) == 3
        assert 30 <= minimum <= 17500, currency
        assert minor_unit_exponent(currency) in (0, 2), currency


@pytest.mark.parametrize(
    ("price", "rule", "currency", "field"),
    [
        (20, PaymentRule(mode="full"), "GBP", "price_minor"),
        (49, PaymentRule(mode="full"), "JPY", "price_minor"),
        (6500, deposit(deposit_minor=25), "GBP", "deposit_minor"),
        (1000, deposit(deposit_percent=2), "GBP", "deposit_percent"),  # 20p
        (6500, deposit(deposit_minor=7000), "GBP", "deposit_minor"),  # above the price
    ],
)
def test_charge_at_booking_names_what_to_change(
    price: int, rule: PaymentRule, currency: str, field: str
) -> None:
    with pytest.raises(PaymentRuleError) as caught:
        charge_at_booking(price, rule, currency)
    assert caught.value.field == field


def test_charge_at_booking_tells_the_amount_and_the_minimum() -> None:
    with pytest.raises(PaymentRuleError) as caught:
        charge_at_booking(1000, deposit(deposit_percent=2), "GBP")
    assert str(caught.value) == (
        "the deposit due at booking, GBP 0.20, is less than GBP 0.30, the smallest amount a card can be "
        "charged in GBP"
    )


@pytest.mark.parametrize(
    ("price", "rule", "due"),
    [
        (20, PaymentRule(), 0),  # nothing charged: no minimum
        (20, PaymentRule(mode="card_on_file"), 0),
        (0, PaymentRule(mode="full"), 0),  # a free service under "full"
        (30, PaymentRule(mode="full"), 30),
        (6500, deposit(deposit_percent=20), 1300),
    ],
)
def test_charge_at_booking_returns_what_is_due(price: int, rule: PaymentRule, due: int) -> None:
    assert charge_at_booking(price, rule, "GBP") == due


# --- tax ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "rate", "split"),
    [
        (6000, 2000, TaxSplit(net_minor=5000, tax_minor=1000, gross_minor=6000)),  # 20 % inside £60
        (6500, 2000, TaxSplit(net_minor=5417, tax_minor=1083, gross_minor=6500)),  # 1083.33 -> 1083
        (1999, 2000, TaxSplit(net_minor=1666, tax_minor=333, gross_minor=1999)),  # 333.17 -> 333
        (7, 4000, TaxSplit(net_minor=5, tax_minor=2, gross_minor=7)),  # 2.0 exactly
        (21, 1000, TaxSplit(net_minor=19, tax_minor=2, gross_minor=21)),  # 1.909 -> 2
        (105, 500, TaxSplit(net_minor=100, tax_minor=5, gross_minor=105)),
        (3, 5000, TaxSplit(net_minor=2, tax_minor=1, gross_minor=3)),  # exactly 1
        (5, 2500, TaxSplit(net_minor=4, tax_minor=1, gross_minor=5)),  # exactly 1.0
        (9, 2500, TaxSplit(net_minor=7, tax_minor=2, gross_minor=9)),  # 1.8 -> 2
        (6500, 0, TaxSplit(net_minor=6500, tax_minor=0, gross_minor=6500)),
        (0, 2000, TaxSplit(net_minor=0, tax_minor=0, gross_minor=0)),
    ],
)
def test_tax_included_in_the_price(amount: int, rate: int, split: TaxSplit) -> None:
    assert tax_of(amount, rate, included=True) == split


@pytest.mark.parametrize(
    ("amount", "rate", "split"),
    [
        (5000, 2000, TaxSplit(net_minor=5000, tax_minor=1000, gross_minor=6000)),
        (1999, 2000, TaxSplit(net_minor=1999, tax_minor=400, gross_minor=2399)),  # 399.8 -> 400
        (1, 5000, TaxSplit(net_minor=1, tax_minor=1, gross_minor=2)),  # 0.5: a half rounds up
        (1, 4999, TaxSplit(net_minor=1, tax_minor=0, gross_minor=1)),  # 0.4999 -> 0
        (1005, 1000, TaxSplit(net_minor=1005, tax_minor=101, gross_minor=1106)),  # 100.5 -> 101
        (1004, 1000, TaxSplit(net_minor=1004, tax_minor=100, gross_minor=1104)),  # 100.4 -> 100
        (6500, 875, TaxSplit(net_minor=6500, tax_minor=569, gross_minor=7069)),  # 8.75 %: 568.75 -> 569
        (1000, 10_000, TaxSplit(net_minor=1000, tax_minor=1000, gross_minor=2000)),
    ],
)
def test_tax_added_on_top(amount: int, rate: int, split: TaxSplit) -> None:
    assert tax_of(amount, rate, included=False) == split


def test_the_parts_always_add_up() -> None:
    for amount in range(0, 2000, 7):
        for rate in (0, 1, 500, 875, 1999, 2000, 2500, 10_000):
            for included in (True, False):
                split = tax_of(amount, rate, included)
                assert split.net_minor + split.tax_minor == split.gross_minor
                assert (split.gross_minor if included else split.net_minor) == amount
                assert split.tax_minor >= 0


def test_a_refund_splits_as_the_negative_of_the_charge() -> None:
    for amount in (1, 7, 999, 6500, 1005):
        for included in (True, False):
            charge, refund = tax_of(amount, 2000, included), tax_of(-amount, 2000, included)
            assert (refund.net_minor, refund.tax_minor, refund.gross_minor) == (
                -charge.net_minor,
                -charge.tax_minor,
                -charge.gross_minor,
            )


@pytest.mark.parametrize("rate", [-1, 10_001])
def test_a_tax_rate_outside_0_to_100_percent_is_refused(rate: int) -> None:
    with pytest.raises(ValueError, match="basis points"):
        tax_of(1000, rate, included=True)


# --- the business's settings and a service's rule ----------------------------------------------------


def settings(**fields: Any) -> BusinessSettings:
    return BusinessSettings(
        name="Serenity", slug="serenity", time_zone="Europe/London", currency="GBP", **fields
    )


def test_payment_settings_default_to_today_s_behaviour() -> None:
    business = settings()
    assert business.tax_rate_basis_points == 0
    assert business.prices_include_tax is True
    assert business.capture == "immediate"
    assert business.allow_skip_payment is False
    assert business.payment_hold_minutes == 15
    assert business.default_payment == PaymentRule()


@pytest.mark.parametrize(
    ("fields", "loc"),
    [
        ({"tax_rate_basis_points": -1}, ("tax_rate_basis_points",)),
        ({"tax_rate_basis_points": 10_001}, ("tax_rate_basis_points",)),
        ({"payment_hold_minutes": 4}, ("payment_hold_minutes",)),
        ({"payment_hold_minutes": 61}, ("payment_hold_minutes",)),
        ({"capture": "later"}, ("capture",)),
        ({"default_payment": {"mode": "deposit"}}, ("default_payment",)),
        (
            {"default_payment": {"mode": "full", "deposit_percent": 10}},
            ("default_payment", "deposit_percent"),
        ),
    ],
)
def test_bad_payment_settings_are_refused(fields: dict[str, Any], loc: tuple[str, ...]) -> None:
    with pytest.raises(ValidationError) as caught:
        settings(**fields)
    assert [tuple(e["loc"]) for e in caught.value.errors()] == [loc]


def test_a_service_without_its_own_rule_uses_the_business_default() -> None:
    business = settings(default_payment={"mode": "deposit", "deposit_percent": 20})
    inherits = Service(id="s1", name="Massage", duration_minutes=60, price_minor=6500)
    own = inherits.model_copy(update={"payment": PaymentRule(mode="full")})
    assert inherits.payment_rule(business) == deposit(deposit_percent=20)
    assert own.payment_rule(business) == PaymentRule(mode="full")


def test_money_text_uses_the_iso_exponent() -> None:
    assert money_text(30, "GBP") == "GBP 0.30"
    assert money_text(123456, "EUR") == "EUR 1,234.56"
    assert money_text(5000, "JPY") == "JPY 5,000"
    assert money_text(1500, "IQD") == "IQD 1.500"  # ISO says three decimals, though CLDR shows none
    assert money_text(250050, "RSD") == "RSD 2,500.50"
