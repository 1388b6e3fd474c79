"""Every change the local stack makes to localstripe (its Stripe server), in one package: a module for each
numbered patch below (two more for patch 1), named at the head of its item.

Written against localstripe 1.15.10 (pinned in pyproject.toml). `PATCHED` and `RELIED_ON` name each
localstripe function this package replaces, wraps or leans on, with a hash of its source;
tests/local/test_localstripe.py fails when an upgrade changes any of them, so whoever upgrades re-reads
those functions before trusting this. The patches are applied inside localstripe's own process
(`local/stripe_server.main` calls `keep_store_in` and `install` before serving); the application and its
tests only ever see their effects over HTTP, through the official SDK, as they would see Stripe's.

1. `cards.py` (the cards), `card_payments.py` (on PaymentIntents), `card_setups.py` (on SetupIntents):
   Stripe's test cards behave as at Stripe (https://docs.stripe.com/testing). localstripe declines the
   decline cards (4000 0000 0000 0002 generic_decline, 9995 insufficient_funds, 9987 lost_card, 9979
   stolen_card, 0069 expired_card, 0127 incorrect_cvc, 0119 processing_error, 4242 4242 4242 4241
   incorrect_number) only when they are attached or set up, and answers every decline as an
   `invalid_request_error` "card_declined". Here they are declined when charged too, with Stripe's 402
   `card_error` (`code`, `decline_code`, `message`, the `payment_intent` or `setup_intent`); the intent is
   left `requires_payment_method` with `last_payment_error` / `last_setup_error` ({code, decline_code,
   message, type: card_error, payment_method}) and `payment_method` null, as Stripe leaves it, and the
   customer may confirm it again with another card (localstripe refused any second confirmation). A
   declined SetupIntent is no longer `canceled` (Stripe never cancels it) and says so with
   `setup_intent.setup_failed`. Stripe's test PaymentMethods (`pm_card_visa`, `pm_card_visa_chargeDeclined`,
   `pm_card_chargeDeclinedInsufficientFunds`, `pm_card_authenticationRequired`,
   `pm_card_authenticationRequiredOnSetup`, ... see TEST_PAYMENT_METHODS) name those cards. 3-D Secure:
   4000 0025 0000 3155 asks for authentication on-session (PaymentIntent and SetupIntent `requires_action`,
   completed by `POST /v1/payment_intents/{id}/_authenticate` or the SetupIntent equivalent added here,
   `POST /v1/setup_intents/{id}/_authenticate?success=true|false`), but once saved through a succeeded
   SetupIntent its off-session charges succeed; 4000 0027 6000 3184 (and localstripe's other 3-D Secure
   cards) always ask: off-session (`off_session=true, confirm=true`) that is Stripe's 402
   `authentication_required` with the intent, `requires_payment_method`, in the error and a
   `payment_intent.payment_failed` event (localstripe left the intent waiting for an action no customer
   was there to take). localstripe's Stripe.js (`localstripe-v3.js`) keeps working: its "complete
   authentication" confirms the SetupIntent again and its "fail authentication" cancels it with the
   publishable key; both are read as the customer's 3-D Secure answer. A SetupIntent that succeeds
   attaches its card to its Customer, as Stripe does.
2. `idempotency.py` (with the local routes' authentication):
   Idempotency keys honoured. localstripe ignores `Idempotency-Key`. Here a POST with a key seen before
   (same API key) replays the first answer, status and body, with `Idempotent-Replayed: true`, without
   acting again; the same key on another endpoint or with other parameters is Stripe's 400
   `idempotency_error`, and while the first request runs a second one is a 409. As at Stripe, an answer
   is kept only once the endpoint acted (successes, 402 declines, 5xx), for 24 hours, in memory.
3. `refunds.py`:
   Refunds never exceed what is refundable. localstripe refunds any amount, by default the whole charge
   again. Here a refund above the charge less what was refunded already is Stripe's 400 "Refund amount
   (£40.00) is greater than charge amount (£25.00)" (or "... unrefunded amount on charge (£15.00)"), a
   charge refunded in full refuses more (`charge_already_refunded`), a refund without an amount refunds
   what is left, and an intent only authorised (`requires_capture`) cannot be refunded (it is cancelled
   instead, as at Stripe). A refund names its `payment_intent` even when made by charge.
4. `events.py`:
   The events Stripe sends that localstripe does not, as localstripe's own Event objects (listed by
   `GET /v1/events`, newest first as at Stripe) made when the object changes, from its real state, and
   delivered to the registered webhooks: `setup_intent.succeeded`, `setup_intent.setup_failed`,
   `setup_intent.requires_action`, `setup_intent.canceled`, `payment_intent.requires_action`,
   `payment_intent.amount_capturable_updated` (a manual-capture intent authorised),
   `payment_intent.canceled` (with `cancellation_reason` as given, "automatic" when the authorisation
   lapsed: patch 6) and, after every refund, in Stripe's order, `charge.refunded`, `refund.created`,
   `charge.refund.updated`. Objects carry the fields Stripe's have that the adapter reads:
   `amount_received`, `amount_capturable`, `cancellation_reason`, `canceled_at`, and `latest_charge` as an
   id unless expanded, on a PaymentIntent; `amount_captured` and `payment_intent` on a charge;
   `payment_intent` and `reason` on a refund; `last_setup_error` and `cancellation_reason` on a
   SetupIntent. A capture is refused unless the intent is `requires_capture` (localstripe captured a
   cancelled one).
5. `deliveries.py`:
   Webhook deliveries retried. localstripe POSTs each event once, a second after it, to all endpoints at
   once, and forgets a failure. Here each endpoint gets its events one at a time in the order they were
   made (Stripe does not promise an order; keeping it makes the tests' expectations exact), and a delivery
   answered other than 2xx, or not answered, is tried again after growing pauses (`retry_pauses`, 1 s,
   2 s, 4 s ... 5 minutes, 12 retries), each attempt signed afresh (`Stripe-Signature: t=<now>,v1=...`
   over "t.payload" with the endpoint's secret, as Stripe re-signs every attempt), each logged in the
   localstripe log. An endpoint registered again, or silenced, is honoured by the retries still pending.
6. `lapses.py`:
   Authorisations lapse on the dev clock. Stripe cancels an authorisation not captured within 7 days
   (`cancellation_reason: "automatic"`, `payment_intent.canceled`). localstripe never does, and runs on
   real time while the application runs on the dev clock. `POST /_local/lapse_authorisations` with
   `{"now": <unix seconds>}` (local only: no key, like `/_config/`) takes the dev clock's time (each
   authorisation is stamped on the dev clock from then on) and cancels every `requires_capture` intent
   authorised 7 days or more before `now`; it answers the ids it cancelled. The local stack's dispatcher
   calls it on its passes (`local/stripe_clock.py`).
7. `store.py`:
   The store where we say. localstripe keeps its whole state in one pickle at a fixed path,
   /tmp/localstripe.pickle, rewritten on every change and shared by every localstripe on the machine.
   `keep_store_in` moves it to the file we name (or keeps it in memory only); see `local/stripe_server.py`.

Each patch module's `apply` makes its own replacements; `install` (here) calls those of patches 1, 3, 4 and
5, then puts patch 2's middlewares into localstripe's application and adds its routes (a SetupIntent's
`_authenticate`, patch 6's `/_local/lapse_authorisations`). Two modules serve the others: `installing.py`,
how a replacement is made (`_replace` keeps each original, for the wrappers that call it and for
`original`) and what the guard test reads (`lookup`, `original`, `source_hash`); `_support.py`, what
several patches share (localstripe's log and `server` module, Stripe's errors). The patch modules import
those two and the patches they build on (`events` for `_emit` and `DEV_CLOCK`, `cards` for the cards),
never this `__init__`, which is what callers import. Patch 7 (`keep_store_in`) is called on its own.
"""

