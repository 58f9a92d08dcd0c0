"""The user routes."""

from __future__ import annotations

from typing import Annotated

from litestar import Response, Router, delete, get, post
from litestar.datastructures import ResponseHeader
from litestar.di import NamedDependency
from litestar.params import JSONBody, PathParameter
from litestar.status_codes import HTTP_201_CREATED, HTTP_204_NO_CONTENT
from msgspec import UNSET

from todo_adapters.http.bodies import BODY_REQUIRED
from todo_adapters.http.problems import error_responses
from todo_adapters.http.schemas import NewUser, UserView, user_view
from todo_core import UserService, ValidationFailed

__all__ = ["RESERVED_USER_IDS", "user_router"]

# Ids no URL can reach are kept out of circulation: "/api/users/..." is this router's own
# path, and clients remove "." and ".." segments from URLs before sending them (RFC 3986).
RESERVED_USER_IDS = frozenset({"users", ".", ".."})

UserIdPath = Annotated[str, PathParameter(description="The user's id.")]


@post(
    "/",
    operation_id="registerUser",
    summary="Register a user",
    status_code=HTTP_201_CREATED,
    response_headers=[ResponseHeader(name="Location", description="The new user's URL.", documentation_only=True)],
    responses=error_responses(400, 409, 413, 415, 503, s409="The email or the id is already registered."),
    opt=BODY_REQUIRED,
)
async def register_user(users: NamedDependency[UserService], data: JSONBody[NewUser]) -> Response[UserView]:
    if data.id in RESERVED_USER_IDS:
        raise ValidationFailed({"id": f"{data.id!r} is reserved; choose another id"})
    user = await users.register_user(data.email, user_id=None if data.id is UNSET else data.id)
    return Response(user_view(user), status_code=HTTP_201_CREATED, headers={"Location": f"/api/users/{user.id}"})


@get("/{user_id:str}", operation_id="getUser", summary="Get a user", responses=error_responses(400, 404, 503))
async def get_user(users: NamedDependency[UserService], user_id: UserIdPath) -> UserView:
    return user_view(await users.get_user(user_id))


@delete(
    "/{user_id:str}",
    operation_id="deleteUser",
    summary="Delete a user and all their tasks",
    status_code=HTTP_204_NO_CONTENT,
    responses=error_responses(400, 404, 503),
)
async def delete_user(users: NamedDependency[UserService], user_id: UserIdPath) -> None:
    await users.delete_user(user_id)


def user_router() -> Router:
    return Router("/api/users", route_handlers=[register_user, get_user, delete_user], tags=["users"])
