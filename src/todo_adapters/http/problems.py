"""The one error body, and the one place where every failure becomes an HTTP answer.

``{"error": {"code": "...", "message": "...", "details": {...}}}``: domain errors,
Litestar's own (routing, validation, body size) and crashes all answer in this shape.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from typing import Any, Final

import msgspec
from litestar import Request, Response
from litestar.exceptions import (
    HTTPException,
    MethodNotAllowedException,
    NotFoundException,
    ValidationException,
)
from litestar.exceptions.http_exceptions import RequestEntityTooLarge
from litestar.openapi.datastructures import ResponseSpec
from litestar.status_codes import (
    HTTP_400_BAD_REQUEST,
    HTTP_404_NOT_FOUND,
    HTTP_409_CONFLICT,
    HTTP_412_PRECONDITION_FAILED,
    HTTP_422_UNPROCESSABLE_ENTITY,
    HTTP_500_INTERNAL_SERVER_ERROR,
    HTTP_503_SERVICE_UNAVAILABLE,
)
from litestar.types import ExceptionHandlersMap

from todo_core import (
    Conflict,
    IdempotencyKeyReused,
    NotFound,
    PreconditionFailed,
    RequestInProgress,
    StorageUnavailable,
    TodoError,
    ValidationFailed,
    WriteConflict,
)

__all__ = ["ErrorBody", "ErrorDetail", "HTTPProblem", "error_responses", "exception_handlers"]

logger = logging.getLogger("todo.http")


class ErrorDetail(msgspec.Struct, frozen=True):
    code: str
    message: str
    details: dict[str, Any] = msgspec.field(default_factory=dict)


class ErrorBody(msgspec.Struct, frozen=True):
    """What every failed request answers."""

    error: ErrorDetail


class HTTPProblem(Exception):
    """A failure the HTTP adapter itself detects (a missing body, a wrong media type, ...)."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        details: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = dict(details or {})
        self.headers = dict(headers or {})


_STATUS_OF_DOMAIN_ERROR: Final[dict[type[TodoError], int]] = {
    NotFound: HTTP_404_NOT_FOUND,
    ValidationFailed: HTTP_400_BAD_REQUEST,
    Conflict: HTTP_409_CONFLICT,
    PreconditionFailed: HTTP_412_PRECONDITION_FAILED,
    IdempotencyKeyReused: HTTP_422_UNPROCESSABLE_ENTITY,
    StorageUnavailable: HTTP_503_SERVICE_UNAVAILABLE,
}

_CODE_OF_STATUS: Final = {
    400: "VALIDATION_ERROR",
    401: "UNAUTHENTICATED",
    403: "FORBIDDEN",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    406: "NOT_ACCEPTABLE",
    409: "CONFLICT",
    412: "PRECONDITION_FAILED",
    413: "PAYLOAD_TOO_LARGE",
    415: "UNSUPPORTED_MEDIA_TYPE",
    429: "RATE_LIMITED",
    503: "SERVICE_UNAVAILABLE",
}
_UNKNOWN_FIELD = re.compile(r"unknown field `([^`]*)`")
_MISSING_FIELD = re.compile(r"missing required field `([^`]*)`")


