"""Embedded AWS: moto in server mode, on 127.0.0.1, provisioned from infra/template.yaml.

Used by the dev server and by the test suite, so both run against the same wire protocol as AWS.
"""

from __future__ import annotations

import importlib
import logging
import os
from dataclasses import dataclass
from typing import Any

import boto3

from local.moto import install as patch_moto
from local.moto import register_function

# The embedded AWS's account and region, defined beside moto's backends (the patches look backends up in
# them) so that local.moto never imports this module; this module's own, re-exported.
from local.moto.backends import ACCOUNT as ACCOUNT  # noqa: PLC0414 - re-exported
from local.moto.backends import REGION as REGION  # noqa: PLC0414 - re-exported
from local.template import (
    function_handler,
    load_template,
    queue_names,
    scheduler_dead_letter_queue,
    state_machine_definitions,
    table_definitions,
    user_pool_definition,
)

CREDENTIALS_SECRET_PREFIX = "booking/local/tenants/"
USER_POOL_NAME = "booking-local-users"
USER_POOL_CLIENT_NAME = "booking-local-client"
PHOTOS_BUCKET_NAME = "booking-local-photos"

# Deterministic pool and client ids: a restart recreates the same pool, so issued tokens stay valid.
os.environ.setdefault("MOTO_COGNITO_IDP_USER_POOL_ID_STRATEGY", "HASH")
os.environ.setdefault("MOTO_COGNITO_IDP_USER_POOL_CLIENT_ID_STRATEGY", "HASH")


@dataclass(frozen=True)
class LocalResources:
    endpoint: str
    region: str
    table_name: str
    idempotency_table_name: str
    table_names: tuple[str, ...]
    user_pool_id: str
    user_pool_client_id: str
    sender_email: str
    schedule_group: str
    queues: dict[str, str]  # logical id in the template -> queue URL
    timer_dead_letter_arn: str
    state_machines: dict[str, str]  # logical id in the template -> state machine ARN
    photos_bucket: str
    public_base_url: str = "http://localhost:8080"

    @property
    def issuer(self) -> str:
        return f"https://cognito-idp.{self.region}.amazonaws.com/{self.user_pool_id}"

    @property
    def jwks_url(self) -> str:
        return f"{self.endpoint}/{self.user_pool_id}/.well-known/jwks.json"

    def environment(self) -> dict[str, str]:
        """What the functions read on AWS, pointed at the embedded endpoint."""
        return {
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_DEFAULT_REGION": self.region,
            "AWS_REGION": self.region,
            "AWS_ACCESS_KEY_ID": "local",
            "AWS_SECRET_ACCESS_KEY": "local",  # moto accepts any credentials
            "TABLE_NAME": self.table_name,
            "IDEMPOTENCY_TABLE_NAME": self.idempotency_table_name,
            "USER_POOL_ID": self.user_pool_id,
            "USER_POOL_CLIENT_ID": self.user_pool_client_id,
            "SENDER_EMAIL": self.sender_email,
            "SCHEDULE_GROUP_NAME": self.schedule_group,
            # Locally the dispatcher fires schedules itself; these only have to look like ARNs.
            "REMINDERS_FUNCTION_ARN": f"arn:aws:lambda:{self.region}:123456789012:function:RemindersFunction",
            "SCHEDULER_ROLE_ARN": "arn:aws:iam::123456789012:role/SchedulerInvokeRole",
            "SCHEDULER_DLQ_ARN": self.timer_dead_letter_arn,
            "PUBLIC_BASE_URL": self.public_base_url,
            "MEETING_LINKS_STATE_MACHINE_ARN": self.state_machines["MeetingLinksStateMachine"],
            "CREDENTIALS_SECRET_PREFIX": CREDENTIALS_SECRET_PREFIX,
            "PHOTOS_BUCKET_NAME": self.photos_bucket,
        }


