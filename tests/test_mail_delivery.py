"""Mail reaches a real SMTP server through `manage.py worker`, beside a real server (docs/recovery.md).

gunicorn serves the API and a worker process runs the queue, both on one SQLite file, with
EMAIL_URL naming an aiosmtpd server in this process, as a deployment would run them.
"""

import signal
import time

import pytest

from tests.live_server import GunicornServer
from tests.smtp_server import SmtpServer, text_of

pytestmark = pytest.mark.slow

PASSWORD = "a long enough passphrase"
NEW_PASSWORD = "another long passphrase"
REQUEST = "mutation($email: String!) { requestPasswordReset(email: $email) }"
RESET = "mutation($token: String!, $pw: String!) { resetPassword(token: $token, newPassword: $pw) }"
LOGIN = "mutation($u: String!, $p: String!) { tokenAuth(username: $u, password: $p) { access } }"
CLAIM_TIMEOUT = 2


@pytest.fixture(scope="module")
def smtp():
    server = SmtpServer().start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def server(tmp_path_factory, smtp):
    server = GunicornServer(
        tmp_path_factory.mktemp("mail"),
        EMAIL_URL=f"smtp://127.0.0.1:{smtp.port}",
        WORKER_CLAIM_TIMEOUT=str(CLAIM_TIMEOUT),
        EMAIL_TIMEOUT="5",
    )
    for username in ("alice", "bob"):
        server.create_user(username, PASSWORD, email=f"{username}@example.com")
    yield server.start()
    server.stop()


def stop(worker):
    worker.send_signal(signal.SIGTERM)
    assert worker.wait(timeout=15) == 0


def token_from(message):
    link = next(word for word in text_of(message).split() if "token=" in word)
    return link.split("token=", 1)[1]


def test_the_reset_mail_arrives_through_smtp_and_its_link_sets_the_password(server, smtp):
    worker = server.start_worker("--interval", "0.2")
    try:
        assert server.post(REQUEST, {"email": "alice@example.com"}) == {"data": {"requestPasswordReset": True}}
        (message,) = smtp.wait_for("alice@example.com")
    finally:
        stop(worker)
    assert message["Subject"] == "Reset your password"
    assert message.get_body(preferencelist=("html",)) is not None
    assert server.post(RESET, {"token": token_from(message), "pw": NEW_PASSWORD}) == {"data": {"resetPassword": True}}
    assert "errors" not in server.post(LOGIN, {"u": "alice", "p": NEW_PASSWORD})


def test_a_worker_killed_in_the_middle_of_a_send_leaves_the_mail_to_the_next_worker(server, smtp):
    smtp.hold()
    killed = server.start_worker("--interval", "0.2")
    try:
        # The request commits; the worker takes the job and is talking to the mail server when it dies.
        assert server.post(REQUEST, {"email": "bob@example.com"}) == {"data": {"requestPasswordReset": True}}
        assert smtp.waiting.wait(30), "the worker never started sending"
        killed.send_signal(signal.SIGKILL)
        assert killed.wait(timeout=15) == -signal.SIGKILL
    finally:
        smtp.release()
    time.sleep(0.5)
    assert smtp.messages_to("bob@example.com") == []

    restarted = server.start_worker("--interval", "0.2")
    try:
        (message,) = smtp.wait_for("bob@example.com", timeout=CLAIM_TIMEOUT + 30)
        time.sleep(1)
        assert smtp.messages_to("bob@example.com") == [message]  # sent once
    finally:
        stop(restarted)
    assert server.post(RESET, {"token": token_from(message), "pw": NEW_PASSWORD}) == {"data": {"resetPassword": True}}
