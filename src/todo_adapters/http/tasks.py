"""The task routes: each handler turns HTTP into one use case call and its result back into HTTP."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode
from uuid import UUID

from litestar import Request, Response, Router, delete, get, patch, post, put
from litestar.datastructures import ResponseHeader
from litestar.enums import ParamType
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import OpenAPIType, Parameter, Schema
from litestar.params import HeaderParameter, JSONBody, PathParameter, QueryParameter
from litestar.status_codes import HTTP_201_CREATED, HTTP_204_NO_CONTENT, HTTP_304_NOT_MODIFIED
from litestar.types import Scope
from msgspec import UNSET

from todo_adapters.http.bodies import BODY_OPTIONAL, BODY_REQUIRED
from todo_adapters.http.idempotency import IDEMPOTENT_CREATE, REPLAYED, IdempotencyKey, replayed
from todo_adapters.http.preconditions import etag, if_match_versions, none_match
from todo_adapters.http.problems import error_responses
from todo_adapters.http.responses import JSONResponse
from todo_adapters.http.schemas import (
    CompletionChange,
    NewTask,
    TaskPatch,
    TaskReplacement,
    TaskView,
    task_view,
)
from todo_core import DEFAULT_PAGE_SIZE, KEEP, MAX_PAGE_SIZE, Task, TaskQuery, TaskService, ValidationFailed
from todo_core.listing import SortField, StatusFilter
from todo_core.rules import SEARCH_PATTERN, USER_ID_PATTERN

__all__ = ["IF_NONE_MATCH", "task_router"]

_SORTS = [f"{prefix}{field.value}" for field in SortField for prefix in ("-", "")]
_ETAG = ResponseHeader(
    name="ETag", description="The task's version, for If-Match and If-None-Match.", documentation_only=True
)
_IF_MATCH = HeaderParameter(
    name="If-Match",
    required=False,
    description="Only write if the task is still at this ETag; otherwise 412 and nothing changes.",
)
IfMatch = Annotated[str | None, _IF_MATCH]
# Get reads If-None-Match from the raw headers itself: a header parameter would have Litestar
# parse every header of every request into a Headers object first, 4 % of a get's CPU time.
# refine_openapi puts it in the document by this description.
IF_NONE_MATCH = Parameter(
    name="If-None-Match",
    param_in=ParamType.HEADER,
    schema=Schema(type=OpenAPIType.STRING),
    description="ETags you hold.",
    required=False,
)
TaskId = Annotated[str, PathParameter(description="The task's id, a UUID.", schema_extra={"format": "uuid"})]
OwnerId = Annotated[
    str, PathParameter(description="The id of the user who owns the tasks.", schema_extra={"pattern": USER_ID_PATTERN})
]


def task_router(path: str, tasks: TaskService, *, deprecated: bool = False) -> Router:
    """The task routes under ``path`` (which holds ``{user_id}``), serving ``tasks``; ``deprecated``
    marks an old path. The handlers close over the service rather than ask Litestar to inject it:
    resolving a dependency on every request costs measurably on the busiest routes."""
    suffix = "Deprecated" if deprecated else ""
    common: dict[str, Any] = {"deprecated": deprecated}

    @get(
        "/",
        operation_id=f"listTasks{suffix}",
        summary="List a user's tasks",
        description=(
            "A page of the user's tasks, newest first unless `sort` says otherwise. When more follow, the "
            '`Link` header carries the next page\'s URL (`rel="next"`); pages are keyset-based, so tasks '
            "created or deleted meanwhile never shift them."
        ),
        response_headers=[
            ResponseHeader(
                name="Link", description='`<url>; rel="next"` when another page follows.', documentation_only=True
            )
        ],
        responses=error_responses(400, 404, 503),
        **common,
    )
    async def list_tasks(
        request: Request[Any, Any, Any],
        user_id: OwnerId,
        status: Annotated[
            str,
            QueryParameter(
                description="Which tasks to include.", schema_extra={"enum": [s.value for s in StatusFilter]}
            ),
        ] = "all",
        sort: Annotated[
            str,
            QueryParameter(
                description="Order, a leading `-` for descending; ties break by id.", schema_extra={"enum": _SORTS}
            ),
        ] = "-created",
        q: Annotated[
            str | None,
            QueryParameter(
                description="Case-insensitive text to find in title or description; surrounding spaces are ignored.",
                schema_extra={"pattern": SEARCH_PATTERN},
            ),
        ] = None,
        limit: Annotated[
            int,
            QueryParameter(
                description=f"Page size, 1-{MAX_PAGE_SIZE}.", schema_extra={"minimum": 1, "maximum": MAX_PAGE_SIZE}
            ),
        ] = DEFAULT_PAGE_SIZE,
        cursor: Annotated[str | None, QueryParameter(description="From a previous page's `Link`; opaque.")] = None,
    ) -> Response[list[TaskView]]:
        query = TaskQuery.parse(status=status, sort=sort, search=q, limit=limit, cursor=cursor)
        page = await tasks.list_tasks(user_id, query)
        headers = {}
        if page.next_cursor is not None:
            params = [(k, v) for k, v in request.query_params.multi_items() if k != "cursor"]
            next_url = request.url.with_replacements(query=urlencode([*params, ("cursor", page.next_cursor)]))
            headers["Link"] = f'<{next_url}>; rel="next"'
        return JSONResponse([task_view(task) for task in page.tasks], headers=headers)

    @post(
        "/",
        operation_id=f"createTask{suffix}",
        summary="Create a task",
        description=IDEMPOTENT_CREATE,
        status_code=HTTP_201_CREATED,
        response_headers=[
            ResponseHeader(name="Location", description="The new task's URL.", documentation_only=True),
            _ETAG,
            REPLAYED,
        ],
        responses=error_responses(400, 404, 409, 413, 415, 422, 503),
        opt=BODY_REQUIRED,
        **common,
    )
    async def create_task(
        user_id: OwnerId,
        data: JSONBody[NewTask],
        idempotency_key: IdempotencyKey = None,
    ) -> Response[TaskView]:
        created = await tasks.create_task_once(user_id, data.title, data.description, idempotency_key=idempotency_key)
        task = created.value
        headers = {"Location": f"/api/{task.user_id}/tasks/{task.id}", "ETag": etag(task.version)}
        return JSONResponse(task_view(task), status_code=HTTP_201_CREATED, headers=replayed(created, headers))

    @get(
        "/{task_id:str}",
        operation_id=f"getTask{suffix}",
        summary="Get a task",
        description="Send `If-None-Match` with the ETag you hold to get 304 when nothing changed.",
        response_headers=[_ETAG],
        responses={
            **error_responses(400, 404, 503),
            HTTP_304_NOT_MODIFIED: ResponseSpec(data_container=None, description="`If-None-Match` holds the ETag."),
        },
        **common,
    )
    async def get_task(user_id: OwnerId, task_id: TaskId, scope: Scope) -> Response[TaskView]:
        task = await tasks.get_task(user_id, _task_uuid(task_id))
        if none_match(_raw_header(scope, b"if-none-match"), task.version):
            return _not_modified(task)
        return _task_response(task)

    @put(
        "/{task_id:str}",
        operation_id=f"replaceTask{suffix}",
        summary="Replace a task",
        description="Sets title and description (an absent description clears it); completion changes only when given.",
        response_headers=[_ETAG],
        responses=error_responses(400, 404, 412, 413, 415, 503),
        opt=BODY_REQUIRED,
        **common,
    )
    async def replace_task(
        user_id: OwnerId,
        task_id: TaskId,
        data: JSONBody[TaskReplacement],
        if_match: IfMatch = None,
    ) -> Response[TaskView]:
        task = await tasks.replace_task(
            user_id,
            _task_uuid(task_id),
            title=data.title,
            description=data.description,
            completed=None if data.completed is UNSET else data.completed,
            expected_versions=if_match_versions(if_match),
        )
        return _task_response(task)

    @patch(
        "/{task_id:str}",
        operation_id=f"updateTask{suffix}",
        summary="Change some fields of a task",
        response_headers=[_ETAG],
        responses=error_responses(400, 404, 412, 413, 415, 503),
        opt=BODY_REQUIRED,
        **common,
    )
    async def update_task(
        user_id: OwnerId,
        task_id: TaskId,
        data: JSONBody[TaskPatch],
        if_match: IfMatch = None,
    ) -> Response[TaskView]:
        task = await tasks.update_task(
            user_id,
            _task_uuid(task_id),
            title=None if data.title is UNSET else data.title,
            description=KEEP if data.description is UNSET else data.description,
            completed=None if data.completed is UNSET else data.completed,
            expected_versions=if_match_versions(if_match),
        )
        return _task_response(task)

    @patch(
        "/{task_id:str}/complete",
        operation_id=f"completeTask{suffix}",
        summary="Toggle completion, or set it",
        description=(
            'Without a body, flips completion. With `{"completed": true}` or `false`, sets that value, '
            "which is safe to retry."
        ),
        response_headers=[_ETAG],
        responses=error_responses(400, 404, 412, 413, 415, 503),
        opt=BODY_OPTIONAL,
        **common,
    )
    async def complete_task(
        user_id: OwnerId,
        task_id: TaskId,
        data: JSONBody[CompletionChange | None] = None,
        if_match: IfMatch = None,
    ) -> Response[TaskView]:
        uuid, versions = _task_uuid(task_id), if_match_versions(if_match)
        if data is None:
            task = await tasks.toggle_completion(user_id, uuid, expected_versions=versions)
        else:
            task = await tasks.set_completion(user_id, uuid, data.completed, expected_versions=versions)
        return _task_response(task)

    @delete(
        "/{task_id:str}",
        operation_id=f"deleteTask{suffix}",
        summary="Delete a task",
        status_code=HTTP_204_NO_CONTENT,
        responses=error_responses(400, 404, 412, 503),
        **common,
    )
    async def delete_task(user_id: OwnerId, task_id: TaskId, if_match: IfMatch = None) -> None:
        await tasks.delete_task(user_id, _task_uuid(task_id), expected_versions=if_match_versions(if_match))

    return Router(
        path,
        route_handlers=[list_tasks, create_task, get_task, replace_task, update_task, complete_task, delete_task],
        tags=["tasks"],
    )


def _task_response(task: Task) -> Response[TaskView]:
    return JSONResponse(task_view(task), headers={"ETag": etag(task.version)})


def _not_modified(task: Task) -> Response[Any]:
    return JSONResponse(None, status_code=HTTP_304_NOT_MODIFIED, headers={"ETag": etag(task.version)})


def _raw_header(scope: Scope, name: bytes) -> str | None:
    """The request's ``name`` header (lower case), its values joined as one list; None when absent."""
    values = [value.decode("latin-1") for key, value in scope["headers"] if key == name]
    return ", ".join(values) if values else None


def _task_uuid(raw: str) -> UUID:
    try:
        return UUID(raw)
    except ValueError:
        raise ValidationFailed({"task_id": "must be a UUID such as 0195f7a4-8a1e-7c3d-9b2a-4f6e8d0c1b2a"}) from None
