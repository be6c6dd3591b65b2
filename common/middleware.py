"""Settle who is asking, and for which host, before anything acts on a request."""

from __future__ import annotations

import functools
import ipaddress
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any, NamedTuple

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.conf import settings
from django.http import HttpRequest, HttpResponseBase

FORWARDED_FOR = "HTTP_X_FORWARDED_FOR"
# In TRUSTED_PROXIES: believe whichever peer connects (a Unix socket's, which has no address,
# too), as gunicorn's forwarded_allow_ips = "*" does. Only where nothing but proxies can connect.
ANY_PEER = "*"

GetResponse = Callable[[HttpRequest], HttpResponseBase | Awaitable[HttpResponseBase]]
Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@functools.lru_cache(maxsize=4096)
def ip_of(text: str) -> Address | None:
    """Return the address a text names, an IPv4-mapped IPv6 address (`::ffff:192.0.2.1`, what a
    dual-stack socket reports for an IPv4 client) as the IPv4 address it is; None if none."""
    try:
        address = ipaddress.ip_address(text.strip())
    except ValueError:
        return None
    if address.version == 6 and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def network_of(entry: str) -> Network:
    """Return the network a TRUSTED_PROXIES entry names: `10.0.0.0/8`, `2001:db8::/32`, or one
    address; ValueError for anything else. An IPv4-mapped network counts as its IPv4 one."""
    network = ipaddress.ip_network(entry.strip(), strict=False)
    if network.version == 6 and network.prefixlen >= 96:
        mapped = network.network_address.ipv4_mapped
        if mapped is not None:
            return ipaddress.ip_network((mapped, network.prefixlen - 96))
    return network


def networks_of(entries: Iterable[str]) -> tuple[Network, ...]:
    """Return the networks a list of entries names, passing over an entry that names none: a
    typo must never widen a list of trusted or allowed addresses (its system check reports it)."""
    networks = []
    for entry in entries:
        try:
            networks.append(network_of(entry))
        except ValueError:
            continue
    return tuple(networks)


def within(address: Address | None, networks: tuple[Network, ...]) -> bool:
    """An address, and one in any of the networks."""
    return address is not None and any(address in network for network in networks)


class TrustedProxies(NamedTuple):
    """The peers whose X-Forwarded-For is believed: `any_peer`, or those in `networks`."""

    any_peer: bool
    networks: tuple[Network, ...]

    def include(self, address: Address | None) -> bool:
        return within(address, self.networks)


@functools.lru_cache(maxsize=8)
def trusted_proxies(entries: tuple[str, ...]) -> TrustedProxies:
    """Return the proxies TRUSTED_PROXIES names. An entry that names none trusts nothing
    (common.E001 reports it): a typo must never make a client's own header believed."""
    return TrustedProxies(ANY_PEER in (entry.strip() for entry in entries), networks_of(entries))


def configured_proxies() -> TrustedProxies:
    entries: Iterable[Any] = getattr(settings, "TRUSTED_PROXIES", ()) or ()
    return trusted_proxies(tuple(str(entry) for entry in entries))


def forwarded_client(meta: Mapping[str, Any], proxies: TrustedProxies) -> Address | None:
    """Return the client's address: REMOTE_ADDR, or behind trusted proxies the address that the
    nearest of them reports in X-Forwarded-For. None when REMOTE_ADDR is no address and no proxy
    names one (a Unix socket).

    The header is believed only when the peer is a trusted proxy. Each proxy appends the address
    it got the request from, so the header is read from the right: past every address that is
    itself a trusted proxy, the first one that is not is the client's. Everything left of it came
    from the client, who can write anything there: it is never read. An entry there that is no
    address (a proxy set up differently) leaves the nearest address known.
    """
    client = ip_of(str(meta.get("REMOTE_ADDR", "")))
    if not (proxies.any_peer or proxies.include(client)):
        return client
    for hop in reversed(str(meta.get(FORWARDED_FOR, "")).split(",")):
        address = ip_of(hop)
        if address is None:
            break
        client = address
        if not proxies.include(address):
            break
    return client


class BothWaysMiddleware:
    """The base of a hand-written middleware that runs under WSGI and ASGI alike.

    It keeps `get_response`, and `is_async`, whether that is a coroutine function; when it is,
    the middleware is marked as one, so Django awaits what `__call__` returns. Subclasses write
    `__call__`, reading `is_async` to choose their path.
    """

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: GetResponse) -> None:
        self.get_response = get_response
        self.is_async = iscoroutinefunction(get_response)
        if self.is_async:
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest) -> HttpResponseBase | Awaitable[HttpResponseBase]:
        raise NotImplementedError


class HandOnMiddleware(BothWaysMiddleware):
    """A middleware that acts on the request, then hands it on, under WSGI and ASGI alike.

    Subclasses write `arrive`. What `__call__` returns, a response or the coroutine of an async
    `get_response`, goes back to the caller, which awaits the latter: no thread, no extra await.
    """

    def __call__(self, request: HttpRequest) -> HttpResponseBase | Awaitable[HttpResponseBase]:
        self.arrive(request)
        return self.get_response(request)

    def arrive(self, request: HttpRequest) -> None:
        raise NotImplementedError


class ForwardedForMiddleware(HandOnMiddleware):
    """Set REMOTE_ADDR to the client's address: behind the proxies TRUSTED_PROXIES names, the one
    they report in X-Forwarded-For; and always as IPv4 for an IPv4 client (`::ffff:192.0.2.1`
    from a dual-stack socket becomes `192.0.2.1`, or every IPv4 client would share one IPv6 /64).

    Put it first in MIDDLEWARE: everything below then sees the client where it reads REMOTE_ADDR,
    among them the consent records' IP hash and the rate limit on writing them. With the default,
    no trusted proxy, the header is ignored, which is right when clients connect directly:
    believing X-Forwarded-For there would let any client choose its address, and so dodge the
    rate limit and forge the IP hash of its records. As gunicorn does with forwarded_allow_ips,
    the header counts only when the peer itself is a trusted proxy.
    """

    def arrive(self, request: HttpRequest) -> None:
        client = forwarded_client(request.META, configured_proxies())
        if client is not None:
            request.META["REMOTE_ADDR"] = str(client)


class AllowedHostMiddleware(HandOnMiddleware):
    """Refuse a request for a host not in ALLOWED_HOSTS (400) before anything acts on it.

    Django checks the Host header only where something asks for it (CommonMiddleware, CSRF), and
    what runs above those would otherwise act first: the consent middleware would write a GPC
    record and set a consent cookie for a request that ends in a 400. Put it above every
    middleware that writes: right after SecurityMiddleware, whose headers the 400 still gets.
    """

    def arrive(self, request: HttpRequest) -> None:
        # Raises DisallowedHost, which Django answers with its 400 (and logs as a security event).
        request.get_host()
