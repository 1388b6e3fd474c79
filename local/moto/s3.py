"""S3: patch 9, presigned POST policies enforced.

moto stores whatever a browser-style POST form upload carries; S3 refuses an upload whose form has a
`policy` it breaks. Here the policy is checked before moto stores anything, as S3 does: an expired policy
(against real time, not the dev clock) or a failed condition (exact match, `eq`, `starts-with`, on form
fields, or the bucket) is 403 AccessDenied "Invalid according to Policy: ...", a file outside
`content-length-range` is 400 EntityTooLarge / EntityTooSmall, and a policy that is not base64 JSON with an
expiration and known conditions is 400 InvalidPolicyDocument. The signature is not verified (nor is a form
field no condition names refused): a form signed with any key passes."""

from __future__ import annotations

import base64
import binascii
import json
from datetime import UTC, datetime
from typing import Any

from local.moto.installing import ORIGINALS


def _policy_error(code: str, message: str) -> Exception:
    from moto.s3.exceptions import S3ClientError

    # Raised from outside moto's packages, the code's status comes from S3's model: AccessDenied is 403,
    # a code it lacks (EntityTooLarge, EntityTooSmall, InvalidPolicyDocument) 400, as S3 answers them.
    return S3ClientError(code, message)


def _invalid_policy(detail: str) -> Exception:
    return _policy_error("InvalidPolicyDocument", f"Invalid Policy: {detail}")


def _condition_failed(condition: list[Any]) -> Exception:
    return _policy_error(
        "AccessDenied", f"Invalid according to Policy: Policy Condition failed: {json.dumps(condition)}"
    )


def _policy_conditions(policy_field: str, now: datetime | None) -> list[Any]:
    """The conditions of a policy that has not expired; raises what S3 answers otherwise."""
    try:
        policy = json.loads(base64.b64decode(policy_field, validate=True))
    except (binascii.Error, ValueError):
        raise _invalid_policy("Invalid JSON.") from None
    if not isinstance(policy, dict) or not isinstance(policy.get("expiration"), str):
        raise _invalid_policy("Invalid 'expiration' value: a policy needs an expiration.")
    try:
        expires = datetime.fromisoformat(policy["expiration"].replace("Z", "+00:00"))
    except ValueError:
        raise _invalid_policy(f"Invalid 'expiration' value: '{policy['expiration']}'") from None
    if expires.tzinfo is None:
        expires = expires.replace(tzinfo=UTC)
    if expires <= (now or datetime.now(UTC)):  # S3's own (real) time, never the dev clock
        raise _policy_error("AccessDenied", "Invalid according to Policy: Policy expired.")
    conditions = policy.get("conditions", [])
    if not isinstance(conditions, list):
        raise _invalid_policy("Invalid 'conditions' value: must be a List.")
    return conditions


def _field_rule(condition: Any) -> list[Any]:
    """A field condition as S3 names it when it fails: [operator, "$field", value]."""
    if isinstance(condition, dict) and len(condition) == 1:
        [(name, expected)] = condition.items()
        return ["eq", f"${name}", expected]
    if (
        isinstance(condition, list)
        and len(condition) == 3
        and str(condition[0]).lower() in {"eq", "starts-with"}
        and str(condition[1]).startswith("$")
    ):
        return [str(condition[0]).lower(), condition[1], condition[2]]
    raise _invalid_policy(f"Invalid Policy condition: {json.dumps(condition)}")


def _rule_holds(rule: list[Any], values: dict[str, str]) -> bool:
    operator, name, expected = rule[0], str(rule[1])[1:].lower(), str(rule[2])
    actual = values.get(name)
    if actual is None:
        return False
    if operator == "eq":
        return actual == expected
    if name == "content-type":  # S3 allows a list of types there, each with the prefix
        return all(part.strip().startswith(expected) for part in actual.split(","))
    return actual.startswith(expected)


def check_post_policy(
    policy_field: str, fields: dict[str, str], bucket: str, file_size: int, now: datetime | None = None
) -> None:
    """Raises what S3 answers a POST form upload whose `policy` (the form field, base64 JSON) the form
    breaks: `fields` are the form's fields (names in any case), `bucket` the bucket posted to, `file_size`
    the file's size in bytes. The signature is not checked."""
    values = {name.lower(): value for name, value in fields.items()}
    values["bucket"] = bucket  # the bucket is the one posted to, whatever a field says
    size_range: tuple[int, int] | None = None
    for condition in _policy_conditions(policy_field, now):
        if isinstance(condition, list) and condition and condition[0] == "content-length-range":
            try:
                size_range = (int(condition[1]), int(condition[2]))  # checked once the file is in
            except (IndexError, TypeError, ValueError):
                raise _invalid_policy(f"Invalid content-length-range: {json.dumps(condition)}") from None
            continue
        rule = _field_rule(condition)
        if not _rule_holds(rule, values):
            raise _condition_failed(rule)
    if size_range is not None and file_size > size_range[1]:
        raise _policy_error("EntityTooLarge", "Your proposed upload exceeds the maximum allowed size")
    if size_range is not None and file_size < size_range[0]:
        raise _policy_error("EntityTooSmall", "Your proposed upload is smaller than the minimum allowed size")


def _bucket_response_post(self: Any, request: Any, bucket_name: str) -> Any:
    """moto's POST to a bucket (a form upload, or DeleteObjects), with a form's policy checked first."""
    form = self.form_data  # the form's fields; `setup_class` put the file's bytes in `body`
    if "policy" in form and "key" in form:
        fields = {name: value for name, value in form.items() if name != "file"}
        body = self.body
        size = len(body.encode() if isinstance(body, str) else body or b"")
        check_post_policy(form["policy"], fields, bucket_name, size)
    return ORIGINALS["s3.bucket_response_post"](self, request, bucket_name)


def apply() -> None:
    from moto.s3.responses import S3Response

    ORIGINALS["s3.bucket_response_post"] = S3Response._bucket_response_post
    S3Response._bucket_response_post = _bucket_response_post  # type: ignore[method-assign]
