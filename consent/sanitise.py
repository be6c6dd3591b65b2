"""What is stored of a visitor and of the text a request carries: a keyed hash of the IP address,
the user agent shortened to major versions, a path without its query, and text PostgreSQL can
store. Used by the records, the rate limit and the count of unknown cookies."""

from __future__ import annotations

import functools
import hashlib
import hmac
import re

from .conf import conf

USER_AGENT_LENGTH = 200
PATH_LENGTH = 500
_MINOR_VERSIONS = re.compile(r"(\d+)(?:\.\d+)+")
# PostgreSQL text holds neither NUL nor a lone surrogate, and a URL (%00), a header or JSON
# ("\u0000", "\ud800") can carry both.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def ip_hmac(ip: str) -> str:
    """Return a keyed hash of an IP address: it links one visitor's records but reveals no IP."""
    key = hashlib.sha256(b"iportalis.consent.ip:" + conf.CONSENT_IP_KEY.encode()).digest()
    return hmac.new(key, ip.encode(), hashlib.sha256).hexdigest()


@functools.lru_cache(maxsize=1024)  # a browser sends the same one with every decision
def shorten_user_agent(user_agent: str) -> str:
    """Keep major versions only (`Chrome/156`, not `Chrome/156.0.8078.73`), at most 200 chars."""
    return storable(_MINOR_VERSIONS.sub(r"\1", user_agent))[:USER_AGENT_LENGTH]


def clean_path(path: str) -> str:
    return storable(path.split("?", 1)[0].split("#", 1)[0][:PATH_LENGTH]) or "/"


def is_storable(text: str) -> bool:
    return _UNSTORABLE.search(text) is None


def storable(text: str) -> str:
    """Return the text with each character PostgreSQL cannot store replaced by U+FFFD."""
    return _UNSTORABLE.sub("\ufffd", text)
