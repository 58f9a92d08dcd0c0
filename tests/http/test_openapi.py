from __future__ import annotations

from typing import Any

from litestar.testing import AsyncTestClient

METHODS = {"get", "put", "post", "patch", "delete"}


async def openapi(client: AsyncTestClient) -> dict[str, Any]:
    response = await client.get("/openapi.json")
    assert response.status_code == 200
    return dict(response.json())


async def test_the_document_is_openapi_3_1_and_covers_every_route(client: AsyncTestClient) -> None:
    document = await openapi(client)
    assert document["openapi"].startswith("3.1")
    operations = {(path, method) for path, item in document["paths"].items() for method in item if method in METHODS}
    assert {
        ("/api/users", "post"), ("/api/users/{user_id}", "get"), ("/api/users/{user_id}", "patch"),
        ("/api/users/{user_id}", "delete"),
        ("/api/{user_id}/tasks", "get"), ("/api/{user_id}/tasks", "post"),
        ("/api/{user_id}/tasks/{task_id}", "get"), ("/api/{user_id}/tasks/{task_id}", "put"),
        ("/api/{user_id}/tasks/{task_id}", "patch"), ("/api/{user_id}/tasks/{task_id}", "delete"),
        ("/api/{user_id}/tasks/{task_id}/complete", "patch"), ("/health", "get"), ("/health/ready", "get"),
    } <= operations  # fmt: skip


async def test_the_conditional_request_headers_are_documented(client: AsyncTestClient) -> None:
    document = await openapi(client)
    for path in ("/api/{user_id}/tasks/{task_id}", "/users/{user_id}/tasks/{task_id}"):
        operations = document["paths"][path]
        headers = {
            method: {p["name"] for p in operations[method].get("parameters", []) if p["in"] == "header"}
            for method in ("get", "put", "patch", "delete")
        }
        assert headers == {"get": {"If-None-Match"}, "put": {"If-Match"}, "patch": {"If-Match"}, "delete": {"If-Match"}}


async def test_every_error_response_documents_the_one_error_body(client: AsyncTestClient) -> None:
    document = await openapi(client)
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method not in METHODS or path == "/health":
                continue
            errors = {status: r for status, r in operation["responses"].items() if status.startswith(("4", "5"))}
            assert errors, f"{method.upper()} {path} documents no error response"
            for status, response in errors.items():
                schema = response["content"]["application/json"]["schema"]
                assert schema == {"$ref": "#/components/schemas/ErrorBody"}, f"{method.upper()} {path} {status}"


async def test_every_body_refuses_unknown_fields_and_only_completion_may_be_sent_without_one(
    client: AsyncTestClient,
) -> None:
    document = await openapi(client)
    schemas = document["components"]["schemas"]
    bodies = {
        (path, method): operation["requestBody"]
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method in METHODS and "requestBody" in operation
    }
    for (path, method), body in bodies.items():
        schema = body["content"]["application/json"]["schema"]
        for choice in schema.get("oneOf", [schema]):  # the completion body may also be null
            if "$ref" in choice:
                name = choice["$ref"].rsplit("/", 1)[-1]
                assert schemas[name]["additionalProperties"] is False, f"{method.upper()} {path}: {name}"
    assert {key for key, body in bodies.items() if not body["required"]} == {
        ("/api/{user_id}/tasks/{task_id}/complete", "patch"),
        ("/users/{user_id}/tasks/{task_id}/complete", "patch"),
    }
    assert len(bodies) == 10


async def test_the_old_task_paths_are_marked_deprecated(client: AsyncTestClient) -> None:
    document = await openapi(client)
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method in METHODS:
                assert operation.get("deprecated", False) is path.startswith("/users/"), f"{method} {path}"


async def test_interactive_docs_are_served(client: AsyncTestClient) -> None:
    response = await client.get("/docs")
    assert response.status_code == 200
    assert "swagger" in response.text.lower()


async def test_health_answers_ok(client: AsyncTestClient) -> None:
    response = await client.get("/health")
    assert (response.status_code, response.json()) == (200, {"status": "ok", "auth": "disabled"})


async def test_readiness_answers_ready_when_storage_can_serve(client: AsyncTestClient) -> None:
    response = await client.get("/health/ready")
    assert (response.status_code, response.json()) == (200, {"status": "ready"})
