"""Messages: at least once, never twice, through one pipeline.

    kinds.py            every message kind, declared: what it is about (a booking or a booking request),
                        who it goes to, by which channels, its templates, what it carries, its checks
    checks.py           those checks: when a message no longer applies
    pipeline.py         the one path every message takes: recorded in the communications log, claimed with a
                        lease, rendered, sent, the provider's id recorded, retried with backoff, given up as
                        failed; held and released; `retry` for every kind's retry timer
    sms.py              the SMS policy the pipeline applies to every text (countries, daily cap, opt-out)
    booking_content.py  what a booking's messages say and carry (invites, series, invoices)
    request_content.py  what a booking request's messages say
    bookings.py         which messages a booking's committed change causes, and its reminders' schedules
    requests.py         which messages a booking request's committed change causes, and its escalations
    login_codes.py      sign-in codes: sent once and never logged, on purpose outside the pipeline

The payment lifecycle (services/payments/timers.py) decides when an authorisation's lapse is warned of and
sends the warning through the same pipeline.
"""
