"""moto's models: patch 2, no tracked instances. moto's `BaseModel.__new__` keeps every model object it
ever made (every item version, stream record and shard iterator) in a class-level list for its dashboard,
so nothing is ever freed. The embedded AWS has no dashboard: instances are no longer tracked."""

from __future__ import annotations

from typing import Any

from moto.core.common_models import BaseModel

from local.moto.installing import ORIGINALS


def _untracked_new(cls: type[BaseModel], *args: Any, **kwargs: Any) -> Any:
    return super(BaseModel, cls).__new__(cls)  # what moto's does, minus the tracking


def apply() -> None:
    ORIGINALS["base_model_new"] = BaseModel.__new__
    BaseModel.__new__ = staticmethod(_untracked_new)  # type: ignore[method-assign]
    from moto.core.model_instances import model_data

    for models in model_data.values():
        for model in models.values():
            model.instances_tracked = []  # type: ignore[attr-defined]
