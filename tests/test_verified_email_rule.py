"""REQUIRE_VERIFIED_EMAIL (API.md section 11): the four mutations that wait for a verified address."""

import pytest
from django.test import override_settings

from accounts import apikeys
from accounts.models import ApiKey, User
from accounts.request_meta import RequestMeta
from schema.permissions import HasVerifiedEmail, field_rule
from schema.relay import to_global_id
from schema.schema import schema
from tasks.models import Task
from tests.graphql_util import PASSWORD, GraphQLClient, only_error

MUTATIONS = {
    "createTask": ('mutation { createTask(input: {title: "new"}) { id } }', {}),
    "updateTask": ('mutation($id: ID!) { updateTask(id: $id, input: {title: "changed"}) { id } }', {"id": "task"}),
    "deleteTask": ("mutation($id: ID!) { deleteTask(id: $id) { deletedId } }", {"id": "task"}),
    "createApiKey": ('mutation($pw: String) { createApiKey(name: "ci", password: $pw) { secret } }', {"pw": PASSWORD}),
}


def run(client, name, task):
    query, variables = MUTATIONS[name]
    variables = {key: to_global_id("Task", task.pk) if value == "task" else value for key, value in variables.items()}
    return client.execute(query, variables)


def state():
    return sorted(Task.objects.values_list("title", flat=True)), ApiKey.objects.count()


@pytest.fixture
def task(alice):
    return Task.objects.create(owner=alice, title="mine")


@pytest.mark.parametrize("name", MUTATIONS)
@override_settings(REQUIRE_VERIFIED_EMAIL=True)
def test_until_the_address_is_verified_the_mutation_is_forbidden_and_changes_nothing(alice, task, client_for, name):
    before = state()
    error = only_error(run(client_for(alice), name, task))
    assert error["extensions"] == {"code": "FORBIDDEN", "reason": "email_not_verified"}
    assert "resendVerificationEmail" in error["message"]
    assert state() == before


@pytest.mark.parametrize("name", MUTATIONS)
@override_settings(REQUIRE_VERIFIED_EMAIL=True)
def test_a_verified_address_lets_it_run(alice, task, client_for, name):
    User.objects.filter(pk=alice.pk).update(verified_email=alice.email)
    assert "errors" not in run(client_for(alice), name, task)


@pytest.mark.parametrize("name", MUTATIONS)
def test_off_by_default(alice, task, client_for, name):
    assert not alice.email_verified
    assert "errors" not in run(client_for(alice), name, task)


@override_settings(REQUIRE_VERIFIED_EMAIL=True)
def test_the_refusal_comes_before_the_task_lookup_and_tells_nothing_about_other_tasks(alice, bob, client_for):
    hidden = Task.objects.create(owner=bob, title="bob's")
    client = client_for(alice)
    for pk in (hidden.pk, hidden.pk + 1000):
        error = only_error(client.execute(MUTATIONS["deleteTask"][0], {"id": to_global_id("Task", pk)}))
        assert error["extensions"] == {"code": "FORBIDDEN", "reason": "email_not_verified"}


@override_settings(REQUIRE_VERIFIED_EMAIL=True)
def test_an_api_key_of_an_unverified_owner_is_refused_too(alice):
    _, secret = apikeys.create(alice, "ci", False, None, PASSWORD, RequestMeta())
    by_key = GraphQLClient()
    by_key.headers = {"HTTP_X_API_KEY": secret}
    error = only_error(by_key.execute(MUTATIONS["createTask"][0]))
    assert error["extensions"] == {"code": "FORBIDDEN", "reason": "email_not_verified"}


def test_it_is_a_rule_of_the_permission_system_on_exactly_these_fields():
    mutation = schema.get_type_by_name("Mutation")
    with_rule = sorted(
        schema.config.name_converter.get_graphql_name(field)
        for field in mutation.fields
        if any(isinstance(leaf, HasVerifiedEmail) for leaf in field_rule(field).rule.leaves())
    )
    assert with_rule == sorted(MUTATIONS)
    assert HasVerifiedEmail().describe() == "a verified email address when REQUIRE_VERIFIED_EMAIL is on"
