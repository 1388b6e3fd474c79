"""Issue 8, section 4: what one record or request adds to the log does not ride on the next one."""

from __future__ import annotations

import io
import json
import logging
from typing import Any

from local.moto import faults
from tests.support.notification_fixtures import Salon, StreamTap, book, new_customer
from tests.support.notification_wiring import Notifications, context


def log_lines(captured: str) -> list[dict[str, Any]]:
    lines = []
    for line in captured.splitlines():
        if line.startswith("{"):
            try:
                lines.append(json.loads(line))
            except ValueError:
                continue
    return lines


def test_each_records_log_lines_carry_its_own_booking_and_nothing_remains_after_the_invocation(
    notifications: Notifications, salon: Salon
) -> None:
    from reminders.handler import logger

    captured = io.StringIO()  # beside the function's own output: a handler with its formatter
    handler = logging.StreamHandler(captured)
    handler.setFormatter(logger.registered_formatter)
    logger._logger.addHandler(handler)

    ann, bob = new_customer(), new_customer()
    tap = StreamTap(notifications.aws, notifications.resources.table_name)
    first = book(notifications.api, salon, salon.at(salon.day(3), "10:00"), ann)
    second = book(notifications.api, salon, salon.at(salon.day(3), "12:00"), bob)
    records = tap.records()
    faults.refuse_to = {ann.email, bob.email}  # each record logs a failed send
    try:
        result = notifications.handler.lambda_handler({"Records": records}, context())
    finally:
        faults.refuse_to = set()
        logger._logger.removeHandler(handler)
    assert result == {"batchItemFailures": []}

    failed = [line for line in log_lines(captured.getvalue()) if line.get("message") == "message failed"]
    order = [line["booking_id"] for line in failed]
    assert order == [first["id"]] * order.count(first["id"]) + [second["id"]] * order.count(second["id"])
    assert order.count(first["id"]) >= 1 and order.count(second["id"]) >= 1
    assert "booking_id" not in logger.get_current_keys()
    assert "function_name" not in logger.get_current_keys()  # the invocation's context is gone too
    assert logger.thread_safe_get_current_keys() == {}
