"""Every meeting provider's fake, started together: the local stack and the test suite point the adapters
at them through MEETING_PROVIDER_ENDPOINTS, and connect businesses with each fake's demo credentials."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from booking.ports import Clock
from local.fakes import daily, google, microsoft, whereby, zoom
from local.fakes.server import FakeServer


@dataclass(frozen=True)
class MeetingFakes:
    zoom: zoom.FakeZoom
    google: google.FakeGoogle
    microsoft: microsoft.FakeMicrosoft
    daily: daily.FakeDaily
    whereby: whereby.FakeWhereby

    @property
    def servers(self) -> tuple[FakeServer, ...]:
        return (self.zoom, self.google, self.microsoft, self.daily, self.whereby)

    def endpoints(self) -> dict[str, dict[str, str]]:
        """Each provider's adapter keyword arguments (its base URLs), pointed at its fake."""
        return {
            "zoom": {"api_base": self.zoom.base_url, "oauth_base": self.zoom.base_url},
            "google_meet": {"oauth_base": self.google.base_url, "calendar_base": self.google.base_url},
            "microsoft_teams": {"login_base": self.microsoft.base_url, "graph_base": self.microsoft.base_url},
            "daily": {"api_base": self.daily.base_url},
            "whereby": {"api_base": self.whereby.base_url},
        }

    def environment(self) -> dict[str, str]:
        return {"MEETING_PROVIDER_ENDPOINTS": json.dumps(self.endpoints())}

    def fake(self, provider: str) -> FakeServer:
        """The fake behind a provider name as the business settings spell it."""
        return {
            "zoom": self.zoom,
            "google_meet": self.google,
            "microsoft_teams": self.microsoft,
            "daily": self.daily,
            "whereby": self.whereby,
        }[provider]

    def stop(self) -> None:
        for server in self.servers:
            server.stop()


# What each fake accepts, as a business would paste it into the provider-connection routes.
DEMO_CREDENTIALS: dict[str, dict[str, Any]] = {
    "zoom": dict(zoom.DEMO_CREDENTIALS),
    "google_meet": dict(google.DEMO_CREDENTIALS),
    "microsoft_teams": dict(microsoft.DEMO_CREDENTIALS),
    "daily": dict(daily.DEMO_CREDENTIALS),
    "whereby": dict(whereby.DEMO_CREDENTIALS),
}


def start_fakes(host: str = "127.0.0.1", clock: Clock | None = None) -> MeetingFakes:
    """The fakes, their tokens and time checks on `clock` (the dev clock in `make dev`, so moving it
    forward does not make the fakes refuse the adapters' tokens as real providers would an old one)."""
    fakes = MeetingFakes(
        zoom=zoom.FakeZoom(host=host, clock=clock),
        google=google.FakeGoogle(host=host, clock=clock),
        microsoft=microsoft.FakeMicrosoft(host=host, clock=clock),
        daily=daily.FakeDaily(host=host, clock=clock),
        whereby=whereby.FakeWhereby(host=host, clock=clock),
    )
    for server in fakes.servers:
        server.start()
    return fakes
