"""Request bodies must be JSON: a route says whether it needs one, and this hook holds it to that
before Litestar parses anything.

Litestar converts a body in msgspec's lax mode, which takes ``0``, ``"0"`` or ``"false"`` for
false and ``"5"`` for 5. The OpenAPI document promises the JSON types it declares, and a client
that sends a string for a boolean has a bug it should hear about, so the body is decoded here
first, strictly, into the route's body type; Litestar's own parsing then never meets a value
of the wrong JSON type.
"""

from __future__ import annotations

import functools
import re
from typing import Any, Final

import msgspec
from litestar import Request
from litestar.exceptions import ValidationException
from litestar.handlers import HTTPRouteHandler
from litestar.status_codes import HTTP_400_BAD_REQUEST, HTTP_415_UNSUPPORTED_MEDIA_TYPE

from todo_adapters.http.problems import HTTPProblem

__all__ = ["BODY_OPTIONAL", "BODY_REQUIRED", "body_type", "require_json_body"]

BODY_REQUIRED: Final = {"json_body": "required"}
BODY_OPTIONAL: Final = {"json_body": "optional"}


async def require_json_body(request: Request[Any, Any, Any]) -> None:
    expectation = request.route_handler.opt.get("json_body")
    if expectation is None:
        return
    headers = request.headers
    if headers.get("content-length", "0") == "0" and "transfer-encoding" not in headers:
        if expectation == BODY_REQUIRED["json_body"]:
            raise HTTPProblem(
                HTTP_400_BAD_REQUEST,
                "VALIDATION_ERROR",
                "This request needs a JSON object as its body.",
                details={"body": "is required"},
            )
        return
    if not _is_json(headers.get("content-type", "")):
        raise HTTPProblem(
            HTTP_415_UNSUPPORTED_MEDIA_TYPE,
            "UNSUPPORTED_MEDIA_TYPE",
            "Send the body as JSON with 'Content-Type: application/json'.",
            details={"content_type": headers.get("content-type", "")[:100]},
        )
    # The JSON decoder reports bad UTF-8 inside strings as a crash, not as bad input; the body
    # is read (and its size limit enforced) here once, and Litestar parses the cached bytes.
    body = await request.body()
    try:
        body.decode()
    except UnicodeDecodeError as error:
        raise HTTPProblem(
            HTTP_400_BAD_REQUEST,
            "VALIDATION_ERROR",
            "The request body is not valid UTF-8.",
            details={"body": f"is not valid UTF-8 (byte {error.start})"},
        ) from None
    if (kind := body_type(request.route_handler)) is not None:
        try:
            _strict_decoder(kind).decode(body)
        except msgspec.ValidationError as error:
            raise ValidationException(extra=[_invalid_field(str(error))]) from None
        except msgspec.DecodeError:
            return  # not JSON at all: Litestar's parsing says so


def body_type(handler: HTTPRouteHandler) -> Any | None:
    """The type a route takes its body as (its ``data`` parameter), or None when it takes none."""
    data = handler.parsed_fn_signature.parameters.get("data")
    return None if data is None else data.annotation


_AT_FIELD: Final = re.compile(r"(.*) - at `\$\.([^`.\[]+)`")


@functools.cache
def _strict_decoder(body_type: Any) -> msgspec.json.Decoder[Any]:
    return msgspec.json.Decoder(body_type)


def _invalid_field(message: str) -> dict[str, str]:
    """msgspec's complaint as Litestar reports a body's bad field: its key ("data": the body as a whole)."""
    if located := _AT_FIELD.fullmatch(message):
        return {"key": located.group(2), "message": located.group(1)}
    return {"key": "data", "message": message}


def _is_json(content_type: str) -> bool:
    media_type, *parameters = (part.strip().lower() for part in content_type.split(";"))
    if media_type != "application/json" and not (
        media_type.startswith("application/") and media_type.endswith("+json")
    ):
        return False
    # JSON is UTF-8 (RFC 8259); a body declared in another charset would be misread.
    return all(
        p.replace(" ", "") in ("charset=utf-8", 'charset="utf-8"') for p in parameters if p.startswith("charset")
    )
