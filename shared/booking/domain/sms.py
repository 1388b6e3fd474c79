"""Who may be texted, and how much: the guard against SMS pumping (fraudsters booking with premium or
foreign numbers to make the business pay for texts to them).

A business texts only numbers of the countries it lists (`sms_countries`; by default its own country, the
one its time zone belongs to in the tz database's zone.tab, with the regions sharing its calling code), and
at most `sms_daily_cap` texts a business-local day. The account-wide monthly SMS spend limit is set at deploy (ops/sms_spend_limit.py).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from importlib.resources import files

import phonenumbers

DEFAULT_DAILY_CAP = 200


@functools.cache
def _zone_countries() -> dict[str, str]:
    table = files("tzdata").joinpath("zoneinfo", "zone.tab").read_text(encoding="utf-8")
    return {
        fields[2]: fields[0]
        for line in table.splitlines()
        if line and not line.startswith("#") and len(fields := line.split("\t")) >= 3
    }


def home_country(time_zone: str) -> str | None:
    """The ISO 3166 country a time zone belongs to (Europe/London -> GB); None for UTC and the like."""
    return _zone_countries().get(time_zone)


# The North American Numbering Plan (+1) spans the US, Canada and many Caribbean islands whose numbers
# cost more to text (a favourite of SMS pumping): a +1 business's own country is just its own.
_SHARED_PLANS_NOT_TRUSTED = frozenset({1})


def allowed_countries(listed: Sequence[str] | None, time_zone: str) -> frozenset[str]:
    """The countries whose numbers may be texted: those listed, or the business's own, with the regions
    that share its calling code (GB's +44 covers Guernsey, Jersey and the Isle of Man)."""
    if listed is not None:
        return frozenset(listed)
    home = home_country(time_zone)
    if home is None:
        return frozenset()
    code = phonenumbers.country_code_for_region(home)
    if code in _SHARED_PLANS_NOT_TRUSTED:
        return frozenset({home})
    return frozenset({home, *phonenumbers.region_codes_for_country_code(code)})


def country_refusal(phone: str, allowed: frozenset[str]) -> str | None:
    """Why `phone` must not be texted (None: it may)."""
    if not allowed:
        return "the business has not said which countries may receive texts (sms_countries)"
    try:
        region = phonenumbers.region_code_for_number(phonenumbers.parse(phone, None))
    except phonenumbers.NumberParseException:
        return "the phone number cannot be read"
    if region not in allowed:
        return f"texts go to numbers in {', '.join(sorted(allowed))} only"
    return None
