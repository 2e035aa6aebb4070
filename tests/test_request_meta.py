"""What the audit log stores about the client: only values every supported database can hold.

PostgreSQL's inet column refuses an IPv6 zone id ("fe80::1%eth0") and its text columns refuse
NUL, while Python's ipaddress module and HTTP headers allow both; each would turn every audited
mutation from such a client into a server error.
"""

import pytest
from django.test import override_settings

from accounts.models import AuditEvent
from tests.graphql_util import LOGIN, PASSWORD, error_codes


def failed_login(gql, **client):
    return gql.execute(LOGIN, {"username": "alice", "password": "wrong " + PASSWORD}, **client)


# Django's field drops a zone id itself, but only from strings of at most 39 characters (the
# longest IPv6 address); longer ones reach the database as they are.
ADDRESSES_WITH_ZONE_IDS = ["fe80::1%eth0", "fe80:0000:0000:0000:0000:0000:0000:0001%eth0", "fe80::1%" + "z" * 40]


@pytest.mark.parametrize("address", ADDRESSES_WITH_ZONE_IDS)
@pytest.mark.parametrize(
    ("client", "trusted_proxies"),
    [
        (lambda address: {"REMOTE_ADDR": "10.0.0.1", "HTTP_X_FORWARDED_FOR": address}, 1),
        (lambda address: {"REMOTE_ADDR": address}, 0),
    ],
    ids=["X-Forwarded-For", "REMOTE_ADDR"],
)
def test_an_ipv6_zone_id_is_dropped(gql, alice, address, client, trusted_proxies):
    with override_settings(TRUSTED_PROXY_COUNT=trusted_proxies):
        assert error_codes(failed_login(gql, **client(address))) == ["INVALID_CREDENTIALS"]
    assert AuditEvent.objects.get(type="LOGIN_FAILURE").ip == "fe80::1"


def test_nul_characters_are_dropped_from_the_user_agent(gql, alice):
    assert error_codes(failed_login(gql, HTTP_USER_AGENT="Agent\x00/1.0")) == ["INVALID_CREDENTIALS"]
    assert AuditEvent.objects.get(type="LOGIN_FAILURE").user_agent == "Agent/1.0"
