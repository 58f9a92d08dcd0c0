"""JSON responses encoded straight into the ASGI messages.

Litestar turns a returned ``Response`` into an ``ASGIResponse`` through general machinery: it
merges the header dictionaries, adds each header to a ``MutableScopeHeaders`` one by one,
resolves type encoders and a serializer, then lists the headers again for the start message.
The task routes answer most requests with a small JSON body and a few headers, and that
machinery was about a tenth of their CPU time. ``JSONResponse`` is a ``Response`` subclass
(Litestar's extension point for this) that produces the same status, headers and body with
one pass over the headers, and leaves anything unusual (cookies, background tasks, other
media types, custom encoders) to Litestar's own path.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Final, TypeVar

import msgspec
from litestar import Response
from litestar.datastructures import MutableScopeHeaders
from litestar.enums import MediaType
from litestar.response.base import ASGIResponse
from litestar.status_codes import HTTP_200_OK, HTTP_204_NO_CONTENT, HTTP_304_NOT_MODIFIED

if TYPE_CHECKING:
    from litestar import Litestar, Request
    from litestar.background_tasks import BackgroundTask, BackgroundTasks
    from litestar.datastructures import Cookie
    from litestar.types import TypeEncodersMap

__all__ = ["JSONResponse"]

T = TypeVar("T")

_JSON: Final = MediaType.JSON.value
_CONTENT_TYPE: Final = (b"content-type", _JSON.encode("latin-1"))
_encode: Final = msgspec.json.Encoder().encode


class JSONResponse(Response[T]):
    """A ``Response`` whose content is encoded as JSON, with Litestar's semantics and a shorter path."""

    def to_asgi_response(
        self,
        app: Litestar | None,
        request: Request[Any, Any, Any],
        *,
        background: BackgroundTask | BackgroundTasks | None = None,
        cookies: Iterable[Cookie] | None = None,
        encoded_headers: Iterable[tuple[bytes, bytes]] | None = None,
        headers: dict[str, str] | None = None,
        is_head_response: bool = False,
        media_type: MediaType | str | None = None,
        status_code: int | None = None,
        type_encoders: TypeEncodersMap | None = None,
    ) -> ASGIResponse:
        if (
            app is not None
            or background is not None
            or self.background is not None
            or cookies
            or self.cookies
            or encoded_headers is not None
            or type_encoders
            or self.response_type_encoders
            or (self.media_type or media_type or _JSON) != _JSON
        ):
            return super().to_asgi_response(
                app,
                request,
                background=background,
                cookies=cookies,
                encoded_headers=encoded_headers,
                headers=headers,
                is_head_response=is_head_response,
                media_type=media_type,
                status_code=status_code,
                type_encoders=type_encoders,
            )
        status = self.status_code or status_code or HTTP_200_OK
        merged = {**headers, **self.headers} if headers else self.headers
        raw = [(name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in merged.items()]
        # As ASGIResponse does: no body, content type or length for 1xx, 204, 304 or HEAD.
        if status in (HTTP_204_NO_CONTENT, HTTP_304_NOT_MODIFIED) or status < HTTP_200_OK or is_head_response:
            body = b""
        else:
            body = _encode(self.content)
            names = {name for name, _ in raw}
            if b"content-type" not in names:
                raw.append(_CONTENT_TYPE)
            if b"content-length" not in names:
                raw.append((b"content-length", str(len(body)).encode("latin-1")))
        return _EncodedResponse(status, raw, body, is_head_response=is_head_response)


class _EncodedResponse(ASGIResponse):
    """An ``ASGIResponse`` made from headers already encoded; everything after construction is Litestar's."""

    __slots__ = ()

    def __init__(
        self, status_code: int, raw_headers: list[tuple[bytes, bytes]], body: bytes, *, is_head_response: bool
    ) -> None:
        # ASGIResponse.__init__ is skipped on purpose: it would encode the headers again.
        self.status_code = status_code
        self.headers = MutableScopeHeaders({"headers": raw_headers})
        self.body = body
        self.content_length = len(body)
        self.encoding = "utf-8"
        self.is_head_response = is_head_response
        self.background = None
        self._encoded_cookies = ()
