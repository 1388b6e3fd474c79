"""Calls the real Lambda handler with API Gateway REST proxy events, as API Gateway would.

API Gateway's Cognito authorizer verifies the bearer token before invoking the function and passes its
claims in requestContext.authorizer.claims. We cannot run API Gateway here, so this client does the same
verification with the same verifier the local stack uses (signature, issuer, audience, expiry) against
the embedded Cognito's JWKS; an invalid token reaches the function with no claims, which must answer 401.
"""

from __future__ import annotations

import base64
import json
import secrets
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from local.auth import CognitoIdTokenVerifier


@dataclass
class LambdaContext:
    function_name: str = "BookingApiFunction"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = "arn:aws:lambda:eu-west-1:123456789012:function:BookingApiFunction"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    remaining_millis: int = 10_000  # the API function's timeout; the reminders function has 60 s

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_millis


@dataclass
class ApiResponse:
    status: int
    headers: dict[str, str]
    text: str
    content: bytes = b""  # the body as sent (a PDF's bytes; `text` is then not meaningful)

    def json(self) -> Any:
        return json.loads(self.text)

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers.items() if k.lower() == name.lower()), None)


class LambdaApi:
    def __init__(self, handler: Any, verifier: CognitoIdTokenVerifier) -> None:
        self._handler = handler
        self._verifier = verifier

    def request(
        self,
        method: str,
        url: str,
        *,
        token: str | None = None,
        json_body: Any = None,
        raw_body: str | bytes | None = None,
        headers: dict[str, str] | None = None,
        claims: dict[str, Any] | None = None,
        source_ip: str | None = None,
        remaining_millis: int = 10_000,
    ) -> ApiResponse:
        """`claims`, when given, are what API Gateway's authorizer passes on (instead of those of `token`);
        `remaining_millis`, what is left of the function's timeout when the request arrives."""
        if claims is None and token and urlsplit(url).path.startswith("/v1/admin/"):
            claims = self._verifier.verify(token)
        event = proxy_event(
            method,
            url,
            token=token,
            json_body=json_body,
            raw_body=raw_body,
            headers=headers,
            claims=claims,
            source_ip=source_ip,
        )
        result = self._handler(event, LambdaContext(remaining_millis=remaining_millis))
        raw = result.get("body") or ""
        content = base64.b64decode(raw) if result.get("isBase64Encoded") else raw.encode()
        text = content.decode(errors="replace")
        headers_out = dict(result.get("headers") or {})
        for name, values in (result.get("multiValueHeaders") or {}).items():
            headers_out.setdefault(name, ", ".join(values))
        return ApiResponse(status=result["statusCode"], headers=headers_out, text=text, content=content)

    def get(self, url: str, **kwargs: Any) -> ApiResponse:
        return self.request("GET", url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> ApiResponse:
        return self.request("POST", url, **kwargs)

    def put(self, url: str, **kwargs: Any) -> ApiResponse:
        return self.request("PUT", url, **kwargs)

    def delete(self, url: str, **kwargs: Any) -> ApiResponse:
        return self.request("DELETE", url, **kwargs)


def proxy_event(
    method: str,
    url: str,
    *,
    token: str | None = None,
    json_body: Any = None,
    raw_body: str | bytes | None = None,
    headers: dict[str, str] | None = None,
    claims: dict[str, Any] | None = None,
    source_ip: str | None = None,
) -> dict[str, Any]:
    """The API Gateway REST proxy event for a request (`claims`: what the authorizer verified, if any)."""
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    all_headers = {"Host": "api.example.com", **(headers or {})}
    body = raw_body
    encoded = isinstance(raw_body, bytes)  # bytes arrive as API Gateway sends a binary body: base64
    if isinstance(raw_body, bytes):
        body = base64.b64encode(raw_body).decode()
    if json_body is not None:
        body = json.dumps(json_body)
        all_headers.setdefault("Content-Type", "application/json")
    if token is not None:
        all_headers["Authorization"] = f"Bearer {token}"
    return {
        "resource": "/{proxy+}",
        "path": parts.path,
        "httpMethod": method,
        "headers": all_headers,
        "multiValueHeaders": {k: [v] for k, v in all_headers.items()},
        "queryStringParameters": query or None,
        "multiValueQueryStringParameters": {k: [v] for k, v in query.items()} or None,
        "pathParameters": {"proxy": parts.path.lstrip("/")},
        "stageVariables": None,
        "requestContext": {
            "resourcePath": "/{proxy+}",
            "httpMethod": method,
            "path": f"/dev{parts.path}",
            "stage": "dev",
            "requestId": str(uuid.uuid4()),
            # each request from a client of its own unless a test says otherwise (rate limits per IP)
            "identity": {"sourceIp": source_ip or f"198.51.100.{secrets.randbelow(254) + 1}"},
            "authorizer": {"claims": claims} if claims else None,
        },
        "body": body,
        "isBase64Encoded": encoded,
    }
