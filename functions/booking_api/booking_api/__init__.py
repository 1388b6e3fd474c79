"""The booking API: routers over the shared use cases, served by Lambda (handler.py) or locally (ASGI)."""
