"""Chat-completions errors as HTTP answers: the service's JSON error body and a status.

Validation raises ``ServiceError`` (the same class, codes and helpers as the Realtime side, from
``service_errors``); ``HttpError`` adds a status other than 400 and extra headers. The routes
turn either into ``{"error": {"message", "type", "param", "code"}}``.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from realtime_console.server.service_errors import ServiceError


class HttpError(ServiceError):
    """A ``ServiceError`` answered with ``status`` (and ``headers``) instead of 400."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        param: str | None = None,
        error_type: str = "invalid_request_error",
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(code, message, param=param, error_type=error_type)
        self.status = status
        self.headers: Mapping[str, str] = MappingProxyType(dict(headers or {}))


def status_of(error: ServiceError) -> int:
    return error.status if isinstance(error, HttpError) else 400


def headers_of(error: ServiceError) -> Mapping[str, str]:
    return error.headers if isinstance(error, HttpError) else MappingProxyType({})


def error_body(error: ServiceError) -> dict[str, Any]:
    """The service's error body; the realtime ``event_id`` has no place in an HTTP answer."""
    return {
        "error": {
            "message": error.message,
            "type": error.error_type,
            "param": error.param,
            "code": error.code,
        }
    }


def invalid(param: str, reason: str, code: str = "invalid_value") -> ServiceError:
    """``Invalid 'PARAM': REASON.``, the service's wording for values the types cannot catch."""
    return ServiceError(code, f"Invalid '{param}': {reason}.", param=param)
