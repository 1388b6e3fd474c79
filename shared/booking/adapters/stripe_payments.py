"""Stripe through the official SDK: each business's own account (its restricted secret key), PaymentIntents
for what is charged at booking, SetupIntents for a card kept on file, refunds, and webhook signatures.

Every call that creates or moves money carries an idempotency key derived from our own ids, so a retried
request (ours, or the SDK's own network retries) never charges or refunds twice. Locally `api_base` (the
STRIPE_API_BASE setting) points the SDK at localstripe, patched to behave as Stripe does where we lean on
it (local/stripe_patches/: idempotency keys, declines, the events Stripe sends); the booking flow checks
its own state before calling Stripe as well.

Why the business's own account rather than Stripe Connect: the business owns its Stripe relationship,
payouts, disputes and fees with no platform in between (the deployment is the business's own), and it
works against localstripe, which has no Connect. The adapter is ready for Connect: every call goes through
`_client(account)`, where a platform key and a `stripe_account` request option would go instead.
"""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from booking import deadline
from booking.domain.checkout import (
    AuthenticationRequired,
    BadSignature,
    CardDeclined,
    IntentState,
    PaymentProviderDown,
    PaymentRefused,
    StartedIntent,
    StripeAccount,
    StripeEvent,
    StripeRefund,
)

if TYPE_CHECKING:
    import stripe

NETWORK_RETRIES = 2
# Each Stripe request: at most this long to connect and to read the answer, and never past the function's
# deadline (booking/deadline.py): the timeouts shrink to what is left, and a retry that would not fit is
# not made. The SDK's own default is 80 s, far past any of our functions' timeouts.
CONNECT_SECONDS = 2.0
READ_SECONDS = 6.0
MIN_CALL_SECONDS = 1.0  # a call is not started with less than this left: a 503 to retry instead


