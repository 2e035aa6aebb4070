"""Authorization rules, declared on each field where it is read.

A rule looks at the viewer (and, for a field of an object, at that object) and returns a
Verdict. Rules compose as DRF's permissions do: `IsSelf() | IsStaff() | HasCodenames(VIEW_USER)`
allows whoever one of them allows, `&` needs both, `~` inverts. Each rule describes itself, so
the authorization matrix (`python manage.py authorization_matrix`, docs/authorization.md) is
printed from the rules and cannot drift from them.

One place, `refuse`, turns a refusal into the contract's error: no viewer is UNAUTHENTICATED
with the reason its credential was refused; an object the viewer may not see is NOT_FOUND;
anything else is FORBIDDEN with the missing codenames (the union of those of every alternative).

Every field has a declared rule (tests/test_authorization_coverage.py walks the schema): its
own, through protected_field / protected_mutation, or, for the fields of an object type, the
type's: `@inherit_visibility` says that whoever is given the object may read those fields.
Such fields keep Strawberry's fast path (no resolver wrapper, no per-item check). The
operator's codenames (settings.GRAPHQL_FIELD_CODENAMES) come on top: schema.codenames.
"""

from contextlib import aclosing
from dataclasses import dataclass, field
from inspect import isasyncgen

import strawberry
from django.conf import settings
from strawberry.permission import PermissionExtension

from accounts.authentication import Viewer
from accounts.exceptions import Forbidden, NotFound, Unauthenticated
from accounts.staff import is_staff


def viewer_of(info):
    return info.context.viewer_for(info)


def authenticated_user(info):
    """The viewer's user, or UNAUTHENTICATED with the reason its credential was refused."""
    return user_of_viewer(viewer_of(info))


def user_of_viewer(viewer):
    if not viewer.is_authenticated:
        raise Unauthenticated(viewer.rejection or Unauthenticated.MISSING_CREDENTIALS)
    return viewer.user


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    unauthenticated_reason: str | None = None  # no viewer: UNAUTHENTICATED with this reason
    hidden: bool = False  # the object does not exist for this viewer: NOT_FOUND
    required: frozenset = frozenset()  # FORBIDDEN: the codenames that would allow it
    message: str | None = None
    forbidden_reason: str | None = None  # FORBIDDEN: extensions.reason, when the refusal has one


ALLOWED = Verdict(True)


def refused(required=(), message=None, forbidden_reason=None):
    return Verdict(False, required=frozenset(required), message=message, forbidden_reason=forbidden_reason)


def refuse(verdict):
    """Raise the contract's error for a refusal; an allowed verdict passes."""
    if verdict.allowed:
        return
    if verdict.unauthenticated_reason:
        raise Unauthenticated(verdict.unauthenticated_reason)
    if verdict.hidden:
        raise NotFound()
    raise Forbidden(verdict.message, required=verdict.required, reason=verdict.forbidden_reason)


@dataclass(frozen=True)
class Access:
    """What a rule judges: who asks, for which object (a field's parent), with which arguments."""

    viewer: Viewer
    source: object = None
    arguments: dict = field(default_factory=dict)


class Rule:
    def verdict(self, access):
        raise NotImplementedError

    def describe(self):
        """The rule in a few words, for the authorization matrix."""
        raise NotImplementedError

    def leaves(self):
        yield self

    def __and__(self, other):
        return AllOf(self, other)

    def __or__(self, other):
        return AnyOf(self, other)

    def __invert__(self):
        return Not(self)


class AllOf(Rule):
    """Every part allows; the first refusal, in the order written, is the answer."""

    joiner = "; "

    def __init__(self, *parts):
        self.parts = [leaf for part in parts for leaf in (part.parts if type(part) is type(self) else [part])]

    def verdict(self, access):
        for part in self.parts:
            verdict = part.verdict(access)
            if not verdict.allowed:
                return verdict
        return ALLOWED

    def describe(self):
        return self.joiner.join(_described_within(part, self) for part in self.parts)

    def leaves(self):
        for part in self.parts:
            yield from part.leaves()


class AnyOf(AllOf):
    """One part allows. Refused by all: UNAUTHENTICATED without a viewer, NOT_FOUND when every
    part hides the object, else FORBIDDEN with every codename that would have allowed it."""

    joiner = " or "

    def verdict(self, access):
        refusals = []
        for part in self.parts:
            verdict = part.verdict(access)
            if verdict.allowed:
                return verdict
            refusals.append(verdict)
        for refusal in refusals:
            if refusal.unauthenticated_reason:
                return refusal
        if all(refusal.hidden for refusal in refusals):
            return refusals[0]
        required = frozenset().union(*(refusal.required for refusal in refusals))
        messages = [refusal.message for refusal in refusals if refusal.message]
        reasons = [refusal.forbidden_reason for refusal in refusals if refusal.forbidden_reason]
        return refused(required, messages[0] if messages else None, reasons[0] if reasons else None)


