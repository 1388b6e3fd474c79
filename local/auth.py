"""Verifies Cognito ID tokens the way API Gateway's Cognito authorizer does: signature against the user
pool's JWKS, issuer, audience (the app client), expiry, and token_use = id."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import jwt
from aws_lambda_powertools.utilities.data_classes.common import BaseProxyEvent


class CognitoIdTokenVerifier:
    def __init__(self, jwks_url: str, issuer: str, audience: str) -> None:
        self._jwks = jwt.PyJWKClient(jwks_url, cache_keys=True, lifespan=3600)
        self._issuer = issuer
        self._audience = audience

    def verify(self, token: str) -> dict[str, Any] | None:
        try:
            key = self._jwks.get_signing_key_from_jwt(token)
            claims: dict[str, Any] = jwt.decode(
                token,
                key.key,
                algorithms=["RS256"],
                audience=self._audience,
                issuer=self._issuer,
                options={"require": ["exp", "iat", "sub", "aud", "iss"]},
            )
        except jwt.PyJWTError:
            return None
        return claims if claims.get("token_use") == "id" else None

    def claims(self, event: BaseProxyEvent) -> Mapping[str, Any] | None:
        """The ClaimsSource for the local API: None unless a valid token is presented."""
        header = event.headers.get("authorization") or event.headers.get("Authorization") or ""
        scheme, _, token = header.strip().partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return None
        return self.verify(token.strip())
