"""Appointment-booking backend: the shared package deployed as the Lambda layer.

domain/    pure rules and models (no I/O, no clock reads, no environment)
ports.py   the Protocols the use cases need
services/  use cases orchestrating ports
adapters/  DynamoDB, Cognito claims, clocks, and (later) SES, SNS, Scheduler, Stripe
"""