class Not(Rule):
    """Allows what its rule refuses. A rule refused for want of a viewer stays refused: a
    negation never lets an anonymous request through."""

    def __init__(self, rule):
        self.rule = rule

    def verdict(self, access):
        verdict = self.rule.verdict(access)
        if verdict.unauthenticated_reason:
            return verdict
        return refused() if verdict.allowed else ALLOWED

    def describe(self):
        return f"not ({self.rule.describe()})"

    def leaves(self):
        yield from self.rule.leaves()


def _described_within(part, composite):
    text = part.describe()
    return f"({text})" if isinstance(part, AllOf) and type(part) is not type(composite) else text


class AllowAny(Rule):
    def verdict(self, access):
        return ALLOWED

    def describe(self):
        return "anyone"


class ViewerRule(Rule):
    """A rule about an authenticated viewer; without one it answers UNAUTHENTICATED."""

    def verdict(self, access):
        viewer = access.viewer
        if not viewer.is_authenticated:
            return Verdict(False, unauthenticated_reason=viewer.rejection or Unauthenticated.MISSING_CREDENTIALS)
        return self.verdict_for(viewer.user, access)

    def verdict_for(self, user, access):
        raise NotImplementedError


class IsAuthenticated(ViewerRule):
    def verdict_for(self, user, access):
        return ALLOWED

    def describe(self):
        return "authenticated"


class IsStaff(ViewerRule):
    """Staff as accounts.staff defines it: is_staff, or a superuser."""

    def verdict_for(self, user, access):
        return ALLOWED if is_staff(user) else refused()

    def describe(self):
        return "staff"


class IsSelf(ViewerRule):
    """For fields of User: the user themself."""

    def verdict_for(self, user, access):
        return ALLOWED if access.source is not None and access.source.pk == user.pk else refused()

    def describe(self):
        return "the user themself"


class HasCodenames(ViewerRule):
    def __init__(self, *codenames):
        self.codenames = codenames

    def verdict_for(self, user, access):
        missing = [codename for codename in self.codenames if not user.has_perm(codename)]
        return refused(missing) if missing else ALLOWED

    def describe(self):
        return "holds " + ", ".join(self.codenames)


class ViewerMeets(ViewerRule):
    """A rule the domain decides, such as tasks.selectors.can_see_all_tasks, so that the schema
    and the domain ask the same function. `required` is what a refusal names."""

    def __init__(self, predicate, description, required=()):
        self.predicate = predicate
        self.description = description
        self.required = required

    def verdict_for(self, user, access):
        return ALLOWED if self.predicate(user) else refused(self.required)

    def describe(self):
        return self.description


class IsTokenLogin(ViewerRule):
    """Authenticated by a token from tokenAuth: an API key can never manage credentials."""

    def verdict_for(self, user, access):
        if access.viewer.api_key is not None:
            return refused(
                message="API keys cannot manage credentials; log in with tokenAuth and use the access token."
            )
        return ALLOWED

    def describe(self):
        return "a token login (not an API key)"


class HasVerifiedEmail(ViewerRule):
    """While REQUIRE_VERIFIED_EMAIL is on (read on each request), only a viewer whose address is
    verified; the refusal is FORBIDDEN with reason email_not_verified."""

    REASON = "email_not_verified"

    def verdict_for(self, user, access):
        if not settings.REQUIRE_VERIFIED_EMAIL or user.email_verified:
            return ALLOWED
        return refused(
            message="Verify your email address first: follow the link mailed to you, or ask for a new one "
            "with resendVerificationEmail.",
            forbidden_reason=self.REASON,
        )

    def describe(self):
        return "a verified email address when REQUIRE_VERIFIED_EMAIL is on"


class NoReadOnlyKey(Rule):
    """Part of every mutation (see protected_mutation): a read-only API key changes nothing."""

    def verdict(self, access):
        api_key = access.viewer.api_key
        if api_key is not None and api_key.read_only:
            return refused(message="This API key is read-only; mutations need a key that is not.")
        return ALLOWED

    def describe(self):
        return "not a read-only API key"


class ObjectRule(ViewerRule):
    """For a mutation on one object: `check(viewer_user, **arguments)` is the domain's rule.

    It raises NotFound when the viewer may not see the object and Forbidden (with the
    missing codenames) when they may see it but not do this; the domain function runs the same
    check again inside its transaction.
    """

    def __init__(self, check, description):
        self.check = check
        self.description = description

    def verdict_for(self, user, access):
        try:
            self.check(user, **access.arguments)
        except NotFound:
            return Verdict(False, hidden=True)
        except Forbidden as denied:
            return refused(denied.required, denied.message, denied.reason)
        return ALLOWED

    def describe(self):
        return self.description


