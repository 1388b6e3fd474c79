"""The local stack: embedded AWS (moto in server mode), the dev server, persistence and demo data.

Never deployed. Application code cannot tell it is local: it talks to the same AWS APIs through boto3,
pointed at the embedded endpoint by AWS_ENDPOINT_URL.
"""
