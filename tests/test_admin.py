"""Users, roles and tasks are manageable in the Django admin."""

import pytest

from accounts.models import OidcIdentity
from tasks.models import Task


@pytest.mark.parametrize("page", ["accounts/user", "auth/group", "tasks/task"])
def test_a_superuser_manages_users_roles_and_tasks(client, make_user, alice, page):
    Task.objects.create(owner=alice, title="Buy milk")
    admin = make_user("admin", is_staff=True, is_superuser=True)
    client.force_login(admin)
    assert client.get(f"/admin/{page}/").status_code == 200
    assert client.get(f"/admin/{page}/add/").status_code == 200


def test_a_task_can_be_edited_in_the_admin(client, make_user, alice):
    task = Task.objects.create(owner=alice, title="Buy milk")
    client.force_login(make_user("admin", is_staff=True, is_superuser=True))
    assert client.get(f"/admin/tasks/task/{task.pk}/change/").status_code == 200


def test_staff_without_codenames_see_no_tasks_admin(client, make_user):
    client.force_login(make_user("staff", is_staff=True))
    assert client.get("/admin/tasks/task/").status_code == 403


def test_staff_see_the_linked_provider_accounts_and_can_unlink_one_but_not_add_one(client, make_user, alice):
    identity = OidcIdentity.objects.create(user=alice, provider="acme", issuer="https://id.acme.example", subject="42")
    client.force_login(make_user("admin", is_staff=True, is_superuser=True))

    listed = client.get("/admin/accounts/oidcidentity/?q=alice")
    assert listed.status_code == 200 and b"https://id.acme.example" in listed.content
    assert client.get("/admin/accounts/oidcidentity/add/").status_code == 403
    assert client.post(f"/admin/accounts/oidcidentity/{identity.pk}/delete/", {"post": "yes"}).status_code == 302
    assert not OidcIdentity.objects.exists()
