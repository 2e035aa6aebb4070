import pytest

from accounts.models import AuditEvent, LoginSession, User
from tests.graphql_util import PASSWORD, only_error

REGISTER = """
mutation Register($input: RegisterInput!) {
  register(input: $input) { id username email dateJoined }
}
"""


def register(gql, **overrides):
    fields = {"username": "carol", "email": "carol@example.com", "password": PASSWORD, "passwordConfirm": PASSWORD}
    fields.update(overrides)
    return gql.execute(REGISTER, {"input": fields})


def field_errors(result):
    error = only_error(result)
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    return error["extensions"]["fieldErrors"]


@pytest.mark.django_db
def test_register_creates_an_account_without_logging_in(gql):
    result = register(gql)

    payload = result["data"]["register"]
    user = User.objects.get(username="carol")
    assert payload["username"] == "carol"
    assert payload["email"] == "carol@example.com"
    assert payload["id"] and payload["id"] != str(user.pk)
    assert user.check_password(PASSWORD)
    assert not LoginSession.objects.exists()
    assert AuditEvent.objects.filter(type="REGISTER", user=user).exists()


@pytest.mark.django_db
def test_registered_user_can_log_in(gql):
    register(gql)
    assert gql.login("carol")["user"]["username"] == "carol"


@pytest.mark.parametrize(
    ("overrides", "field", "fragment"),
    [
        ({"username": "not valid!"}, "username", "valid username"),
        ({"username": ""}, "username", "blank"),
        ({"username": "x" * 151}, "username", "at most 150"),
        ({"email": "not-an-email"}, "email", "valid email"),
        ({"email": ""}, "email", "required"),
        # A valid address (up to 320 characters) that the 254-character column cannot hold.
        ({"email": "carol@" + ".".join(["e" * 60] * 5) + ".com"}, "email", "at most 254"),
        ({"password": "short1!", "passwordConfirm": "short1!"}, "password", "too short"),
        ({"password": "password123", "passwordConfirm": "password123"}, "password", "too common"),
        ({"password": "8374629105", "passwordConfirm": "8374629105"}, "password", "entirely numeric"),
        ({"password": "carol-example", "passwordConfirm": "carol-example"}, "password", "too similar"),
        ({"password": "Ab1!" * 40, "passwordConfirm": "Ab1!" * 40}, "password", "too long"),
        ({"passwordConfirm": PASSWORD + "x"}, "passwordConfirm", "do not match"),
    ],
)
@pytest.mark.django_db
def test_each_invalid_field_is_reported_and_nothing_is_created(gql, overrides, field, fragment):
    errors = field_errors(register(gql, **overrides))

    assert list(errors) == [field]
    assert any(fragment in message for message in errors[field]), errors
    assert not User.objects.exists()


@pytest.mark.django_db
def test_all_failures_are_reported_together(gql):
    errors = field_errors(register(gql, username="bad name", email="nope", password="123", passwordConfirm="1"))
    assert set(errors) == {"username", "email", "password", "passwordConfirm"}


@pytest.mark.django_db
def test_duplicate_username_is_refused_ignoring_case(gql, make_user):
    make_user("Carol", email="first@example.com")
    errors = field_errors(register(gql, username="carol"))
    assert errors == {"username": ["A user with that username already exists."]}
    assert User.objects.count() == 1


@pytest.mark.django_db
def test_duplicate_email_in_another_case_is_refused(gql, make_user):
    make_user("dave", email="Carol@Example.com")
    errors = field_errors(register(gql, email="carol@EXAMPLE.COM"))
    assert errors == {"email": ["A user with that email already exists."]}
    assert User.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_the_database_refuses_emails_that_differ_only_in_case(make_user):
    from django.db import IntegrityError

    make_user("dave", email="Carol@Example.com")
    with pytest.raises(IntegrityError):
        User.objects.create_user(username="erin", email="carol@example.com", password=PASSWORD)
