"""The application secret (signs manage links, customer sessions, login-code hashes).

On AWS it lives in SSM Parameter Store as a SecureString (its name: APP_SECRET_PARAMETER); locally it is the
APP_SECRET setting itself (the local stack generates one and keeps it in its data dir). booking/settings.py
reads and checks both; booking/composition.py reads the secret once per environment.
"""

from __future__ import annotations

from aws_lambda_powertools.utilities.parameters import get_parameter


def app_secret(parameter: str | None, local: str | None) -> bytes:
    """The secret in the Parameter Store SecureString `parameter`, or else the `local` value."""
    if parameter:
        value = get_parameter(parameter, decrypt=True, max_age=300)
        return str(value).encode()
    if not local:
        raise RuntimeError("set APP_SECRET_PARAMETER (AWS) or APP_SECRET (local, 32+ characters)")
    return local.encode()
