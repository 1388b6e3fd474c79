"""infra/template.yaml: what gets deployed, and what the local stack reads from it instead of repeating it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from local.template import TEMPLATE, load_template, table_definitions, user_pool_definition

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return load_template()


def resources_of(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {name: r for name, r in template["Resources"].items() if r["Type"] == kind}


def test_the_template_read_is_the_one_in_infra() -> None:
    assert TEMPLATE == REPO / "infra" / "template.yaml"


def test_short_form_intrinsics_are_kept(template: dict[str, Any]) -> None:
    client = template["Resources"]["UserPoolClient"]["Properties"]
    assert client["UserPoolId"] == {"Ref": "UserPool"}
    table_env = template["Globals"]["Function"]["Environment"]["Variables"]["TABLE_NAME"]
    assert table_env == {"Ref": "BookingTable"}


def test_local_stack_reads_the_booking_and_idempotency_tables(template: dict[str, Any]) -> None:
    tables = {t.logical_id: t for t in table_definitions(template)}
    assert {"BookingTable", "IdempotencyTable"} <= set(tables)

    booking = tables["BookingTable"].create_args
    assert booking["TableName"] == "BookingTable"
    assert booking["KeySchema"] == [
        {"AttributeName": "pk", "KeyType": "HASH"},
        {"AttributeName": "sk", "KeyType": "RANGE"},
    ]
    assert {a["AttributeName"]: a["AttributeType"] for a in booking["AttributeDefinitions"]} == {
        "pk": "S",
        "sk": "S",
        "gsi1pk": "S",
        "gsi1sk": "S",
    }
    [gsi] = booking["GlobalSecondaryIndexes"]
    assert gsi["IndexName"] == "gsi1"
    assert [k["AttributeName"] for k in gsi["KeySchema"]] == ["gsi1pk", "gsi1sk"]
    assert booking["BillingMode"] == "PAY_PER_REQUEST"
    assert tables["BookingTable"].ttl_attribute == "expires_at"

    idempotency = tables["IdempotencyTable"].create_args
    assert idempotency["KeySchema"] == [{"AttributeName": "id", "KeyType": "HASH"}]
    assert tables["IdempotencyTable"].ttl_attribute == "expiration"


def test_local_stack_reads_the_user_pool_attributes_and_role_groups(template: dict[str, Any]) -> None:
    pool = user_pool_definition(template)
    assert pool.logical_id == "UserPool"
    assert {a["Name"] for a in pool.custom_attributes} == {"tenant_id", "staff_id"}
    assert all(a["AttributeDataType"] == "String" for a in pool.custom_attributes)
    assert pool.username_attributes == ["email"]
    assert sorted(g["GroupName"] for g in pool.groups) == ["admin", "dispatcher", "owner", "staff"]
    precedence = {g["GroupName"]: g["Precedence"] for g in pool.groups}
    assert precedence["owner"] < precedence["admin"] < precedence["dispatcher"] < precedence["staff"]


@pytest.mark.parametrize("table", ["BookingTable", "IdempotencyTable"])
def test_tables_are_on_demand_recoverable_and_protected(template: dict[str, Any], table: str) -> None:
    resource = template["Resources"][table]
    props = resource["Properties"]
    assert props["BillingMode"] == "PAY_PER_REQUEST"
    assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert props["DeletionProtectionEnabled"] is True
    assert resource["DeletionPolicy"] == "Retain"


def test_users_cannot_write_their_own_tenant_or_staff_link(template: dict[str, Any]) -> None:
    [client] = resources_of(template, "AWS::Cognito::UserPoolClient").values()
    props = client["Properties"]
    writable = props.get("WriteAttributes")
    # Leaving WriteAttributes out would let users write every attribute, custom ones included.
    assert writable is not None
    assert not [a for a in writable if a.startswith("custom:")]
    assert "custom:tenant_id" in props["ReadAttributes"]
    assert props.get("GenerateSecret") is False


def test_the_pool_only_lets_admins_create_users(template: dict[str, Any]) -> None:
    props = template["Resources"]["UserPool"]["Properties"]
    assert props["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"] is True


def test_admin_routes_use_the_cognito_authorizer_and_public_routes_none(template: dict[str, Any]) -> None:
    events = template["Resources"]["BookingApiFunction"]["Properties"]["Events"]
    by_path = {e["Properties"]["Path"]: e["Properties"] for e in events.values()}
    assert by_path["/v1/admin/{proxy+}"]["Auth"] == {"Authorizer": "CognitoAuthorizer"}
    assert by_path["/v1/public/{proxy+}"]["Auth"] == {"Authorizer": "NONE"}
    assert by_path["/v1/health"]["Auth"] == {"Authorizer": "NONE"}
    authorizer = template["Resources"]["BookingApi"]["Properties"]["Auth"]["Authorizers"]["CognitoAuthorizer"]
    assert authorizer["UserPoolArn"] == {"Fn::GetAtt": "UserPool.Arn"}


def functions(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return resources_of(template, "AWS::Serverless::Function")


def test_the_four_functions_are_defined(template: dict[str, Any]) -> None:
    assert set(functions(template)) >= {
        "BookingApiFunction",
        "RemindersFunction",
        "MeetingLinksFunction",
        "WebhooksFunction",
    }
    assert template["Globals"]["Function"]["Runtime"] == "python3.13"


def test_every_function_handler_exists_under_its_code_uri(template: dict[str, Any]) -> None:
    infra = TEMPLATE.parent
    for name, function in functions(template).items():
        props = function["Properties"]
        code_dir = (infra / props["CodeUri"]).resolve()
        module, _, attribute = props["Handler"].rpartition(".")
        module_file = code_dir / (module.replace(".", "/") + ".py")
        assert module_file.is_file(), f"{name}: {module_file} is missing"
        assert f"def {attribute}(" in module_file.read_text(encoding="utf-8"), f"{name}: no {attribute}"
        assert (module_file.parent / "__init__.py").is_file(), f"{name}: {module_file.parent} is no package"


def test_the_layer_ships_the_shared_package(template: dict[str, Any]) -> None:
    [layer] = resources_of(template, "AWS::Serverless::LayerVersion").values()
    content = (TEMPLATE.parent / layer["Properties"]["ContentUri"]).resolve()
    assert content == REPO / "shared"
    assert (content / "booking" / "__init__.py").is_file()
    assert (content / "requirements.txt").is_file()


def test_every_function_has_a_log_group_with_retention(template: dict[str, Any]) -> None:
    groups = resources_of(template, "AWS::Logs::LogGroup").values()
    named = {str(g["Properties"].get("LogGroupName")) for g in groups}
    for name in functions(template):
        assert any(name in group for group in named), f"{name} has no log group"
    assert all("RetentionInDays" in g["Properties"] for g in groups)


def test_every_asynchronous_path_ends_in_a_queue_with_an_alarm(template: dict[str, Any]) -> None:
    reminders = template["Resources"]["RemindersFunction"]["Properties"]
    [stream] = [e["Properties"] for e in reminders["Events"].values() if e["Type"] == "DynamoDB"]
    queues = resources_of(template, "AWS::SQS::Queue")

    stream_failure = stream["DestinationConfig"]["OnFailure"]
    assert stream_failure["Type"] == "SQS"
    assert stream_failure["Destination"] == {"Fn::GetAtt": "StreamFailureQueue.Arn"}
    assert stream["FunctionResponseTypes"] == ["ReportBatchItemFailures"]

    invocation_failure = reminders["EventInvokeConfig"]["DestinationConfig"]["OnFailure"]
    assert invocation_failure == {"Type": "SQS", "Destination": {"Fn::GetAtt": "InvocationFailureQueue.Arn"}}

    # the timers name their dead-letter queue, and the role the scheduler uses may write to it
    assert reminders["Environment"]["Variables"]["SCHEDULER_DLQ_ARN"] == {
        "Fn::GetAtt": "TimerDeadLetterQueue.Arn"
    }
    role = template["Resources"]["SchedulerInvokeRole"]["Properties"]["Policies"][0]["PolicyDocument"]
    assert {
        "Effect": "Allow",
        "Action": "sqs:SendMessage",
        "Resource": {"Fn::GetAtt": "TimerDeadLetterQueue.Arn"},
    } in role["Statement"]

    alarmed = {
        a["Properties"]["Dimensions"][0]["Value"]["Fn::GetAtt"].split(".")[0]
        for a in resources_of(template, "AWS::CloudWatch::Alarm").values()
        if a["Properties"]["Namespace"] == "AWS/SQS"
    }
    assert set(queues) == {"StreamFailureQueue", "TimerDeadLetterQueue", "InvocationFailureQueue"} == alarmed
    for queue in queues.values():
        assert queue["Properties"]["MessageRetentionPeriod"] == 1209600  # 14 days to redrive
        assert queue["Properties"]["SqsManagedSseEnabled"] is True
    for alarm in resources_of(template, "AWS::CloudWatch::Alarm").values():
        props = alarm["Properties"]
        assert (props["Threshold"], props["ComparisonOperator"]) == (0, "GreaterThanThreshold")
        assert props["AlarmActions"] == [{"Ref": "AlarmTopic"}]


def test_the_local_stack_reads_the_failure_handling_from_the_template(template: dict[str, Any]) -> None:
    from local.template import queue_names, reminders_failure_handling, scheduler_dead_letter_queue

    handling = reminders_failure_handling(template)
    assert (handling.stream_retries, handling.stream_failure_queue) == (10, "StreamFailureQueue")
    assert (handling.async_retries, handling.async_failure_queue) == (2, "InvocationFailureQueue")
    assert handling.stream_batch_size == 25
    assert scheduler_dead_letter_queue(template) == "TimerDeadLetterQueue"
    assert sorted(queue_names(template)) == [
        "InvocationFailureQueue",
        "StreamFailureQueue",
        "TimerDeadLetterQueue",
    ]


def test_abuse_protection_throttles_each_route_and_limits_each_ip_on_the_public_routes(
    template: dict[str, Any],
) -> None:
    settings = {
        s["ResourcePath"]: s for s in template["Resources"]["BookingApi"]["Properties"]["MethodSettings"]
    }
    assert settings["/*"]["ThrottlingRateLimit"] > settings["/~1v1~1public~1{proxy+}"]["ThrottlingRateLimit"]
    assert "/~1v1~1webhooks~1{proxy+}" in settings
    [acl] = resources_of(template, "AWS::WAFv2::WebACL").values()
    rules = {r["Name"]: r for r in acl["Properties"]["Rules"]}
    rate = rules["public-rate-per-ip"]["Statement"]["RateBasedStatement"]
    assert rate["AggregateKeyType"] == "IP"
    assert rate["ScopeDownStatement"]["ByteMatchStatement"]["SearchString"] == {
        "Fn::Sub": "/${Stage}/v1/public/"
    }
    assert rules["public-rate-per-ip"]["Action"]["Block"]["CustomResponse"]["ResponseCode"] == 429
    [association] = resources_of(template, "AWS::WAFv2::WebACLAssociation").values()
    assert association["Properties"]["WebACLArn"] == {"Fn::GetAtt": "PublicApiWebAcl.Arn"}
    assert "BookingApi" in str(association["Properties"]["ResourceArn"])


def test_least_privilege_and_mfa(template: dict[str, Any]) -> None:
    webhooks = template["Resources"]["WebhooksFunction"]["Properties"]
    # Zoom's meeting events and Stripe's payment events: booking changes on the table, and the businesses'
    # Zoom credentials and Stripe accounts only (they hold the webhook secrets). No other secret.
    [table, secrets] = webhooks["Policies"][0]["Statement"]
    assert "dynamodb:Scan" not in table["Action"] and "dynamodb:DeleteTable" not in table["Action"]
    assert table["Resource"][0] == {"Fn::GetAtt": "BookingTable.Arn"}
    assert secrets["Action"] == "secretsmanager:GetSecretValue"
    assert [r["Fn::Sub"].rsplit(":secret:", 1)[1] for r in secrets["Resource"]] == [
        "booking/${AWS::StackName}/tenants/*/meetings/zoom-*",
        "booking/${AWS::StackName}/tenants/*/payments/stripe-*",
    ]
    assert len(webhooks["Policies"]) == 1
    pool = template["Resources"]["UserPool"]["Properties"]
    assert pool["MfaConfiguration"] == "ON"
    assert pool["EnabledMfas"] == ["SOFTWARE_TOKEN_MFA"]
    api_env = template["Resources"]["BookingApiFunction"]["Properties"]["Environment"]["Variables"]
    assert api_env["USER_POOL_CLIENT_ID"] == {"Ref": "UserPoolClient"}  # only our client's ID tokens
    # The API asks for sign-in codes; the reminders function mails them: the API may send no email.
    api_policies = str(template["Resources"]["BookingApiFunction"]["Properties"]["Policies"])
    assert "ses:" not in api_policies and "sns:" not in api_policies


def test_every_function_starts_from_a_snapshot_and_is_invoked_through_its_alias(
    template: dict[str, Any],
) -> None:
    defaults = template["Globals"]["Function"]
    assert defaults["SnapStart"] == {"ApplyOn": "PublishedVersions"}
    assert defaults["AutoPublishAlias"] == "live"
    for name, function in functions(template).items():
        props = function["Properties"]
        assert "SnapStart" not in props and "AutoPublishAlias" not in props, f"{name} opts out"
        assert "ProvisionedConcurrencyConfig" not in props  # SnapStart and it exclude each other
    # Timers target the alias too: through the bare function name they would run $LATEST, never restored.
    reminders = template["Resources"]["RemindersFunction"]["Properties"]
    target = reminders["Environment"]["Variables"]["REMINDERS_FUNCTION_ARN"]["Fn::Sub"]
    assert target.endswith(":function:${AWS::StackName}-reminders:live")
    role = template["Resources"]["SchedulerInvokeRole"]["Properties"]["Policies"][0]["PolicyDocument"]
    invokable = role["Statement"][0]["Resource"]
    assert any(r["Fn::Sub"].endswith("-reminders:*") for r in invokable)


def test_everyone_filtering_the_stream_filters_it_as_the_template_does(template: dict[str, Any]) -> None:
    from local.template import stream_kinds
    from ops.redrive import STREAM_KINDS

    assert stream_kinds(template) == STREAM_KINDS == {"booking", "booking_request", "login_code_request"}


def test_the_meeting_links_state_machine_retries_exactly_our_provider_errors(
    template: dict[str, Any],
) -> None:
    """The definition file the template deploys (and the local stack runs) retries the errors the
    function raises by class name for outages and throttling, and gives up on every other."""
    import json

    from booking.domain import meetings
    from local.template import TEMPLATE

    machine = template["Resources"]["MeetingLinksStateMachine"]["Properties"]
    definition = json.loads((TEMPLATE.parent / machine["DefinitionUri"]).read_text(encoding="utf-8"))
    provision = definition["States"]["Provision"]
    [outages, _lambda] = provision["Retry"]
    for name in outages["ErrorEquals"]:
        error = getattr(meetings, name)
        assert issubclass(error, meetings.MeetingProviderError) and error.retryable, name
    retryable = {
        c.__name__
        for c in vars(meetings).values()
        if isinstance(c, type) and issubclass(c, meetings.MeetingProviderError) and c.retryable
    }
    assert set(outages["ErrorEquals"]) == retryable
    assert provision["Catch"][0]["ErrorEquals"] == ["States.ALL"]
    assert provision["Catch"][0]["Next"] == "GiveUp"
    # the task runs the published version, and the reminders function may start it, nothing more
    assert machine["DefinitionSubstitutions"]["MeetingLinksFunctionArn"] == {
        "Ref": "MeetingLinksFunctionAliaslive"
    }
    reminders = template["Resources"]["RemindersFunction"]["Properties"]["Policies"][0]["Statement"]
    [start] = [s for s in reminders if s.get("Sid") == "StartMeetingLinks"]
    assert (start["Action"], start["Resource"]) == (
        "states:StartExecution",
        {"Ref": "MeetingLinksStateMachine"},
    )


def environment_of(template: dict[str, Any], function: dict[str, Any]) -> set[str]:
    """The names the template sets for a function: the globals and its own."""
    defaults = template["Globals"]["Function"]["Environment"]["Variables"]
    own = function["Properties"].get("Environment", {}).get("Variables", {})
    return set(defaults) | set(own)


def settings_of(template: dict[str, Any]) -> dict[str, tuple[dict[str, Any], type[Any]]]:
    """Each function in the template, with the settings its package reads (booking/settings.py)."""
    from booking.settings import FUNCTIONS

    by_package = {kind.function: kind for kind in FUNCTIONS}
    return {
        name: (function, by_package[function["Properties"]["Handler"].split(".")[0]])
        for name, function in functions(template).items()
    }


def test_every_setting_a_function_reads_is_one_the_template_sets_for_it(template: dict[str, Any]) -> None:
    from booking.settings import LOCAL_ONLY

    found = settings_of(template)
    assert {kind.function for _, kind in found.values()} == {
        "booking_api",
        "reminders",
        "meeting_links",
        "webhooks",
    }
    for name, (function, kind) in found.items():
        sets = environment_of(template, function)
        reads = kind.names()
        assert reads - LOCAL_ONLY <= sets, f"{name} reads {sorted(reads - LOCAL_ONLY - sets)}, never set"
        # what only the local stack sets is never deployed (the app secret in plain text least of all)
        assert not sets & LOCAL_ONLY, f"{name} sets {sorted(sets & LOCAL_ONLY)}"


def plausible(name: str) -> str:
    """A value of the right form for a name the template sets."""
    return {
        "PUBLIC_BASE_URL": "https://booking.example.com",
        "SENDER_EMAIL": "no-reply@example.com",
    }.get(name, f"value-of-{name.lower()}")


def test_each_function_composes_itself_from_what_the_template_sets_for_it_alone(
    template: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    import importlib

    from booking.settings import FUNCTIONS, LOCAL_ONLY

    for function, kind in settings_of(template).values():
        for name in set().union(LOCAL_ONLY, *(k.names() for k in FUNCTIONS)):
            monkeypatch.delenv(name, raising=False)
        for name in environment_of(template, function):
            if not name.startswith("POWERTOOLS_"):  # Powertools' own
                monkeypatch.setenv(name, plausible(name))
        container = importlib.import_module(f"{kind.function}.container")
        assert type(container.compose().settings) is kind
