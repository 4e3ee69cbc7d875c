from __future__ import annotations

from ninja import NinjaAPI

from calldeck.api.auth import API_AUTH
from calldeck.api.desk import router as desk_router
from calldeck.api.errors import install_error_handlers

api = NinjaAPI(
    title="CallDeck API",
    version="1",
    urls_namespace="calldeck-api",
    auth=API_AUTH,
)
install_error_handlers(api)
api.add_router("/desk/", desk_router)