from __future__ import annotations

from collections.abc import Sequence

import localstripe
from localstripe import resources

from local.stripe_patches import card_payments, card_setups, cards, deliveries, events, refunds
from local.stripe_patches._support import logger, server
from local.stripe_patches.cards import (
    AUTHENTICATION_FAILED_PAYMENT,
    AUTHENTICATION_FAILED_SETUP,
    AUTHENTICATION_ON_SETUP_ONLY,
    AUTHENTICATION_REQUIRED,
    DECLINED,
    DECLINED_WHEN_CHARGED,
    TEST_PAYMENT_METHODS,
    Decline,
)
from local.stripe_patches.deliveries import (
    DELIVERIES,
    WEBHOOK_DELAY_SECONDS,
    WEBHOOK_RETRY_PAUSES,
    WEBHOOK_TIMEOUT_SECONDS,
    Deliveries,
)
from local.stripe_patches.events import DEV_CLOCK
from local.stripe_patches.idempotency import (
    IDEMPOTENCY_MAX_KEYS,
    IDEMPOTENCY_SECONDS,
    auth_middleware,
    idempotency_middleware,
)
from local.stripe_patches.installing import _replace, _reroute_extra_apis, lookup, original, source_hash
from local.stripe_patches.lapses import AUTHORISATION_SECONDS, lapse_authorisations
from local.stripe_patches.refunds import money
from local.stripe_patches.store import keep_store_in

