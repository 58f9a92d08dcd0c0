"""Request bodies must be JSON: a route says whether it needs one, and this hook holds it to that
before Litestar parses anything."""

from __future__ import annotations

from typing import Any, Final

from litestar import Request
from litestar.status_codes import HTTP_400_BAD_REQUEST, HTTP_415_UNSUPPORTED_MEDIA_TYPE

from todo_adapters.http.problems import HTTPProblem

__all__ = ["BODY_OPTIONAL", "BODY_REQUIRED", "require_json_body"]

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
    try:
        (await request.body()).decode()
    except UnicodeDecodeError as error:
        raise HTTPProblem(
            HTTP_400_BAD_REQUEST,
            "VALIDATION_ERROR",
            "The request body is not valid UTF-8.",
            details={"body": f"is not valid UTF-8 (byte {error.start})"},
        ) from None


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