class StripePayments:
    """The PaymentGateway port on Stripe."""

    def __init__(self, api_base: str | None = None) -> None:
        """`api_base`: where Stripe's API is (localstripe's, locally); Stripe's own when None."""
        self._api_base = api_base or None
        self._clients: dict[str, stripe.StripeClient] = {}  # one per key: the SDK's HTTP session reused

    def _client(self, account: StripeAccount) -> stripe.StripeClient:
        client = self._clients.get(account.secret_key)
        if client is None:
            import stripe  # noqa: PLC0415 - the SDK costs ~170 ms to import: never on the availability path

            client = stripe.StripeClient(
                account.secret_key,
                base_addresses={"api": self._api_base} if self._api_base else None,
                max_network_retries=NETWORK_RETRIES,
                http_client=_deadline_http_client(),
            )
            self._clients[account.secret_key] = client
        return client

    def check_account(self, account: StripeAccount) -> None:
        """Proves the key works (reads the balance, which any restricted key with payments access may)."""
        _call(self._client(account).v1.balance.retrieve)

    def start_charge(
        self,
        account: StripeAccount,
        *,
        tenant_id: str,
        booking_id: str,
        amount_minor: int,
        currency: str,
        manual_capture: bool,
        key: str | None = None,
        purpose: str = "booking",
    ) -> StartedIntent:
        """A PaymentIntent the customer confirms in the widget: the booking's (`purpose` "booking", once per
        booking) or a later one for what is still owed ("balance", "no_show_fee": `key` per attempt)."""
        # Cards only: the widget's Payment Element, and every way localstripe can pay. Receipts are ours
        # (with the invoice), so no receipt_email; nor a description (localstripe refuses both).
        params: Any = {
            "amount": amount_minor,
            "currency": currency.lower(),
            "capture_method": "manual" if manual_capture else "automatic",
            "payment_method_types": ["card"],
            "metadata": {"tenant_id": tenant_id, "booking_id": booking_id, "purpose": purpose},
        }
        intent = _call(
            lambda: self._client(account).v1.payment_intents.create(
                params=params, options={"idempotency_key": key or f"booking-{booking_id}-charge"}
            )
        )
        return StartedIntent(intent_id=intent.id, client_secret=str(intent.client_secret))

    def start_setup(
        self, account: StripeAccount, *, tenant_id: str, booking_id: str, email: str, name: str
    ) -> StartedIntent:
        """A SetupIntent saving the customer's card for later fees, on a Stripe Customer of its own (a
        saved card can only be charged off-session through its Customer)."""
        client = self._client(account)
        customer = _call(
            lambda: client.v1.customers.create(
                params={"email": email, "name": name, "metadata": {"tenant_id": tenant_id}},
                options={"idempotency_key": f"booking-{booking_id}-customer"},
            )
        )
        params: Any = {
            "customer": customer.id,
            "payment_method_types": ["card"],
            "usage": "off_session",
            "metadata": {"tenant_id": tenant_id, "booking_id": booking_id},
        }
        intent = _call(
            lambda: client.v1.setup_intents.create(
                params=params, options={"idempotency_key": f"booking-{booking_id}-setup"}
            )
        )
        return StartedIntent(
            intent_id=intent.id, client_secret=str(intent.client_secret), customer_ref=customer.id
        )

    def charge_saved_card(
        self,
        account: StripeAccount,
        *,
        tenant_id: str,
        booking_id: str,
        customer_ref: str,
        card: str,
        amount_minor: int,
        currency: str,
        key: str,
        purpose: str,
    ) -> IntentState:
        """Charges the card on file without the customer (off-session). AuthenticationRequired when the
        bank wants the customer present, CardDeclined when the card is refused."""
        params: Any = {
            "amount": amount_minor,
            "currency": currency.lower(),
            "customer": customer_ref,
            "payment_method": card,
            "off_session": True,
            "confirm": True,
            "metadata": {"tenant_id": tenant_id, "booking_id": booking_id, "purpose": purpose},
        }
        intent = _call(
            lambda: self._client(account).v1.payment_intents.create(
                params=params, options={"idempotency_key": key}
            )
        )
        if intent.status in ("requires_action", "requires_payment_method"):
            # Stripe answers an off-session charge that needs 3-D Secure with a 402 (below); localstripe
            # with the intent waiting for the customer's action. Either way the customer must pay.
            raise AuthenticationRequired("the card's bank asks the customer to authenticate this payment")
        return self.intent(account, str(intent.id))

    def intent(self, account: StripeAccount, intent_id: str) -> IntentState:
        """The intent as Stripe has it now (webhooks may arrive in any order: the object decides)."""
        client = self._client(account)
        if intent_id.startswith("seti_"):
            setup = _call(lambda: client.v1.setup_intents.retrieve(intent_id)).to_dict()
            return IntentState(
                intent_id=str(setup["id"]),
                status=str(setup.get("status")),
                amount_minor=0,
                received_minor=0,
                capturable_minor=0,
                metadata={str(k): str(v) for k, v in (setup.get("metadata") or {}).items()},
                client_secret=str(setup.get("client_secret") or ""),
                failure=_failure(setup.get("last_setup_error")),
                saved_card=_id_of(setup.get("payment_method")),
            )
        # The latest charge says what was refunded, in our API or in Stripe's dashboard.
        payment = _call(
            lambda: client.v1.payment_intents.retrieve(intent_id, params={"expand": ["latest_charge"]})
        ).to_dict()
        charge = payment.get("latest_charge")
        status = str(payment.get("status"))
        amount = int(payment.get("amount") or 0)
        # Stripe always sends amount_received and amount_capturable; derived from the status if absent.
        received = payment.get("amount_received")
        capturable = payment.get("amount_capturable")
        refunded = int(charge.get("amount_refunded") or 0) if isinstance(charge, dict) else 0
        return IntentState(
            intent_id=str(payment["id"]),
            status=status,
            amount_minor=amount,
            currency=str(payment.get("currency") or "").upper(),
            received_minor=int(
                received if received is not None else (amount if status == "succeeded" else 0)
            ),
            capturable_minor=int(
                capturable if capturable is not None else (amount if status == "requires_capture" else 0)
            ),
            metadata={str(k): str(v) for k, v in (payment.get("metadata") or {}).items()},
            client_secret=str(payment.get("client_secret") or ""),
            failure=_failure(payment.get("last_payment_error")),
            refunded_minor=refunded,
            refunds=self._refunds(client, intent_id) if refunded else (),
            cancellation_reason=payment.get("cancellation_reason"),
            decline_code=_decline_code(payment.get("last_payment_error")),
        )

    def _refunds(self, client: stripe.StripeClient, intent_id: str) -> tuple[StripeRefund, ...]:
        """The intent's refunds, oldest first (a booking's payment has a handful at most)."""
        listed = _call(
            lambda: client.v1.refunds.list(params={"payment_intent": intent_id, "limit": 100})
        ).to_dict()
        return tuple(
            sorted(
                (
                    StripeRefund(
                        id=str(refund["id"]),
                        amount_minor=int(refund.get("amount") or 0),
                        created=datetime.fromtimestamp(int(refund.get("created") or 0), UTC),
                        status=str(refund.get("status") or "succeeded"),
                    )
                    for refund in listed.get("data") or []
                ),
                key=lambda refund: refund.created,
            )
        )

    def capture(self, account: StripeAccount, intent_id: str, key: str) -> IntentState:
        client = self._client(account)
        _call(lambda: client.v1.payment_intents.capture(intent_id, options={"idempotency_key": key}))
        return self.intent(account, intent_id)

    def refund(
        self, account: StripeAccount, intent_id: str, amount_minor: int, key: str, reason: str = ""
    ) -> StripeRefund:
        """Refunds part or all of a captured intent. `key` is derived from what decided the refund, so a
        retried request or a redelivered event refunds once (Stripe answers the first refund again)."""
        params: Any = {"payment_intent": intent_id, "amount": amount_minor}
        if reason:
            params["metadata"] = {"reason": reason[:500]}
        refund = _call(
            lambda: self._client(account).v1.refunds.create(params=params, options={"idempotency_key": key})
        )
        return StripeRefund(
            id=str(refund.id),
            amount_minor=int(refund.amount),
            created=datetime.fromtimestamp(int(refund.created), UTC),
            status=str(getattr(refund, "status", None) or "succeeded"),
        )

    def cancel(self, account: StripeAccount, intent_id: str) -> None:
        """Cancels an intent not yet paid (an abandoned or replaced checkout); one already settled is kept."""
        client = self._client(account)
        with contextlib.suppress(PaymentRefused):  # already succeeded or cancelled: nothing to cancel
            _call(lambda: client.v1.payment_intents.cancel(intent_id))

    def verify_event(self, account: StripeAccount, payload: bytes, signature: str | None) -> StripeEvent:
        """Stripe's own check of `Stripe-Signature` (HMAC-SHA256 over "t.payload", 300 s tolerance)."""
        if not signature:
            raise BadSignature("the Stripe-Signature header is missing")
        import stripe  # noqa: PLC0415 - see _client

        try:
            event = stripe.Webhook.construct_event(payload, signature, account.webhook_secret, tolerance=300)
        except stripe.SignatureVerificationError:
            raise BadSignature("the Stripe-Signature does not verify (or is older than 5 minutes)") from None
        except ValueError:
            raise BadSignature("the payload is not a Stripe event") from None
        obj = event.data.object.to_dict()
        is_intent = obj.get("object") in ("payment_intent", "setup_intent")
        intent = obj.get("id") if is_intent else obj.get("payment_intent")
        if isinstance(intent, dict):  # an expanded intent (localstripe expands what Stripe would not)
            intent = intent.get("id")
        return StripeEvent(id=str(event.id), type=str(event.type), intent_id=str(intent) if intent else None)


