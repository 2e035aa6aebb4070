import pytest
from accounts.models import User
from schema.relay import page_of
from accounts.exceptions import ValidationFailed

@pytest.mark.django_db
def test_smoke():
    User.objects.bulk_create([User(username=f"u{i:03d}", email=f"u{i}@x.io") for i in range(55)])
    qs = User.objects.all()
    seen=[]; after=None
    while True:
        edges, info = page_of(qs, ("username",), first=10, after=after)
        seen += [r.username for _, r in edges]
        if not info.has_next_page: break
        after = info.end_cursor
    assert seen == sorted(seen) and len(seen)==55
    seen=[]; before=None
    while True:
        edges, info = page_of(qs, ("-username",), last=7, before=before)
        seen = [r.username for _, r in edges] + seen
        if not info.has_previous_page: break
        before = info.start_cursor
    assert seen == sorted(seen, reverse=True) and len(seen)==55
    for bad in ["x", "eyJ9", "", "!!!"]:
        with pytest.raises(ValidationFailed):
            page_of(qs, ("username",), after=bad)
    with pytest.raises(ValidationFailed):
        page_of(qs, ("username",), first=101)
