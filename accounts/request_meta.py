"""Who is on the other end of a request, as far as the audit log and rate limits need to know.

Both values are stored in the audit log, so each is reduced to what every supported database can
hold: an address without an IPv6 zone id (PostgreSQL's inet refuses one), text without NUL.
"""

import ipaddress
from dataclasses import dataclass
from functools import lru_cache

from django.conf import settings

USER_AGENT_MAX_LENGTH = 512


@dataclass(frozen=True)
class RequestMeta:
    ip: str | None = None
    user_agent: str = ""

    @classmethod
    def from_request(cls, request):
        user_agent = request.META.get("HTTP_USER_AGENT", "").replace("\x00", "")
        return cls(ip=client_ip(request), user_agent=user_agent[:USER_AGENT_MAX_LENGTH])

    @property
    def client_key(self):
        """The client as counters count it: its address, or for IPv6 its /64, since one subscriber
        usually holds a whole /64."""
        try:
            address = ipaddress.ip_address(self.ip)
        except ValueError:
            # No REMOTE_ADDR (a Unix socket without a proxy): all such clients share one count.
            return str(self.ip)
        if address.version == 6:
            return str(ipaddress.ip_network(f"{address}/64", strict=False).network_address)
        return str(address)


def client_ip(request):
    """REMOTE_ADDR, unless TRUSTED_PROXY_COUNT proxies each appended the address they saw.

    Only the last N entries of X-Forwarded-For were written by our proxies; anything to
    their left came from the client and may be forged, so it is never believed.
    """
    # Some servers name a Unix socket in REMOTE_ADDR; the audit log stores addresses only.
    remote_addr = _plain_address(request.META.get("REMOTE_ADDR") or "")
    hops = settings.TRUSTED_PROXY_COUNT
    if hops <= 0:
        return remote_addr
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    if len(forwarded) < hops:
        return remote_addr
    return _plain_address(forwarded[-hops]) or remote_addr


# Every request asks for its address; parsing one costs more than looking it up.
@lru_cache(maxsize=4096)
def _plain_address(value):
    """`value` as an IP address without a zone id (which names an interface of the sender's own
    machine, not a host), or None when it is not an address."""
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return None
    if address.version == 6 and address.scope_id:
        address = ipaddress.IPv6Address(address.packed)
    return str(address)
