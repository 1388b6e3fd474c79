"""The application secret (signs manage links, customer sessions, login-code hashes).

On AWS it lives in SSM Parameter Store as a SecureString named by APP_SECRET_PARAMETER; locally it comes
from the APP_SECRET environment variable (the local stack generates one and keeps it in its data dir).
"""

from __future__ import annotations

import os

from aws_lambda_powertools.utilities.parameters import get_parameter


def app_secret() -> bytes:
    parameter = os.environ.get("APP_SECRET_PARAMETER")
    if parameter:
        value = get_parameter(parameter, decrypt=True, max_age=300)
        return str(value).encode()
    value = os.environ.get("APP_SECRET", "")
    if len(value) < 32:
        raise RuntimeError("set APP_SECRET_PARAMETER (AWS) or APP_SECRET (local, 32+ characters)")
    return value.encode()