class FieldRule(PermissionExtension):
    """The rule of one field: the declared rule, then the operator's codenames for the field.

    `shows` says which objects the field answers when its resolver narrows them (the viewer's
    own tasks...), for the authorization matrix.
    """

    def __init__(self, rule, shows=None):
        super().__init__(permissions=[], use_directives=False)
        self.rule = rule
        self.shows = shows

    def describe(self):
        """The rule as the matrix and the field's description say it."""
        text = self.rule.describe()
        return f"{text}; answers {self.shows}" if self.shows else text

    def verdict(self, viewer, source, info, arguments):
        from schema import codenames  # it reads the schema, which is built from these rules

        verdict = self.rule.verdict(Access(viewer, source, arguments))
        if verdict.allowed:
            verdict = codenames.configured_verdict(viewer, codenames.field_requirements(info))
        return verdict

    def check(self, source, info, arguments):
        refuse(self.verdict(viewer_of(info), source, info, arguments))

    def resolve(self, next_, source, info, **kwargs):
        from schema import codenames

        self.check(source, info, kwargs)
        if codenames.payload_viewer_to_check(info):
            return codenames.resolve_payload_for_its_viewer(lambda: next_(source, info, **kwargs), info)
        return next_(source, info, **kwargs)

    async def resolve_async(self, next_, source, info, **kwargs):
        self.check(source, info, kwargs)
        result = next_(source, info, **kwargs)
        return result if isasyncgen(result) else await result


class SubscriptionRule(FieldRule):
    """The rule of a subscription field: checked when the client subscribes, for the socket's
    viewer (a refusal is the socket's `error` message for that subscription, and nothing starts),
    then again for every event, for the viewer that event is resolved for (`event.viewer`, which
    each event the resolver yields carries): a refusal then ends the subscription with the error.

    Besides the field's own rule and operator codenames it checks, each time, the operator's
    codenames of the fields selected below it that have no rule of their own, which
    InheritedFieldCodenames checks once before a query or a mutation runs: a subscription's
    events come later, each for a viewer of its own.
    """

    def verdict(self, viewer, source, info, arguments):
        from schema import codenames

        verdict = super().verdict(viewer, source, info, arguments)
        return codenames.selection_verdict(info, viewer) if verdict.allowed else verdict

    async def resolve_async(self, next_, source, info, **kwargs):
        self.check(source, info, kwargs)
        return self._each_event_checked(next_(source, info, **kwargs), source, info, kwargs)

    async def _each_event_checked(self, events, source, info, arguments):
        async with aclosing(events):
            async for event in events:
                refuse(self.verdict(event.viewer, source, info, arguments))
                yield event


def _guarded(rules, shows, description, rule_class=FieldRule):
    """The field's rule, and its description followed by the rule as the rule says it (as
    Saleor's permission fields do), so what a client reads in the docs cannot drift from it."""
    rule = rule_class(rules[0] if len(rules) == 1 else AllOf(*rules), shows)
    described = f"Rule: {rule.describe()}."
    return {"extensions": [rule], "description": f"{description} {described}" if description else described}


def protected_field(*rules, shows=None, description=None, **field_kwargs):
    """A query or object field that runs only when every rule allows it."""
    return strawberry.field(**_guarded(rules, shows, description), **field_kwargs)


def protected_subscription(*rules, shows=None, description=None, **field_kwargs):
    """A subscription that starts only when every rule allows it, and whose every event is
    checked again for its own viewer (SubscriptionRule)."""
    return strawberry.subscription(**_guarded(rules, shows, description, SubscriptionRule), **field_kwargs)


def protected_mutation(*rules, description=None, **field_kwargs):
    """A mutation that runs only when every rule allows it, and never for a read-only API key."""
    return strawberry.mutation(**_guarded((*rules, NoReadOnlyKey()), None, description), **field_kwargs)


def inherit_visibility(cls):
    """Declares the rule of an object type's fields that have none of their own: whoever may see the object."""
    cls.__inherits_visibility__ = True
    return cls


def inherits_visibility(strawberry_type):
    return getattr(strawberry_type.origin, "__inherits_visibility__", False)


def viewer_is_payload_user(cls):
    """Declares a payload type (TokenPayload) inside which the viewer is the user it holds.

    The field that returns it must make that user the viewer (Context.act_as) as it resolves;
    every rule below it, the operator's codenames included, is then checked for that user.
    """
    cls.__viewer_is_payload_user__ = True
    return cls


def is_payload_viewer_type(strawberry_type):
    return getattr(getattr(strawberry_type, "origin", None), "__viewer_is_payload_user__", False)


def lists_objects_of(node_type):
    """Declares a connection or edge type as a wrapper of `node_type`: the field that returns the
    wrapper is the field that returns those objects (for type-level codenames, schema.codenames)."""

    def declare(cls):
        cls.__lists_objects_of__ = node_type
        return cls

    return declare


def field_rule(field):
    """The FieldRule of a Strawberry field, or None when the field has no rule of its own."""
    return next((extension for extension in field.extensions if isinstance(extension, FieldRule)), None)


def has_own_rule(field):
    return field_rule(field) is not None
