"""The mail queue (docs/recovery.md): stored with the request, retried while the mail server is down."""

import io
import logging
from datetime import UTC, datetime, timedelta
from unittest.mock import patch

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.db import transaction
from django.test import override_settings
from django_tasks_db.models import DBTaskResult

from accounts import mail_queue as queue
from accounts import mail_worker as worker
from accounts.checks import NO_TRANSPORT, check_at_startup
from tests.graphql_util import PASSWORD, GraphQLClient
from tests.mail_util import delivered, queued_jobs, run_mail_queue
from tests.smtp_server import SmtpServer, text_of

REQUEST = "mutation($email: String!) { requestPasswordReset(email: $email) }"
START = datetime(2026, 3, 2, 9, 0, 0, tzinfo=UTC)


@pytest.fixture
def smtp():
    server = SmtpServer()  # not started: the mail server is down
    with override_settings(
        EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
        EMAIL_HOST="127.0.0.1",
        EMAIL_PORT=server.port,
        EMAIL_USE_TLS=False,
        EMAIL_USE_SSL=False,
        EMAIL_TIMEOUT=5,
    ):
        yield server
    server.stop()


def jobs_by_status():
    return sorted((job.status, job.args_kwargs["args"][2]) for job in DBTaskResult.objects.all())


def test_while_the_mail_server_is_down_requests_succeed_and_the_mail_is_retried_until_it_is_back(alice, smtp, caplog):
    with time_machine.travel(START, tick=False) as clock:
        assert GraphQLClient().execute(REQUEST, {"email": "alice@example.com"}) == {
            "data": {"requestPasswordReset": True}
        }
        run_mail_queue()  # attempt 1: connection refused
        assert jobs_by_status() == [("FAILED", 1), ("READY", 2)]
        failed = DBTaskResult.objects.get(status="FAILED")
        assert failed.exception_class_path == "builtins.ConnectionRefusedError"
        retry = DBTaskResult.objects.get(status="READY")
        assert retry.run_after == START + timedelta(seconds=30)

        clock.shift(timedelta(seconds=29))
        run_mail_queue()  # not due yet
        assert jobs_by_status() == [("FAILED", 1), ("READY", 2)]

        clock.shift(timedelta(seconds=1))
        run_mail_queue()  # attempt 2: still down; the next waits twice as long
        assert jobs_by_status() == [("FAILED", 1), ("FAILED", 2), ("READY", 3)]
        assert DBTaskResult.objects.get(status="READY").run_after == START + timedelta(seconds=30 + 60)

        smtp.start()
        clock.shift(timedelta(seconds=60))
        run_mail_queue()
        assert jobs_by_status() == [("FAILED", 1), ("FAILED", 2), ("SUCCESSFUL", 3)]
    (message,) = smtp.wait_for("alice@example.com")
    assert "/reset?token=" in text_of(message)
    assert "Task id=" in caplog.text and "ConnectionRefusedError" in caplog.text


def test_the_delay_doubles_up_to_an_hour_and_the_worker_gives_up_after_about_three_days():
    delays = [queue.retry_delay(attempt) for attempt in range(1, queue.ATTEMPTS)]
    assert delays[:4] == [timedelta(seconds=seconds) for seconds in (30, 60, 120, 240)]
    assert max(delays) == delays[-1] == timedelta(hours=1)
    assert timedelta(days=2.5) < sum(delays, timedelta()) < timedelta(days=3.5)


def test_the_last_attempt_queues_no_other(alice, smtp):
    queue.deliver.enqueue("accounts.recovery.reset_mail", {"address": "alice@example.com"}, queue.ATTEMPTS)
    run_mail_queue()
    assert jobs_by_status() == [("FAILED", queue.ATTEMPTS)]


def test_a_job_queued_in_a_transaction_that_rolls_back_never_existed(alice):
    with pytest.raises(RuntimeError), transaction.atomic():
        queue.send_later(print, text="never")
        raise RuntimeError("the request failed after queueing")
    assert queued_jobs() == []


def test_a_job_left_running_by_a_dead_worker_runs_again_once_its_claim_is_old(alice):
    with time_machine.travel(START, tick=False) as clock:
        GraphQLClient().execute(REQUEST, {"email": "alice@example.com"})
        job = DBTaskResult.objects.get()
        job.claim("a worker that was killed")
        clock.shift(timedelta(seconds=300))
        run_mail_queue()
        assert delivered() == [] and DBTaskResult.objects.get().status == "RUNNING"  # it may still be sending

        clock.shift(timedelta(seconds=1))
        run_mail_queue()
    assert len(delivered("alice@example.com")) == 1
    job.refresh_from_db()
    assert job.status == "SUCCESSFUL"
    assert job.worker_ids[0] == "a worker that was killed" and len(job.worker_ids) == 2


@override_settings(EMAIL_TRANSPORT_CONFIGURED=False)
def test_without_a_transport_users_register_the_mail_waits_and_the_worker_will_not_start(db, caplog):
    account = {"username": "dora", "email": "dora@example.com", "password": PASSWORD, "passwordConfirm": PASSWORD}
    result = GraphQLClient().execute("mutation($i: RegisterInput!) { register(input: $i) { id } }", {"i": account})
    assert "errors" not in result
    with pytest.raises(CommandError, match="EMAIL_URL is not set"):
        call_command("worker", "--batch", stdout=io.StringIO())
    assert [job[0] for job in queued_jobs()] == ["accounts.email_addresses.verification_mail"]

    check_at_startup()  # what project.wsgi and project.asgi run as a server starts
    warnings = [record.getMessage() for record in caplog.records if record.name == "accounts.checks"]
    assert len(warnings) == 1 and "accounts.W003" in warnings[0] and NO_TRANSPORT in warnings[0]


def test_with_a_transport_nothing_is_said_at_startup(db, caplog):
    with override_settings(EMAIL_TRANSPORT_CONFIGURED=True):
        check_at_startup()
    assert [record for record in caplog.records if record.name == "accounts.checks"] == []


def test_the_worker_command_sends_what_is_due(alice, caplog):
    caplog.set_level(logging.INFO)
    GraphQLClient().execute(REQUEST, {"email": "alice@example.com"})
    out = io.StringIO()
    # Not the test process's signals; and not the connection that holds the test's transaction.
    with (
        override_settings(EMAIL_TRANSPORT_CONFIGURED=True),
        patch("django_tasks_db.management.commands.db_worker.Worker.configure_signals"),
        patch("django_tasks_db.management.commands.db_worker.close_old_connections"),
    ):
        call_command("worker", "--batch", stdout=out)
    assert "is sending queued mail" in out.getvalue()
    assert len(delivered("alice@example.com")) == 1
    assert worker.take_back_abandoned_jobs() == 0
