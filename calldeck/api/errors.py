"""Every error the API gives has one shape: {"code", "message", "field"}."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import NinjaAPI, Schema
from ninja.errors import AuthenticationError
from ninja.errors import ValidationError as NinjaValidationError

from calldeck.desk.services import DeskRefused


class ErrorOut(Schema):
    code: str
    message: str
    field: str | None = None


def _error(
    api: NinjaAPI,
    request: HttpRequest,
    status: int,
    code: str,
    message: str,
    field: str | None = None,
) -> HttpResponse:
    return api.create_response(
        request, {"code": code, "message": message, "field": field}, status=status
    )


def install_error_handlers(api: NinjaAPI) -> None:
    @api.exception_handler(DeskRefused)
    def desk_refused(request: HttpRequest, exc: DeskRefused) -> HttpResponse:
        return _error(api, request, 409, exc.code, exc.message)

    @api.exception_handler(ValidationError)
    def invalid(request: HttpRequest, exc: ValidationError) -> HttpResponse:
        if hasattr(exc, "error_dict"):
            field, errors = next(iter(exc.error_dict.items()))
            message = " ".join(str(m) for e in errors for m in e.messages)
            code = errors[0].code or "invalid"
            return _error(api, request, 422, code, message, None if field == "__all__" else field)
        return _error(api, request, 422, exc.code or "invalid", " ".join(exc.messages))

    @api.exception_handler(NinjaValidationError)
    def schema_invalid(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
        first: dict[str, Any] = exc.errors[0] if exc.errors else {}
        loc = [str(p) for p in first.get("loc", []) if p not in ("body", "payload", "query")]
        return _error(
            api,
            request,
            422,
            "invalid",
            str(first.get("msg", _("Invalid request."))),
            ".".join(loc) or None,
        )

    @api.exception_handler(PermissionDenied)
    def forbidden(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
        return _error(api, request, 403, "forbidden", str(exc) or _("Not allowed."))

    @api.exception_handler(AuthenticationError)
    def unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
        return _error(api, request, 401, "unauthenticated", _("Log in or send an API token."))

    @api.exception_handler(Http404)
    def not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
        return _error(api, request, 404, "not_found", _("Not found."))
