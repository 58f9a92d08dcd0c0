"""The user routes."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, Response, Router, delete, get, patch, post
from litestar.datastructures import ResponseHeader
from litestar.di import NamedDependency
from litestar.params import JSONBody, PathParameter
from litestar.status_codes import HTTP_201_CREATED, HTTP_204_NO_CONTENT, HTTP_403_FORBIDDEN
from msgspec import UNSET

from todo_adapters.http.auth import KnownCallers, caller_of
from todo_adapters.http.bodies import BODY_REQUIRED
from todo_adapters.http.idempotency import IDEMPOTENT_CREATE, REPLAYED, IdempotencyKey, replayed
from todo_adapters.http.problems import HTTPProblem, error_responses
from todo_adapters.http.reserved import RESERVED_USER_IDS
from todo_adapters.http.schemas import NewUser, UserChange, UserView, user_view
from todo_core import UserService, ValidationFailed
from todo_core.rules import USER_ID_PATTERN

__all__ = ["user_router"]

UserIdPath = Annotated[str, PathParameter(description="The user's id.", schema_extra={"pattern": USER_ID_PATTERN})]


@post(
    "/",
    operation_id="registerUser",
    summary="Register a user",
    description="With authentication on, a token may only register its own user: the id defaults to the "
    "token's subject, and any other id is refused with 403.\n\n" + IDEMPOTENT_CREATE,
    status_code=HTTP_201_CREATED,
    response_headers=[
        ResponseHeader(name="Location", description="The new user's URL.", documentation_only=True),
        REPLAYED,
    ],
    responses=error_responses(
        400, 409, 413, 415, 422, 503, s409="The email or the id is already registered, or the same key is in use."
    ),
    # Registering is how a newcomer gives their record an email, so it is not created for them first.
    opt={**BODY_REQUIRED, "provision": False},
)
async def register_user(
    request: Request[Any, Any, Any],
    users: NamedDependency[UserService],
    data: JSONBody[NewUser],
    idempotency_key: IdempotencyKey = None,
) -> Response[UserView]:
    user_id = None if data.id is UNSET else data.id
    caller = caller_of(request)
    if caller is not None:
        if user_id not in (None, caller.id):
            raise HTTPProblem(HTTP_403_FORBIDDEN, "FORBIDDEN", "A token may only register its own user.")
        user_id = caller.id
    if user_id in RESERVED_USER_IDS:
        raise ValidationFailed({"id": f"{user_id!r} is reserved; choose another id"})
    registered = await users.register_user_once(
        data.email, user_id=user_id, idempotency_key=idempotency_key, key_scope=caller.id if caller else ""
    )
    headers = replayed(registered, {"Location": f"/api/users/{registered.value.id}"})
    return Response(user_view(registered.value), status_code=HTTP_201_CREATED, headers=headers)


@get("/{user_id:str}", operation_id="getUser", summary="Get a user", responses=error_responses(400, 404, 503))
async def get_user(users: NamedDependency[UserService], user_id: UserIdPath) -> UserView:
    return user_view(await users.get_user(user_id))


@patch(
    "/{user_id:str}",
    operation_id="changeUser",
    summary="Change a user's email",
    description="How a user created from a sign-in token without an email gets one, and how any user "
    "changes theirs. Setting the email the user already has changes nothing, so it is safe to retry.",
    responses=error_responses(400, 404, 409, 413, 415, 503, s409="The email is another user's."),
    opt=BODY_REQUIRED,
)
async def change_user(users: NamedDependency[UserService], user_id: UserIdPath, data: JSONBody[UserChange]) -> UserView:
    return user_view(await users.change_email(user_id, data.email))


@delete(
    "/{user_id:str}",
    operation_id="deleteUser",
    summary="Delete a user and all their tasks",
    status_code=HTTP_204_NO_CONTENT,
    responses=error_responses(400, 404, 503),
)
async def delete_user(
    users: NamedDependency[UserService], known_callers: NamedDependency[KnownCallers | None], user_id: UserIdPath
) -> None:
    await users.delete_user(user_id)
    if known_callers is not None:
        known_callers.forget(user_id)


def user_router() -> Router:
    return Router("/api/users", route_handlers=[register_user, get_user, change_user, delete_user], tags=["users"])