__all__ = [
    "AUTHENTICATION_FAILED_PAYMENT",
    "AUTHENTICATION_FAILED_SETUP",
    "AUTHENTICATION_ON_SETUP_ONLY",
    "AUTHENTICATION_REQUIRED",
    "AUTHORISATION_SECONDS",
    "DECLINED",
    "DECLINED_WHEN_CHARGED",
    "DELIVERIES",
    "DEV_CLOCK",
    "IDEMPOTENCY_MAX_KEYS",
    "IDEMPOTENCY_SECONDS",
    "LOCALSTRIPE_VERSION",
    "PATCHED",
    "RELIED_ON",
    "TEST_PAYMENT_METHODS",
    "WEBHOOK_DELAY_SECONDS",
    "WEBHOOK_RETRY_PAUSES",
    "WEBHOOK_TIMEOUT_SECONDS",
    "Decline",
    "Deliveries",
    "auth_middleware",
    "idempotency_middleware",
    "install",
    "installed",
    "keep_store_in",
    "lapse_authorisations",
    "logger",
    "lookup",
    "money",
    "original",
    "source_hash",
]

LOCALSTRIPE_VERSION = "1.15.10"

# The first 16 hex digits of the sha256 of each localstripe function's source in LOCALSTRIPE_VERSION: those
# this package replaces or wraps, and those whose internals it relies on ("module:Class.attribute").
PATCHED: dict[str, str] = {
    # 1 (cards, card_payments, card_setups): test cards, declines, 3-D Secure, confirming again
    "localstripe.resources:PaymentMethod._try_get_canonical_test_article": "1a3ba2c7603e4cdd",
    "localstripe.resources:PaymentMethod._charging_is_declined": "abad7f079a63e2ea",
    "localstripe.resources:Charge._set_auth_failure": "f4f07fd4838df296",
    "localstripe.resources:Charge._raise_failure": "d530f83ea995371a",
    "localstripe.resources:PaymentIntent._api_create": "f51a76abb3e057a7",
    "localstripe.resources:PaymentIntent._api_confirm": "b38050e216b1375e",
    "localstripe.resources:PaymentIntent._confirm": "b70702d7747af40c",
    "localstripe.resources:PaymentIntent._report_failure": "35320ec1e8ab0611",
    "localstripe.resources:PaymentIntent._api_authenticate": "a959cae405d0713b",
    "localstripe.resources:PaymentIntent.status": "1d3d29c83f9d7853",
    "localstripe.resources:PaymentIntent.last_payment_error": "de571e1095c727b0",
    "localstripe.resources:SetupIntent._api_confirm": "10d76769114dc625",
    "localstripe.resources:SetupIntent._attach_pm": "ea31eec0603aff87",
    "localstripe.resources:SetupIntent._api_cancel": "d6f575155c715990",
    # 2 (idempotency): idempotency, and the local routes' authentication
    "localstripe.server:auth_middleware": "ee0480c21a057844",
    # 3 (refunds)
    "localstripe.resources:Refund.__init__": "d8b0f11d905edecc",
    # 4 (events): events and the fields Stripe's objects have
    "localstripe.resources:PaymentIntent._create_charge": "8e4ff3d97ee4fa10",
    "localstripe.resources:PaymentIntent._api_cancel": "3d512f9738597d86",
    "localstripe.resources:PaymentIntent._api_capture": "c1640bde708d5670",
    "localstripe.resources:Charge._capture": "33ed5c718baa49f2",
    "localstripe.resources:Event._api_list_all": "8a4469a2d55ef649",
    # 5 (deliveries): webhook deliveries
    "localstripe.webhooks:schedule_webhook": "1240a9eae77281a4",
    "localstripe.webhooks:_send_webhook": "5315ca2b97c1cf22",
    # 7 (store): the store
    "localstripe.resources:Store.try_load_from_disk": "438a31d901ee97b5",
    "localstripe.resources:Store.dump_to_disk": "69e73b6158b1ba4f",
    "localstripe.resources:Store.__setitem__": "b4866b345ae54baf",
    "localstripe.resources:Store.__delitem__": "4c8cc498b5686f58",
}
RELIED_ON: dict[str, str] = {
    # An export is the instance's public attributes, then its public properties and class attributes;
    # an expanded path turns an id into the object; an update sets only attributes the object has.
    "localstripe.resources:StripeObject._export": "67f670066f06f4d9",
    "localstripe.resources:StripeObject._update": "7ebe72d9b462e723",
    "localstripe.resources:StripeObject._api_create": "29aad8f4f52a475a",
    "localstripe.resources:Event.__init__": "67ba623721a0b59b",  # a snapshot of data._export(), stored
    "localstripe.resources:Charge.__init__": "5c9fdd01913132b3",  # _authorized from _charging_is_declined
    "localstripe.resources:Charge._initialize_charge": "e323834c0301588f",  # _set_auth_failure, then on_failure_now
    "localstripe.resources:Charge.amount_refunded": "c9d7dd8856ab935e",  # the sum of its refunds
    "localstripe.resources:PaymentMethod.__init__": "248fa5151d357455",  # _card_number, card, customer
    "localstripe.resources:PaymentMethod._api_retrieve": "4a6d5b09f249e394",  # test ids, card_, src_
    "localstripe.resources:PaymentMethod._requires_authentication": "c12ea205565cbdc9",  # the 3-D Secure cards
    "localstripe.resources:PaymentMethod._attaching_is_declined": "e41a83aee21d7f5e",  # declined when saved
    "localstripe.resources:PaymentIntent.__init__": "bcd44cb40d0abcf8",
    "localstripe.resources:SetupIntent.__init__": "ddb43dd4fe692294",
    "localstripe.webhooks:register_webhook": "3bba3a201f9f161a",  # the _webhooks registry we deliver to
    "localstripe.server:get_post_data": "8318f7039c67d677",
    "localstripe.server:get_api_key": "8a33fe8f9dbd4bab",
    "localstripe.server:api_extra": "d886e280ba1f25d0",  # how a route of ours calls its function
    "localstripe.server:error_middleware": "51ae60353357f2b8",  # kept first among the middlewares
    "localstripe.server:save_store_middleware": "1bbd2c31c7a154c9",  # the store written after each POST
    "localstripe.errors:UserError.__init__": "2137aa1aff45b802",  # {"error": {..., "type", "message"}}
    # A route calls its handler through `_handler` (how the extra routes are pointed at the patches).
    "aiohttp.web_urldispatcher:AbstractRoute.__init__": "60c2aaab83a3757a",
}

