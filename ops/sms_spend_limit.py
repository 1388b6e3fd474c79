"""Sets the AWS account's monthly SMS spend limit (in USD), the last line of defence against SMS pumping:
once reached, SNS stops sending texts for the rest of the month. It is an account setting, not a stack
resource, so it is set here at deploy rather than in the template (raise it with AWS Support first if you
need more than the default of 1 USD).

    AWS_PROFILE=... python -m ops.sms_spend_limit --usd 50
"""

from __future__ import annotations

import argparse
from typing import Any

import boto3


def main(argv: list[str] | None = None, sns: Any = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m ops.sms_spend_limit", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--usd", type=int, required=True, help="whole US dollars a month, at least 1")
    args = parser.parse_args(argv)
    if args.usd < 1:
        parser.error("--usd must be at least 1")
    sns = sns or boto3.client("sns")
    sns.set_sms_attributes(attributes={"MonthlySpendLimit": str(args.usd)})
    now = sns.get_sms_attributes(attributes=["MonthlySpendLimit"])["attributes"]["MonthlySpendLimit"]
    print(f"monthly SMS spend limit: {now} USD")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
