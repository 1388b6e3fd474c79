"""The Lambda layer installs shared/requirements.txt; it must be exactly the project's runtime dependencies."""

from __future__ import annotations

import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def normalise(requirement: str) -> str:
    return "".join(requirement.split()).lower()


def test_layer_requirements_are_exactly_the_runtime_dependencies() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    dependencies = sorted(normalise(d) for d in project["dependencies"])

    lines = (REPO / "shared" / "requirements.txt").read_text(encoding="utf-8").splitlines()
    requirements = sorted(normalise(line.split("#", 1)[0]) for line in lines if line.split("#", 1)[0].strip())

    assert requirements == dependencies
    assert len(set(requirements)) == len(requirements)


def test_runtime_dependencies_are_pinned() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    unpinned = [d for d in project["dependencies"] if "==" not in d]
    assert unpinned == []