def error_response(
    status: int,
    code: str,
    message: str,
    details: Mapping[str, Any] | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response[ErrorBody]:
    body = ErrorBody(ErrorDetail(code=code, message=message, details=dict(details or {})))
    # Errors can carry user data (an email, a task id): no cache may keep them either.
    return Response(body, status_code=status, headers={"Cache-Control": "no-store", **(headers or {})})


def _domain_error(_: Request[Any, Any, Any], error: TodoError) -> Response[ErrorBody]:
    status = next(
        (_STATUS_OF_DOMAIN_ERROR[cls] for cls in type(error).__mro__ if cls in _STATUS_OF_DOMAIN_ERROR),
        HTTP_500_INTERNAL_SERVER_ERROR,
    )
    headers = {}
    if isinstance(error, StorageUnavailable):
        headers["Retry-After"] = str(error.retry_after)
    elif isinstance(error, (RequestInProgress, WriteConflict)):
        headers["Retry-After"] = "1"
    return error_response(status, error.code, error.message, error.details, headers)


def _adapter_problem(_: Request[Any, Any, Any], problem: HTTPProblem) -> Response[ErrorBody]:
    return error_response(problem.status, problem.code, problem.message, problem.details, problem.headers)


def _framework_error(request: Request[Any, Any, Any], error: HTTPException) -> Response[ErrorBody]:
    status = error.status_code
    headers = dict(error.headers or {})
    if isinstance(error, ValidationException):
        fields = _invalid_fields(error.extra)
        summary = "; ".join(f"{name}: {reason}" for name, reason in fields.items())
        return error_response(status, "VALIDATION_ERROR", f"Invalid input. {summary}", fields, headers)
    if isinstance(error, NotFoundException):
        message = f"Nothing here: no route matches {request.method} {request.url.path}."
    elif isinstance(error, RequestEntityTooLarge):
        limit = request.route_handler.resolve_request_max_body_size()
        message = f"The request body is larger than this service accepts ({limit:,} bytes)."
    elif isinstance(error, MethodNotAllowedException):
        if "allow" in headers:  # Litestar lists them from a set: in another order in each worker process
            headers["allow"] = ", ".join(sorted(method.strip() for method in headers["allow"].split(",")))
        message = f"{request.method} is not allowed here; allowed: {headers.get('allow', 'none')}."
    elif status == HTTP_400_BAD_REQUEST:
        # Litestar raises a bare 400 for bodies msgspec cannot parse as JSON.
        reason = error.detail or "is not valid JSON"
        return error_response(status, "VALIDATION_ERROR", f"Invalid request body: {reason}.", {"body": reason})
    else:
        message = error.detail
    code = _CODE_OF_STATUS.get(status, "INTERNAL_ERROR" if status >= 500 else "BAD_REQUEST")
    return error_response(status, code, message, headers=headers)


def _crash(request: Request[Any, Any, Any], error: Exception) -> Response[ErrorBody]:
    logger.exception("unhandled error in %s %s", request.method, request.url.path, exc_info=error)
    return error_response(
        HTTP_500_INTERNAL_SERVER_ERROR, "INTERNAL_ERROR", "An unexpected error occurred; it has been logged."
    )


def _invalid_fields(extra: object) -> dict[str, str]:
    fields: dict[str, str] = {}
    for item in extra if isinstance(extra, list) else []:
        key, message = str(item.get("key") or "body"), str(item.get("message") or "is invalid")
        if unknown := _UNKNOWN_FIELD.search(message):
            key, message = unknown.group(1), "is not a field of this request; remove it"
        elif missing := _MISSING_FIELD.search(message):
            key, message = missing.group(1), "is required"
        elif key == "data":
            key = "body"
        fields[key] = message
    return fields or {"body": "is invalid"}


exception_handlers: ExceptionHandlersMap = {
    TodoError: _domain_error,
    HTTPProblem: _adapter_problem,
    HTTPException: _framework_error,
    Exception: _crash,
}

_DESCRIPTIONS: Final = {
    400: "Invalid input: `details` names each bad field and why.",
    401: "No valid bearer token; `WWW-Authenticate` says why.",
    403: "The token's user is not the user in the path.",
    404: "No such resource (another user's task answers the same as a missing one).",
    405: "The method is not allowed here; `Allow` lists those that are.",
    409: "The request conflicts with stored data, or with a concurrent request; see `code`.",
    412: "The task changed since the ETag given in `If-Match`.",
    413: "The request body is larger than the server accepts.",
    415: "The request body is not JSON.",
    422: "The Idempotency-Key was first used with a different request.",
    429: "Too many requests from this caller; retry after `Retry-After` seconds.",
    503: "Storage is unavailable; retry after `Retry-After` seconds.",
}


def error_responses(*statuses: int, **descriptions: str) -> dict[int, ResponseSpec]:
    """OpenAPI entries for the given error statuses and those every protected route may answer
    (401, 403, 429), all with the one error body."""
    return {
        status: ResponseSpec(
            data_container=ErrorBody,
            description=descriptions.get(f"s{status}", _DESCRIPTIONS.get(status, "Error")),
            generate_examples=False,
        )
        for status in sorted({*statuses, 401, 403, 429})
    }
