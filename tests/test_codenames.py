"""Every codename the code names is a permission Django has: a misspelt one would never be held
by anyone, and would close its field silently to all but superusers."""

import pytest
from django.contrib.auth.models import Permission

from accounts import codenames as account_codenames
from tasks import codenames as task_codenames


def named_codenames(module):
    return {name: value for name, value in vars(module).items() if name.isupper()}


@pytest.mark.django_db
@pytest.mark.parametrize("module", [account_codenames, task_codenames], ids=lambda module: module.__name__)
def test_each_codename_the_code_names_is_a_permission(module):
    app_label = module.__name__.partition(".")[0]
    permissions = Permission.objects.filter(content_type__app_label=app_label)
    existing = {f"{app_label}.{codename}" for codename in permissions.values_list("codename", flat=True)}
    named = named_codenames(module)
    assert named and set(named.values()) <= existing, set(named.values()) - existing
