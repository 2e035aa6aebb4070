"""No password, token or key is ever written to a log line or an audit event (docs/security.md)."""

import logging

from django.test import override_settings

from accounts.models import AuditEvent
from tests.graphql_util import LOGIN, GraphQLClient
from tests.mail_util import delivered, run_mail_queue, token_in

PASSWORD = "first secret passphrase 1"
NEW_PASSWORD = "second secret passphrase 2"
REFRESH = "mutation ($refresh: String!) { refreshToken(refresh: $refresh) { access refresh } }"


@override_settings(LOGIN_RATE_LIMIT="4/m")  # changePassword is the fourth attempt; the last login is refused
def test_a_whole_account_lifecycle_leaves_no_secret_in_logs_or_audit_events(caplog):
    caplog.set_level(logging.DEBUG)
    client = GraphQLClient()
    account = {"username": "dora", "email": "dora@example.com", "password": PASSWORD, "passwordConfirm": PASSWORD}
    client.execute("mutation ($input: RegisterInput!) { register(input: $input) { id } }", {"input": account})
    client.execute(LOGIN, {"username": "dora", "password": PASSWORD + "x"})
    tokens = client.login("dora", PASSWORD)
    rotated = client.execute(REFRESH, {"refresh": tokens["refresh"]})["data"]["refreshToken"]
    client.execute(REFRESH, {"refresh": tokens["refresh"]})  # reuse: revokes the session
    fresh = client.login("dora", PASSWORD)
    changed = client.authenticate(fresh["access"]).execute(
        "mutation ($old: String!, $new: String!) { changePassword(oldPassword: $old, newPassword: $new) { refresh } }",
        {"old": PASSWORD, "new": NEW_PASSWORD},
    )["data"]["changePassword"]
    client.execute(LOGIN, {"username": "dora", "password": NEW_PASSWORD})  # rate limited by now
    client.authenticate(fresh["access"]).execute("{ me { id } }")  # revoked token
    client.authenticate(tokens["access"][:-3] + "abc").execute("{ me { id } }")  # tampered token
    client.execute("mutation ($r: String!) { revokeToken(refresh: $r) { revoked } }", {"r": changed["refresh"]})

    secrets = [PASSWORD, PASSWORD + "x", NEW_PASSWORD]
    for pair in (tokens, rotated, fresh, changed):
        for name in ("access", "refresh"):
            if name in pair:
                secrets += [pair[name], pair[name].split(".")[-1]]  # a whole token, and its signature
    audit_text = " ".join(
        str(value) for row in AuditEvent.objects.values_list("username", "ip", "user_agent") for value in row
    )
    assert caplog.records, "the flow above should have logged its audit events"
    assert AuditEvent.objects.filter(type=AuditEvent.Type.RATE_LIMITED).exists()
    for secret in secrets:
        assert secret not in caplog.text
        assert secret not in audit_text


def test_the_tokens_of_mailed_links_are_in_no_log_line_or_audit_event(caplog):
    caplog.set_level(logging.DEBUG)
    client = GraphQLClient()
    account = {"username": "erin", "email": "erin@example.com", "password": PASSWORD, "passwordConfirm": PASSWORD}
    client.execute("mutation ($input: RegisterInput!) { register(input: $input) { id } }", {"input": account})
    client.execute('mutation { requestPasswordReset(email: "erin@example.com") }')
    run_mail_queue()
    verification, reset = (token_in(message) for message in delivered("erin@example.com"))
    client.execute("mutation ($t: String!) { verifyEmail(token: $t) }", {"t": verification})
    client.execute("mutation ($t: String!) { verifyEmail(token: $t) }", {"t": verification})  # used: refused
    client.execute("mutation ($t: String!, $p: String!) { resetPassword(token: $t, newPassword: $p) }",
                   {"t": reset, "p": NEW_PASSWORD})  # fmt: skip

    audit_text = " ".join(
        str(value) for row in AuditEvent.objects.values_list("username", "ip", "user_agent") for value in row
    )
    assert AuditEvent.objects.filter(type=AuditEvent.Type.PASSWORD_RESET).exists()
    assert "accounts.mail_queue.deliver" in caplog.text
    for secret in (verification, reset, NEW_PASSWORD):
        assert secret not in caplog.text
        assert secret not in audit_text
