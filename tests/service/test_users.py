from __future__ import annotations

import pytest

from todo_core import EmailTaken, TaskService, UserIdTaken, UserNotFound, UserService, ValidationFailed


async def test_registering_without_an_id_generates_one(users: UserService) -> None:
    ada = await users.register_user("ada@example.com")
    assert ada.email == "ada@example.com"
    assert len(ada.id) == 36
    assert await users.get_user(ada.id) == ada


async def test_registering_with_an_id_keeps_it(users: UserService) -> None:
    ada = await users.register_user("ada@example.com", user_id="user_2abcXYZ")
    assert ada.id == "user_2abcXYZ"


async def test_registration_names_every_bad_field(users: UserService) -> None:
    with pytest.raises(ValidationFailed) as refused:
        await users.register_user("not-an-email", user_id="bad id!")
    assert set(refused.value.fields) == {"email", "id"}


async def test_an_email_or_id_already_registered_is_refused(users: UserService) -> None:
    await users.register_user("ada@example.com", user_id="ada")
    with pytest.raises(EmailTaken):
        await users.register_user("Ada@Example.COM")
    with pytest.raises(UserIdTaken):
        await users.register_user("grace@example.com", user_id="ada")


async def test_deleting_a_user_deletes_their_tasks(users: UserService, tasks: TaskService) -> None:
    ada = await users.register_user("ada@example.com")
    await tasks.create_task(ada.id, "Write")
    await users.delete_user(ada.id)
    with pytest.raises(UserNotFound):
        await users.get_user(ada.id)
    with pytest.raises(UserNotFound):
        await tasks.list_tasks(ada.id)
    with pytest.raises(UserNotFound):
        await users.delete_user(ada.id)


async def test_a_malformed_user_id_is_a_validation_error_not_a_lookup(users: UserService) -> None:
    with pytest.raises(ValidationFailed, match="user_id"):
        await users.get_user("x" * 65)


async def test_a_provisioned_user_without_an_email_can_give_one_and_change_it(users: UserService) -> None:
    await users.provision_user("ada")
    assert (await users.get_user("ada")).email is None
    assert (await users.change_email("ada", "ada@example.com")).email == "ada@example.com"
    assert (await users.change_email("ada", "ada@example.com")).email == "ada@example.com"
    assert (await users.change_email("ada", "countess@example.com")).email == "countess@example.com"
    assert await users.get_user("ada") == await users.change_email("ada", "countess@example.com")
    await users.register_user("ada@example.com", user_id="grace")


async def test_changing_an_email_is_refused_when_taken_malformed_or_for_no_one(users: UserService) -> None:
    await users.register_user("ada@example.com", user_id="ada")
    await users.register_user("grace@example.com", user_id="grace")
    with pytest.raises(EmailTaken):
        await users.change_email("grace", "ADA@example.com")
    with pytest.raises(ValidationFailed) as refused:
        await users.change_email("bad id!", "not-an-email")
    assert set(refused.value.fields) == {"user_id", "email"}
    with pytest.raises(UserNotFound):
        await users.change_email("hedy", "hedy@example.com")
    assert (await users.get_user("grace")).email == "grace@example.com"
