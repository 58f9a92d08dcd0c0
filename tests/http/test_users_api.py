from __future__ import annotations

from litestar.testing import AsyncTestClient

from tests.http.conftest import Api, assert_error


async def test_registering_answers_201_with_the_user_and_its_location(client: AsyncTestClient) -> None:
    response = await client.post("/api/users", json={"email": "ada@example.com", "id": "ada"})
    assert response.status_code == 201
    assert response.headers["location"] == "/api/users/ada"
    assert response.json() == {"id": "ada", "email": "ada@example.com", "created_at": "2026-01-01T09:00:00.001000Z"}


async def test_registering_without_an_id_generates_one(client: AsyncTestClient) -> None:
    response = await client.post("/api/users", json={"email": "ada@example.com"})
    assert response.status_code == 201
    assert response.json()["id"] == "00000000-0000-7000-8000-000000000001"


async def test_a_taken_email_answers_409_email_taken(api: Api) -> None:
    await api.register("ada", "ada@example.com")
    response = await api.client.post("/api/users", json={"email": "ADA@example.com"})
    assert assert_error(response, 409, "EMAIL_TAKEN") == {"email": "ADA@example.com"}


async def test_a_taken_id_answers_409_user_id_taken(api: Api) -> None:
    await api.register("ada")
    response = await api.client.post("/api/users", json={"email": "other@example.com", "id": "ada"})
    assert_error(response, 409, "USER_ID_TAKEN")


async def test_a_bad_email_and_id_are_both_named(client: AsyncTestClient) -> None:
    response = await client.post("/api/users", json={"email": "nope", "id": "no spaces"})
    assert set(assert_error(response, 400, "VALIDATION_ERROR")) == {"email", "id"}


async def test_the_reserved_id_users_is_refused(client: AsyncTestClient) -> None:
    response = await client.post("/api/users", json={"email": "u@example.com", "id": "users"})
    assert set(assert_error(response, 400, "VALIDATION_ERROR")) == {"id"}


async def test_getting_a_user_answers_200_or_404(api: Api) -> None:
    ada = await api.register("ada")
    response = await api.client.get("/api/users/ada")
    assert (response.status_code, response.json()) == (200, ada)
    assert_error(await api.client.get("/api/users/nobody"), 404, "USER_NOT_FOUND")


async def test_changing_a_users_email_answers_200_with_the_user_as_stored(api: Api) -> None:
    await api.register("ada", "ada@example.com")
    response = await api.client.patch("/api/users/ada", json={"email": "countess@example.com"})
    again = await api.client.patch("/api/users/ada", json={"email": "countess@example.com"})
    expected = {"id": "ada", "email": "countess@example.com", "created_at": "2026-01-01T09:00:00.001000Z"}
    assert (response.status_code, response.json()) == (200, expected)
    assert (again.status_code, again.json()) == (200, expected)
    assert (await api.client.get("/api/users/ada")).json() == expected
    assert (await api.client.post("/api/users", json={"email": "ada@example.com"})).status_code == 201


async def test_an_email_change_is_refused_when_taken_malformed_or_for_no_one(api: Api) -> None:
    ada = await api.register("ada", "ada@example.com")
    await api.register("grace", "grace@example.com")
    taken = await api.client.patch("/api/users/ada", json={"email": "GRACE@example.com"})
    assert assert_error(taken, 409, "EMAIL_TAKEN") == {"email": "GRACE@example.com"}
    malformed = await api.client.patch("/api/users/ada", json={"email": "nope"})
    assert set(assert_error(malformed, 400, "VALIDATION_ERROR")) == {"email"}
    unknown_field = await api.client.patch("/api/users/ada", json={"email": "a@example.com", "id": "x"})
    assert set(assert_error(unknown_field, 400, "VALIDATION_ERROR")) == {"id"}
    assert_error(await api.client.patch("/api/users/ada"), 400, "VALIDATION_ERROR")
    assert_error(await api.client.patch("/api/users/hedy", json={"email": "h@example.com"}), 404, "USER_NOT_FOUND")
    assert (await api.client.get("/api/users/ada")).json() == ada


async def test_deleting_a_user_answers_204_then_404_and_takes_their_tasks(api: Api) -> None:
    await api.register("ada")
    task = await api.create("ada")
    response = await api.client.delete("/api/users/ada")
    assert (response.status_code, response.content) == (204, b"")
    assert_error(await api.client.delete("/api/users/ada"), 404, "USER_NOT_FOUND")
    assert_error(await api.get("ada", task["id"]), 404, "TASK_NOT_FOUND")
    assert_error(await api.client.get("/api/ada/tasks"), 404, "USER_NOT_FOUND")
