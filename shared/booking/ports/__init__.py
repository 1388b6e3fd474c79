"""The ports: the Protocols the domain and the services need from the outside world, one module per
capability (system, catalogue, bookings, customers, messaging, meetings, payments, requests). Adapters
implement them (booking/adapters/); services depend on them only. Everything is re-exported here, so a
use case imports `from booking.ports import BookingRepository` whatever module it lives in."""

from booking.ports.bookings import BookingRepository, SeriesRepository
from booking.ports.catalogue import CatalogueReader, CatalogueRepository
from booking.ports.customers import CustomerRepository, CustomerSessions, Notifier
from booking.ports.meetings import MeetingIndex, MeetingLinks, MeetingProviders, MeetingProvisioner
from booking.ports.messaging import (
    Attachment,
    DeliveryFailed,
    EmailSender,
    MessageLog,
    ReminderScheduler,
    RetryScheduler,
    SmsBudget,
    SmsSender,
    TimerScheduler,
)
from booking.ports.payments import Documents, Journal, PaymentGateway
from booking.ports.requests import PhotoStore, RequestRepository
from booking.ports.system import Clock, CredentialsStore, Idempotency, IdGenerator, RateLimiter, WebhookEvents

__all__ = [
    "Attachment",
    "BookingRepository",
    "CatalogueReader",
    "CatalogueRepository",
    "Clock",
    "CredentialsStore",
    "CustomerRepository",
    "CustomerSessions",
    "DeliveryFailed",
    "Documents",
    "EmailSender",
    "IdGenerator",
    "Idempotency",
    "Journal",
    "MeetingIndex",
    "MeetingLinks",
    "MeetingProviders",
    "MeetingProvisioner",
    "MessageLog",
    "Notifier",
    "PaymentGateway",
    "PhotoStore",
    "RateLimiter",
    "ReminderScheduler",
    "RequestRepository",
    "RetryScheduler",
    "SeriesRepository",
    "SmsBudget",
    "SmsSender",
    "TimerScheduler",
    "WebhookEvents",
]
