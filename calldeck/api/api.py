from __future__ import annotations

from ninja import NinjaAPI

from calldeck.api.auth import API_AUTH

api = NinjaAPI(
    title="CallDeck API",
    version="1",
    urls_namespace="calldeck-api",
    auth=API_AUTH,
)