class EmbeddedAws:
    def __init__(self, port: int = 0) -> None:
        from moto.server import ThreadedMotoServer  # heavy import, only when a stack is started

        patch_moto()
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
        self.endpoint = ""

    def start(self) -> str:
        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # moto's per-request access log
        self._server.start()
        host, port = self._server.get_host_and_port()
        self.endpoint = f"http://{host}:{port}"
        return self.endpoint

    def stop(self) -> None:
        self._server.stop()

    def client(self, service: str) -> Any:
        return boto3.client(
            service,  # type: ignore[call-overload]
            endpoint_url=self.endpoint,
            region_name=REGION,
            aws_access_key_id="local",
            aws_secret_access_key="local",
        )

    def provision(self) -> LocalResources:
        """Creates (or finds) the tables, the user pool, its app client and groups, as the template defines."""
        template = load_template()
        dynamodb = self.client("dynamodb")
        existing = set(dynamodb.list_tables()["TableNames"])
        tables = table_definitions(template)
        for table in tables:
            if table.create_args["TableName"] in existing:
                continue
            dynamodb.create_table(**table.create_args)
            if table.ttl_attribute:
                dynamodb.update_time_to_live(
                    TableName=table.create_args["TableName"],
                    TimeToLiveSpecification={"Enabled": True, "AttributeName": table.ttl_attribute},
                )
        names = tuple(t.create_args["TableName"] for t in tables)

        pool_def = user_pool_definition(template)
        cognito = self.client("cognito-idp")
        pools = cognito.list_user_pools(MaxResults=60)["UserPools"]
        pool_id = next((p["Id"] for p in pools if p["Name"] == USER_POOL_NAME), None)
        if pool_id is None:
            pool_id = cognito.create_user_pool(
                PoolName=USER_POOL_NAME,
                UsernameAttributes=pool_def.username_attributes,
                Schema=pool_def.custom_attributes,
            )["UserPool"]["Id"]
            for group in pool_def.groups:
                cognito.create_group(UserPoolId=pool_id, **group)
        clients = cognito.list_user_pool_clients(UserPoolId=pool_id, MaxResults=60)["UserPoolClients"]
        client_id = next((c["ClientId"] for c in clients if c["ClientName"] == USER_POOL_CLIENT_NAME), None)
        if client_id is None:
            client_id = cognito.create_user_pool_client(
                UserPoolId=pool_id,
                ClientName=USER_POOL_CLIENT_NAME,
                ExplicitAuthFlows=["ALLOW_ADMIN_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
            )["UserPoolClient"]["ClientId"]
        # The sender identity the template's SES permissions name, verified as SES requires.
        sender_domain = template["Parameters"]["SenderEmailIdentity"]["Default"]
        sesv2 = self.client("sesv2")
        identities = {i["IdentityName"] for i in sesv2.list_email_identities().get("EmailIdentities", [])}
        if sender_domain not in identities:
            sesv2.create_email_identity(EmailIdentity=sender_domain)
        # The reminders schedule group(s) the template defines.
        scheduler = self.client("scheduler")
        groups = {g["Name"] for g in scheduler.list_schedule_groups()["ScheduleGroups"]}
        group_name = ""
        for logical_id, _ in [
            (n, r) for n, r in template["Resources"].items() if r["Type"] == "AWS::Scheduler::ScheduleGroup"
        ]:
            group_name = f"booking-local-{logical_id}"
            if group_name not in groups:
                scheduler.create_schedule_group(Name=group_name)
        # The dead-letter queues, and which one the timers name.
        sqs = self.client("sqs")
        queues = {
            name: sqs.create_queue(QueueName=f"booking-local-{name}")["QueueUrl"]
            for name in queue_names(template)
        }
        timer_queue = queues[scheduler_dead_letter_queue(template)]
        timer_dead_letter_arn = sqs.get_queue_attributes(QueueUrl=timer_queue, AttributeNames=["QueueArn"])[
            "Attributes"
        ]["QueueArn"]
        state_machines = self._state_machines(template)
        photos_bucket = self._photos_bucket(template)
        return LocalResources(
            endpoint=self.endpoint,
            region=REGION,
            table_name="BookingTable",
            idempotency_table_name="IdempotencyTable",
            table_names=names,
            user_pool_id=pool_id,
            user_pool_client_id=client_id,
            sender_email=f"no-reply@{sender_domain}",
            schedule_group=group_name,
            queues=queues,
            timer_dead_letter_arn=timer_dead_letter_arn,
            state_machines=state_machines,
            photos_bucket=photos_bucket,
        )

    def _photos_bucket(self, template: dict[str, Any]) -> str:
        """Creates (or finds) the request photos bucket with the template's CORS rules, so a page served
        locally uploads to it as a widget does to the real one."""
        s3 = self.client("s3")
        if PHOTOS_BUCKET_NAME not in {b["Name"] for b in s3.list_buckets()["Buckets"]}:
            s3.create_bucket(
                Bucket=PHOTOS_BUCKET_NAME, CreateBucketConfiguration={"LocationConstraint": REGION}
            )
        s3.put_bucket_cors(Bucket=PHOTOS_BUCKET_NAME, CORSConfiguration={"CORSRules": photos_cors(template)})
        return PHOTOS_BUCKET_NAME

    def _state_machines(self, template: dict[str, Any]) -> dict[str, str]:
        """Creates (or updates) each state machine from its committed definition file; the functions its
        tasks invoke run in this process (local.moto.register_function), as the template's
        Handler names them."""
        sfn = self.client("stepfunctions")
        existing = {m["name"]: m["stateMachineArn"] for m in sfn.list_state_machines()["stateMachines"]}
        role = f"arn:aws:iam::{ACCOUNT}:role/StateMachineRole"
        arns = {}
        for machine in state_machine_definitions(local_function_arn, template):
            name = f"booking-local-{machine.logical_id}"
            if name in existing:
                sfn.update_state_machine(stateMachineArn=existing[name], definition=machine.definition)
                arns[machine.logical_id] = existing[name]
            else:
                arns[machine.logical_id] = sfn.create_state_machine(
                    name=name, definition=machine.definition, roleArn=role
                )["stateMachineArn"]
            for function in machine.task_functions:
                module, _, attribute = function_handler(function, template).rpartition(".")
                handler = getattr(importlib.import_module(module), attribute)
                register_function(local_function_arn(function), handler)
        return arns


def photos_cors(template: dict[str, Any]) -> list[dict[str, Any]]:
    """The photos bucket's CORS rules in the template, as S3's PutBucketCors takes them (CloudFormation
    spells three of the fields differently)."""
    renamed = {"Id": "ID", "MaxAge": "MaxAgeSeconds", "ExposedHeaders": "ExposeHeaders"}
    rules = template["Resources"]["RequestPhotosBucket"]["Properties"]["CorsConfiguration"]["CorsRules"]
    return [{renamed.get(name, name): value for name, value in rule.items()} for rule in rules]


def local_function_arn(logical_id: str) -> str:
    """A function's ARN in the embedded AWS (its `live` alias, as the template's tasks invoke it)."""
    return f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{logical_id}:live"
