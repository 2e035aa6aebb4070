"""Who is on the other end of a request, as far as the audit log and rate limits need to know."""

import ipaddress
from dataclasses import dataclass

from django.conf import settings


@dataclass(frozen=True)
class RequestMeta:
    ip: str | None = None
    user_agent: str = ""

    @classmethod
    def from_request(cls, request):
        return cls(ip=client_ip(request), user_agent=request.META.get("HTTP_USER_AGENT", "")[:512])

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
    remote_addr = request.META.get("REMOTE_ADDR") or None
    if remote_addr is not None and not _is_ip_address(remote_addr):
        remote_addr = None  # some servers name a Unix socket there; the audit log stores addresses only
    hops = settings.TRUSTED_PROXY_COUNT
    if hops <= 0:
        return remote_addr
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    if len(forwarded) < hops or not _is_ip_address(forwarded[-hops]):
        return remote_addr
    return forwarded[-hops]


def _is_ip_address(value):
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True
