"""The `iportalis_consent` cookie: what a visitor decided, signed so that only we can write it."""

from __future__ import annotations

import datetime
import uuid
from dataclasses import dataclass
from typing import NamedTuple

from django.core import signing
from django.http import HttpRequest, HttpResponseBase

from policy.models import PUBLISHED, latest_material_number

from ..categories import CATEGORIES, NECESSARY, THIRD_PARTY, all_refused, normalise
from ..conf import conf

SALT = "iportalis.consent.cookie"
# A real cookie is about 170 bytes; anything much longer is not ours and is not worth verifying.
MAX_COOKIE_LENGTH = 1024


@dataclass(frozen=True)
class Consent:
    """A visitor's stored decision: `decided` is False when only a GPC signal has been recorded.

    `record_id` names the consent record this decision was written as, so that the receipt
    describes this browser's decision and never a later one made elsewhere under the same
    consent ID. Cookies set before it existed have none: still a consent, but no receipt.
    """

    consent_id: uuid.UUID
    choices: dict[str, bool]
    policy_version: int
    policy_language: str
    given_at: datetime.datetime
    decided: bool = True
    gpc_recorded: bool = False
    record_id: int | None = None

    def dumps(self) -> str:
        payload = {
            "id": self.consent_id.hex,
            "c": "".join("1" if self.choices[slug] else "0" for slug in CATEGORIES),
            "v": self.policy_version,
            "l": self.policy_language,
            "t": int(self.given_at.timestamp()),
            "d": int(self.decided),
            "g": int(self.gpc_recorded),
        }
        if self.record_id is not None:
            payload["r"] = self.record_id
        return signing.dumps(payload, salt=SALT, compress=False)

    @classmethod
    def loads(cls, value: str) -> Consent | None:
        """Return the consent in a cookie value, or None for anything forged, expired or garbled."""
        if not value or len(value) > MAX_COOKIE_LENGTH:
            return None
        try:
            payload = signing.loads(value, salt=SALT, max_age=conf.CONSENT_MAX_AGE)
            bits = payload["c"]
            if len(bits) != len(CATEGORIES) or set(bits) - {"0", "1"}:
                return None
            record_id = payload.get("r")
            if record_id is not None and (type(record_id) is not int or record_id < 1):
                return None
            return cls(
                consent_id=uuid.UUID(hex=payload["id"]),
                choices=normalise(dict(zip(CATEGORIES, (b == "1" for b in bits), strict=True))),
                policy_version=int(payload["v"]),
                policy_language=str(payload["l"]),
                given_at=datetime.datetime.fromtimestamp(int(payload["t"]), tz=datetime.UTC),
                decided=bool(payload["d"]),
                gpc_recorded=bool(payload["g"]),
                record_id=record_id,
            )
        # A valid signature means we wrote the payload, but a key may have rotated between
        # releases; whatever is wrong inside it, the visitor simply has not consented.
        except (
            signing.BadSignature,
            ValueError,
            TypeError,
            KeyError,
            AttributeError,
            OverflowError,  # a time beyond what datetime can hold
        ):
            return None

    def is_current(self) -> bool:
        """Return whether this decision still stands: made, on a version published here, and not
        older than a material change."""
        if not self.decided:
            return False
        # Signed by us, yet for a version this site never published (another deployment sharing
        # the key, a database restored from before it): we cannot show what was agreed to.
        if PUBLISHED.get().version(self.policy_language, self.policy_version) is None:
            return False
        latest = latest_material_number(self.policy_language)
        return latest is None or self.policy_version >= latest


class ConsentState(NamedTuple):
    """What a request may do: the stored consent (if any) and the choices in effect.

    A NamedTuple rather than a frozen dataclass: one is built per request, and it builds faster.
    """

    consent: Consent | None
    needs_decision: bool
    choices: dict[str, bool]
    gpc: bool

    def granted(self, *categories: str) -> bool:
        return all(self.choices.get(slug, False) for slug in categories)


def gpc_requested(request: HttpRequest) -> bool:
    # META, not request.headers: building that mapping costs more than this whole check.
    return str(request.META.get("HTTP_SEC_GPC", "")).strip() == "1"


def read_state(request: HttpRequest) -> ConsentState:
    """Return the consent state of the cookie the browser sent."""
    return state_for(request, Consent.loads(request.COOKIES.get(conf.CONSENT_COOKIE_NAME, "")))


def state_for(request: HttpRequest, consent: Consent | None) -> ConsentState:
    """Return the state a consent gives: nothing but necessary until a current decision, and
    no third-party with a GPC signal the consent has not seen.

    A consent that has seen the signal already refuses third-party, unless the visitor chose it
    since (that choice stands). One that has not may come from before the signal, or the
    signal's record could not be written (the rate limit, the database): recording the signal
    is best effort, honouring it is not.
    """
    current = consent is not None and consent.is_current()
    choices = dict(consent.choices) if consent is not None and current else all_refused()
    choices[NECESSARY] = True
    gpc = gpc_requested(request)
    if gpc and not (consent is not None and consent.gpc_recorded):
        choices[THIRD_PARTY] = False
    return ConsentState(consent, not current, choices, gpc)


def get_state(request: HttpRequest) -> ConsentState:
    """Return the consent in effect for the request: `request.consent`, read once per request.

    ConsentMiddleware sets `request.consent` on the way in, and a decision made in the view
    replaces it, so that the response is held to the new choices.
    """
    state: ConsentState | None = getattr(request, "consent", None)
    if state is None:
        state = read_state(request)
        request.consent = state  # type: ignore[attr-defined]
    return state


def store(response: HttpResponseBase, request: HttpRequest, consent: Consent) -> None:
    """Set the consent cookie: strictly necessary, so it is set whatever was chosen."""
    response.set_cookie(
        conf.CONSENT_COOKIE_NAME,
        consent.dumps(),
        max_age=conf.CONSENT_MAX_AGE,
        path="/",
        secure=request.is_secure(),
        httponly=True,
        samesite="Lax",
    )
