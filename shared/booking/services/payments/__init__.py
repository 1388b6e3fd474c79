"""Payments, as one capability: paying at booking (checkout), what Stripe's events do (events), refunds and
cancellation policies, paying later, what staff do (capture, the desk, giving credit back), no-show fees,
the payment timers, and the books (invoices, credit notes, the journal). Each module says what it owns;
`changes` is how any of them saves a payment-side change of a booking."""
