"""EventBridge Scheduler: patch 5 for schedules (each created, updated or deleted schedule published as
a `ScheduleChange`, with what recreates it), and restoring saved schedules (`load_schedules`)."""

from __future__ import annotations

import copy
import logging
from collections.abc import Callable, Iterable
from typing import Any

from local.moto._support import WRITE_LOCK, bound
from local.moto.backends import backend
from local.moto.events import ScheduleChange, publish
from local.moto.installing import ORIGINALS

logger = logging.getLogger(__name__)

SCHEDULE_WRITES = ("create_schedule", "update_schedule", "delete_schedule")


def _schedule_definition(schedule: Any) -> dict[str, Any]:
    full = schedule.to_dict()
    keys = ("Name", "GroupName", "ScheduleExpression", "ScheduleExpressionTimezone", "FlexibleTimeWindow")
    definition = {k: full[k] for k in keys if full.get(k) is not None}
    definition["Target"] = copy.deepcopy(full["Target"])
    if full.get("ActionAfterCompletion"):
        definition["ActionAfterCompletion"] = full["ActionAfterCompletion"]
    if full.get("State"):
        definition["State"] = full["State"]
    return definition


def _schedule_write(name: str) -> Callable[..., Any]:
    original = ORIGINALS[name]

    def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        arguments = bound(original, self, args, kwargs)
        with WRITE_LOCK:
            result = original(self, *args, **kwargs)
            group = arguments.get("group_name") or "default"
            if name == "delete_schedule":
                publish(ScheduleChange(group, arguments["name"], None))
            else:
                publish(ScheduleChange(group, result.name, _schedule_definition(result)))
            return result

    return wrapper


def load_schedules(definitions: Iterable[dict[str, Any]]) -> None:
    """Makes saved schedules again, as they were (publishing nothing: they are not new)."""
    scheduler = backend("scheduler")
    create = ORIGINALS["create_schedule"]
    for d in definitions:
        if d.get("GroupName", "default") not in scheduler.schedule_groups:
            logger.warning("schedule %s belongs to a group that no longer exists; dropped", d["Name"])
            continue
        create(
            scheduler,
            description=None,
            end_date=None,
            flexible_time_window=d["FlexibleTimeWindow"],
            group_name=d.get("GroupName", "default"),
            kms_key_arn=None,
            name=d["Name"],
            schedule_expression=d["ScheduleExpression"],
            schedule_expression_timezone=d.get("ScheduleExpressionTimezone"),
            start_date=None,
            state=d.get("State"),
            target=d["Target"],
            action_after_completion=d.get("ActionAfterCompletion"),
        )


def apply() -> None:
    from moto.scheduler.models import EventBridgeSchedulerBackend

    for name in SCHEDULE_WRITES:
        ORIGINALS[name] = getattr(EventBridgeSchedulerBackend, name)
        setattr(EventBridgeSchedulerBackend, name, _schedule_write(name))
