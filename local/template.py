"""Reads resource definitions from infra/template.yaml so the local stack never repeats them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

TEMPLATE = Path(__file__).resolve().parent.parent / "infra" / "template.yaml"


class _CfnLoader(yaml.SafeLoader):
    """A YAML loader that keeps CloudFormation short-form intrinsics (!Ref, !Sub...) as {"Fn::X": value}."""


def _intrinsic(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    name = "Ref" if suffix == "Ref" else f"Fn::{suffix}"
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    return {name: value}


_CfnLoader.add_multi_constructor("!", _intrinsic)


def load_template(path: Path = TEMPLATE) -> dict[str, Any]:
    with path.open(encoding="utf-8") as handle:
        document: dict[str, Any] = yaml.load(handle, Loader=_CfnLoader)  # noqa: S506 - SafeLoader subclass
    return document


@dataclass(frozen=True)
class TableDefinition:
    logical_id: str
    create_args: dict[str, Any]
    ttl_attribute: str | None


@dataclass(frozen=True)
class UserPoolDefinition:
    logical_id: str
    custom_attributes: list[dict[str, Any]]
    groups: list[dict[str, Any]]
    username_attributes: list[str]


def _resources(template: dict[str, Any], kind: str) -> list[tuple[str, dict[str, Any]]]:
    return [
        (name, resource.get("Properties", {}))
        for name, resource in template["Resources"].items()
        if resource["Type"] == kind
    ]


def table_definitions(template: dict[str, Any] | None = None) -> list[TableDefinition]:
    """Each AWS::DynamoDB::Table, as CreateTable arguments; the local table name is the logical id."""
    template = template or load_template()
    tables = []
    for name, props in _resources(template, "AWS::DynamoDB::Table"):
        args: dict[str, Any] = {
            "TableName": name,
            "AttributeDefinitions": props["AttributeDefinitions"],
            "KeySchema": props["KeySchema"],
            "BillingMode": props.get("BillingMode", "PAY_PER_REQUEST"),
        }
        if "GlobalSecondaryIndexes" in props:
            args["GlobalSecondaryIndexes"] = props["GlobalSecondaryIndexes"]
        if "StreamSpecification" in props:
            args["StreamSpecification"] = {"StreamEnabled": True, **props["StreamSpecification"]}
        ttl = props.get("TimeToLiveSpecification", {})
        tables.append(TableDefinition(name, args, ttl.get("AttributeName") if ttl.get("Enabled") else None))
    return tables


def user_pool_definition(template: dict[str, Any] | None = None) -> UserPoolDefinition:
    """The one AWS::Cognito::UserPool: its custom attributes, and the groups (roles) defined on it."""
    template = template or load_template()
    [(name, props)] = _resources(template, "AWS::Cognito::UserPool")
    groups = [
        {
            "GroupName": g["GroupName"],
            "Description": g.get("Description", ""),
            "Precedence": g.get("Precedence", 0),
        }
        for _, g in _resources(template, "AWS::Cognito::UserPoolGroup")
    ]
    return UserPoolDefinition(
        logical_id=name,
        custom_attributes=props.get("Schema", []),
        groups=groups,
        username_attributes=props.get("UsernameAttributes", []),
    )


def queue_names(template: dict[str, Any] | None = None) -> list[str]:
    """The logical ids of the AWS::SQS::Queue resources (the dead-letter queues)."""
    return [name for name, _ in _resources(template or load_template(), "AWS::SQS::Queue")]


@dataclass(frozen=True)
class FailureHandling:
    """How Lambda treats the reminders function's failures, as the template configures it."""

    stream_batch_size: int
    stream_retries: int  # retries of a failing stream batch before it goes to its on-failure queue
    stream_failure_queue: str  # logical id
    async_retries: int  # retries of a failing asynchronous invocation (timers) before its queue
    async_failure_queue: str  # logical id


def _logical_id(reference: dict[str, Any]) -> str:
    """The logical id in `!GetAtt Name.Arn` or `!Ref Name`."""
    value = reference.get("Fn::GetAtt") or reference.get("Ref")
    return str(value).split(".")[0]


def reminders_failure_handling(template: dict[str, Any] | None = None) -> FailureHandling:
    props = (template or load_template())["Resources"]["RemindersFunction"]["Properties"]
    [stream] = [e["Properties"] for e in props["Events"].values() if e["Type"] == "DynamoDB"]
    invoke = props["EventInvokeConfig"]
    return FailureHandling(
        stream_batch_size=int(stream["BatchSize"]),
        stream_retries=int(stream["MaximumRetryAttempts"]),
        stream_failure_queue=_logical_id(stream["DestinationConfig"]["OnFailure"]["Destination"]),
        async_retries=int(invoke["MaximumRetryAttempts"]),
        async_failure_queue=_logical_id(invoke["DestinationConfig"]["OnFailure"]["Destination"]),
    )


def scheduler_dead_letter_queue(template: dict[str, Any] | None = None) -> str:
    """The logical id of the queue the reminders function names as its timers' dead-letter queue."""
    variables = (template or load_template())["Resources"]["RemindersFunction"]["Properties"]["Environment"]
    return _logical_id(variables["Variables"]["SCHEDULER_DLQ_ARN"])


def stream_kinds(template: dict[str, Any] | None = None) -> frozenset[str]:
    """The item kinds the reminders function's stream mapping lets through (its FilterCriteria)."""
    import json

    props = (template or load_template())["Resources"]["RemindersFunction"]["Properties"]
    [stream] = [e["Properties"] for e in props["Events"].values() if e["Type"] == "DynamoDB"]
    kinds: set[str] = set()
    for pattern in stream["FilterCriteria"]["Filters"]:
        kinds |= set(json.loads(pattern["Pattern"])["dynamodb"]["NewImage"]["kind"]["S"])
    return frozenset(kinds)


@dataclass(frozen=True)
class StateMachineDefinition:
    logical_id: str
    definition: str  # the ASL file as committed, its ${...} substitutions filled in
    task_functions: tuple[str, ...]  # logical ids of the functions its tasks invoke


def state_machine_definitions(
    function_arn: Callable[[str], str], template: dict[str, Any] | None = None
) -> list[StateMachineDefinition]:
    """The template's state machines, read from their DefinitionUri files (never a copy), with each
    DefinitionSubstitution that names a function (`!Ref <Function>Alias...` or `!GetAtt <Function>.Arn`)
    replaced by `function_arn(<logical id of the function>)`."""
    template = template or load_template()
    machines = []
    for logical_id, properties in _resources(template, "AWS::Serverless::StateMachine"):
        text = (TEMPLATE.parent / properties["DefinitionUri"]).read_text(encoding="utf-8")
        functions = []
        for name, value in (properties.get("DefinitionSubstitutions") or {}).items():
            reference = _logical_id(value).split(".")[0]
            function = reference.split("Alias")[0] if "Alias" in reference else reference
            functions.append(function)
            text = text.replace("${" + name + "}", function_arn(function))
        machines.append(StateMachineDefinition(logical_id, text, tuple(functions)))
    return machines


def function_handler(logical_id: str, template: dict[str, Any] | None = None) -> str:
    """The function's handler as the template names it, e.g. "meeting_links.handler.lambda_handler"."""
    return str((template or load_template())["Resources"][logical_id]["Properties"]["Handler"])