_installed = False


def install(
    webhook_delay: float = WEBHOOK_DELAY_SECONDS, webhook_retry_pauses: Sequence[float] = WEBHOOK_RETRY_PAUSES
) -> None:
    """Applies patches 1 to 6 once per process, before localstripe's application starts serving."""
    global _installed  # noqa: PLW0603 - once per process
    if _installed:
        return
    if localstripe.__version__ != LOCALSTRIPE_VERSION:
        logger.warning(
            "localstripe %s is not the version these patches were written for (%s)",
            localstripe.__version__,
            LOCALSTRIPE_VERSION,
        )
    DELIVERIES.delay = webhook_delay
    DELIVERIES.retry_pauses = tuple(webhook_retry_pauses)
    cards.apply()  # 1
    card_payments.apply()
    card_setups.apply()
    refunds.apply()  # 3
    events.apply()  # 4
    deliveries.apply()  # 5
    # 2, the routes' authentication, 6: the application's middlewares and routes, before it is frozen
    _replace(server, "auth_middleware", auth_middleware)
    server.app.middlewares[:] = [
        server.error_middleware,
        auth_middleware,
        idempotency_middleware,
        server.save_store_middleware,
    ]
    _reroute_extra_apis()
    url = "/v1/setup_intents/{id}/_authenticate"
    server.app.router.add_route("POST", url, server.api_extra(resources.SetupIntent._api_authenticate, url))
    server.app.router.add_post("/_local/lapse_authorisations", lapse_authorisations)
    _installed = True


def installed() -> bool:
    return _installed
