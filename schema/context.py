from functools import cached_property

from strawberry.django.context import StrawberryDjangoContext

from accounts import budget
from accounts.authentication import Viewer, authenticate
from accounts.request_meta import RequestMeta


class Context(StrawberryDjangoContext):
    """Per-request state; the viewer is resolved on first use and only once."""

    # The budget charged for the request's operation (schema.budget.charge), for rateLimit and the
    # X-RateLimit-* headers; None until it is charged.
    rate_limit = None
    # The hash an APQ registration is stored under once its document validates (schema.persisted).
    register_document_as = None

    def budget_holder(self):
        """Whose budget the request spends: the viewer's credential named it, even if a field ended that session."""
        return budget.holder(self.actor, self.meta)

    @cached_property
    def viewer(self):
        headers = self.request.headers
        return authenticate(headers.get("Authorization"), headers.get("X-API-Key"), self.meta.ip)

    def forget_viewer(self):
        """Sessions were just revoked: fields after this one authenticate again, so a later
        mutation in the same document cannot run on a session that has ended."""
        viewer = self.__dict__.pop("viewer", None)
        if viewer is not None:
            self.__dict__.setdefault("actor", viewer)

    @cached_property
    def actor(self):
        """Who made the request, for the audit log: the viewer its credential named, even after
        a field of the document ended that session (forget_viewer)."""
        return self.viewer

    @cached_property
    def meta(self):
        return RequestMeta.from_request(self.request)

    @cached_property
    def _viewer_overrides(self):
        return {}

    def act_as(self, info, user, session_id):
        """Inside the result of this field (a login's TokenPayload) `user` is the viewer."""
        self._viewer_overrides[tuple(info.path.as_list())] = Viewer(user=user, session_id=session_id)

    def viewer_for(self, info):
        if self._viewer_overrides:
            path = info.path
            while path is not None:
                override = self._viewer_overrides.get(tuple(path.as_list()))
                if override is not None:
                    return override
                path = path.prev
        return self.viewer
