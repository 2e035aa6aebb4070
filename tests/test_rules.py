"""Rules compose with &, | and ~, decide with verdicts, and one place turns a refusal into the contract's error."""

from types import SimpleNamespace

import pytest

from accounts.authentication import ANONYMOUS, Viewer
from accounts.codenames import VIEW_USER
from accounts.exceptions import Forbidden, NotFound, Unauthenticated
from schema.errors import from_domain_error
from schema.permissions import (
    Access,
    AllowAny,
    HasCodenames,
    IsAuthenticated,
    IsSelf,
    IsStaff,
    ObjectRule,
    Verdict,
    refuse,
)
from tasks.codenames import CHANGE_TASK, VIEW_TASK


def user(pk=1, staff=False, superuser=False, codenames=()):
    return SimpleNamespace(
        pk=pk,
        is_active=True,
        is_staff=staff,
        is_superuser=superuser,
        has_perm=lambda codename: superuser or codename in codenames,
    )


def verdict(rule, viewer_user=None, source=None, **arguments):
    viewer = Viewer(user=viewer_user) if viewer_user is not None else ANONYMOUS
    return rule.verdict(Access(viewer, source, arguments))


def test_or_allows_when_one_part_allows():
    rule = IsSelf() | IsStaff() | HasCodenames(VIEW_USER)
    assert verdict(rule, user(pk=1), source=user(pk=1)).allowed
    assert verdict(rule, user(pk=2, staff=True), source=user(pk=1)).allowed
    assert verdict(rule, user(pk=2, codenames={VIEW_USER}), source=user(pk=1)).allowed


def test_or_refused_by_all_names_every_codename_that_would_allow():
    rule = HasCodenames(VIEW_TASK) | IsStaff() | HasCodenames(CHANGE_TASK)
    assert verdict(rule, user()) == Verdict(False, required=frozenset({VIEW_TASK, CHANGE_TASK}))


def test_and_answers_with_the_first_refusal():
    rule = HasCodenames("a.one") & HasCodenames("b.two")
    assert verdict(rule, user()).required == {"a.one"}
    assert verdict(rule, user(codenames={"a.one"})).required == {"b.two"}
    assert verdict(rule, user(codenames={"a.one", "b.two"})).allowed


def test_without_a_viewer_every_composition_is_unauthenticated():
    for rule in (IsStaff() | AllowAny() & IsAuthenticated(), ~IsStaff(), IsSelf() | IsStaff()):
        with pytest.raises(Unauthenticated):
            refuse(verdict(rule))


def test_not_inverts_for_a_viewer():
    assert verdict(~IsStaff(), user()).allowed
    assert not verdict(~IsStaff(), user(staff=True)).allowed


def test_a_superuser_counts_as_staff():
    assert verdict(IsStaff(), user(superuser=True)).allowed


def test_an_object_rule_hides_what_the_viewer_may_not_see():
    def hidden(viewer_user, id):
        raise NotFound()

    with pytest.raises(NotFound):
        refuse(verdict(ObjectRule(hidden, "never"), user(), id=1))
    with pytest.raises(Forbidden) as refused:
        refuse(verdict(ObjectRule(hidden, "never") | HasCodenames("x.y"), user(), id=1))
    assert from_domain_error(refused.value).extensions == {"code": "FORBIDDEN", "required": ["x.y"]}


def test_descriptions_read_like_the_rule():
    assert (IsSelf() | IsStaff() | HasCodenames(VIEW_USER)).describe() == (
        "the user themself or staff or holds accounts.view_user"
    )
    assert ((IsSelf() | IsStaff()) & HasCodenames("x.y")).describe() == "(the user themself or staff); holds x.y"
    assert (~IsStaff()).describe() == "not (staff)"


def test_a_field_describes_its_rule_to_clients():
    from schema.schema import schema

    email = schema._schema.type_map["User"].fields["email"]
    assert email.description == "Email address. Rule: the user themself or staff or holds accounts.view_user."
    update_task = schema._schema.type_map["Mutation"].fields["updateTask"]
    assert update_task.description.endswith(
        "Rule: authenticated; a verified email address when REQUIRE_VERIFIED_EMAIL is on; the task's owner or "
        "holds tasks.change_task (NOT_FOUND to whoever may not see it); not a read-only API key."
    )