def _id_of(value: Any) -> str | None:
    """An object's id, whether Stripe sent the id or the expanded object."""
    if isinstance(value, dict):
        return str(value["id"]) if value.get("id") else None
    return str(value) if value else None


def _decline_code(error: Any) -> str | None:
    if isinstance(error, dict):
        code = error.get("decline_code") or error.get("code")
        return str(code) if code else None
    return None


def _failure(error: Any) -> str | None:
    if not error:
        return None
    if isinstance(error, dict):
        return str(error.get("message") or error.get("code") or "declined")
    return str(error)


def _deadline_http_client() -> Any:
    """The SDK's requests-based client, with timeouts and retries that respect the function's deadline."""
    import stripe  # noqa: PLC0415 - see _client

    class DeadlineRequestsClient(stripe.RequestsClient):
        def _request_internal(self, *args: Any, **kwargs: Any) -> Any:
            deadline.require(MIN_CALL_SECONDS, "reach the payment provider")
            left = deadline.remaining()
            self._timeout = (min(CONNECT_SECONDS, left), min(READ_SECONDS, max(left - CONNECT_SECONDS, 0.5)))
            return super()._request_internal(*args, **kwargs)

        def _should_retry(self, *args: Any, **kwargs: Any) -> bool:
            wanted = bool(super()._should_retry(*args, **kwargs))
            # A retry waits (0.5 s and more), then needs a call of its own: not when that would not fit.
            return wanted and deadline.remaining() > MIN_CALL_SECONDS + stripe.HTTPClient.MAX_DELAY

    return DeadlineRequestsClient(timeout=(CONNECT_SECONDS, READ_SECONDS))


def _call(action: Any) -> Any:
    """Runs one SDK call, mapping Stripe's errors to domain errors (with Stripe's own words)."""
    import stripe  # noqa: PLC0415 - loaded by _client already

    try:
        return action()
    except stripe.CardError as error:
        if error.code == "authentication_required":
            raise AuthenticationRequired(
                "the card's bank asks the customer to authenticate this payment"
            ) from None
        raise CardDeclined(error.user_message or str(error)) from None
    except stripe.AuthenticationError as error:
        raise PaymentRefused(f"Stripe refused the key: {error.user_message or error}") from None
    except stripe.PermissionError as error:
        raise PaymentRefused(f"the key may not do this: {error.user_message or error}") from None
    except (stripe.APIConnectionError, stripe.RateLimitError) as error:
        raise PaymentProviderDown(f"Stripe could not be reached: {type(error).__name__}") from None
    except stripe.InvalidRequestError as error:
        raise PaymentRefused(error.user_message or str(error)) from None
    except stripe.StripeError as error:
        if (error.http_status or 500) >= 500:
            raise PaymentProviderDown(f"Stripe answered {error.http_status}") from None
        raise PaymentRefused(error.user_message or str(error)) from None
