"""Which addresses the server offers as ICE host candidates.

aioice gathers host candidates on every interface except loopback. A same-machine interview (tests, a
laptop demo with the browser on the same host) needs 127.0.0.1, and a server with several interfaces may
want to offer only one; ``MOCKLINE_RTC_HOST_ADDRESSES`` sets the list. aioice has no per-connection option
for this, so the module-level lookup it calls is wrapped once; an empty list keeps aioice's own behaviour.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import aioice.ice

__all__ = ["set_host_addresses"]

_override: list[str] = []
_original: Callable[..., list[str]] = aioice.ice.get_host_addresses


def _host_addresses(use_ipv4: bool, use_ipv6: bool) -> list[str]:
    if not _override:
        return _original(use_ipv4=use_ipv4, use_ipv6=use_ipv6)
    return [a for a in _override if (":" in a and use_ipv6) or (":" not in a and use_ipv4)]


def set_host_addresses(addresses: Sequence[str]) -> None:
    """Offer exactly these addresses as host candidates (empty: every non-loopback interface)."""
    _override[:] = list(addresses)
    aioice.ice.get_host_addresses = _host_addresses
