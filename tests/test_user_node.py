import pytest

from tests.graphql_util import GraphQLClient, only_error

NODE = "query($id: ID!) { node(id: $id) { id ... on User { username email } } }"


def user_id(client):
    return client.execute("{ me { id } }")["data"]["me"]["id"]


def test_node_resolves_the_viewer_by_global_id(as_user, alice):
    client = as_user(alice)
    own_id = user_id(client)
    assert client.execute(NODE, {"id": own_id})["data"]["node"] == {
        "id": own_id,
        "username": "alice",
        "email": alice.email,
    }


def test_another_users_node_is_not_found_for_a_plain_user(as_user, alice, bob):
    bobs_id = user_id(as_user(bob))
    result = as_user(alice).execute(NODE, {"id": bobs_id})
    assert result["data"] == {"node": None}
    assert only_error(result)["extensions"]["code"] == "NOT_FOUND"


def test_staff_see_other_users_through_node(as_user, make_user, bob):
    staff = make_user("sam", is_staff=True)
    bobs_id = user_id(as_user(bob))
    assert as_user(staff).execute(NODE, {"id": bobs_id})["data"]["node"]["username"] == "bob"


@pytest.mark.django_db
def test_node_needs_a_viewer(alice):
    result = GraphQLClient().execute(NODE, {"id": "VXNlcjox"})
    assert only_error(result)["extensions"]["reason"] == "missing_credentials"


@pytest.mark.parametrize("bad_id", ["not-base64!", "VXNlcg==", "VXNlcjphYmM="])
def test_malformed_ids_are_bad_user_input(as_user, alice, bad_id):
    error = only_error(as_user(alice).execute(NODE, {"id": bad_id}))
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert "id" in error["extensions"]["fieldErrors"]


def test_ids_of_unknown_types_are_not_found(as_user, alice):
    from strawberry.relay import to_base64

    error = only_error(as_user(alice).execute(NODE, {"id": to_base64("Secret", 1)}))
    assert error["extensions"]["code"] == "NOT_FOUND"
