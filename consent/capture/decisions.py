"""Turn a visitor's decision into a record and a consent cookie, from any surface."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping

from django.db import DatabaseError
from django.http import HttpRequest
from django.utils import translation
from django.utils.translation import get_language

from ops.metrics import DECISIONS
from policy.models import PUBLISHED, PolicyVersion

from ..categories import OPTIONAL, THIRD_PARTY, all_accepted, all_refused, normalise
from ..log.records import append_record
from ..models import ConsentRecord
from ..ratelimit import GPC_SIGNALS, retry_after
from .state import Consent, ConsentState, get_state, gpc_requested, state_for

logger = logging.getLogger(__name__)

Event = ConsentRecord.Event
ACTIONS = (Event.ACCEPT_ALL, Event.REJECT_ALL, Event.CUSTOM, Event.WITHDRAW)


class NoPolicyError(Exception):
    """No policy version is published, so there is nothing a visitor could consent to."""


def current_policy() -> PolicyVersion:
    policy = PUBLISHED.get().current(get_language() or "en")
    if policy is None:
        raise NoPolicyError
    return policy


def decide(
    request: HttpRequest,
    *,
    action: str,
    surface: str,
    path: str,
    choices: Mapping[str, bool] | None = None,
) -> tuple[Consent, ConsentRecord]:
    """Record a decision and return the consent to store in the visitor's cookie."""
    if action == Event.ACCEPT_ALL:
        chosen = all_accepted()
    elif action in (Event.REJECT_ALL, Event.WITHDRAW):
        chosen = all_refused()
    else:
        chosen = normalise(choices or {})
    state = get_state(request)
    prior = state.consent
    event = action
    if prior is not None and prior.decided and not prior.is_current():
        # Asked again because the policy changed materially: the values say what was chosen.
        event = Event.RECONSENT
    return _append(
        request,
        event=event,
        surface=surface,
        choices=chosen,
        path=path,
        decided=True,
        # A choice made while sending the signal is made after it (the banner says that GPC
        # keeps third-party off), and its record notes the signal: it stands, even when the
        # signal's own record could not be written.
        gpc_recorded=state.gpc or (prior is not None and prior.gpc_recorded),
    )


def gpc_due(request: HttpRequest) -> bool:
    """Return whether the request carries a GPC signal not yet recorded for this visitor."""
    state = get_state(request)
    return state.gpc and (state.consent is None or not state.consent.gpc_recorded)


def record_gpc(request: HttpRequest) -> Consent | None:
    """Record a Global Privacy Control signal the first time a visitor sends it.

    Third-party is refused from now on, unless the visitor explicitly chooses otherwise later
    (their next decision is recorded after this one, so it wins). Return the consent to store, or
    None when nothing is due, the client's address is over its limit, or the database cannot take
    the record: the page still renders, and `state_for` still refuses third-party for every
    request that carries the signal.
    """
    if not gpc_due(request):
        return None
    # A browser that keeps no cookies is due a record on every page it loads.
    if retry_after(request, GPC_SIGNALS) is not None:
        return None
    state = get_state(request)
    # The middleware runs before LocaleMiddleware: pick the language it is about to pick.
    language = translation.get_language_from_request(request)
    try:
        with translation.override(language):
            consent, _record = _append(
                request,
                event=Event.GPC,
                surface=ConsentRecord.Surface.GPC,
                choices={**state.choices, THIRD_PARTY: False},
                path=request.path,
                decided=not state.needs_decision,
                gpc_recorded=True,
            )
    except (DatabaseError, NoPolicyError):
        logger.warning("Could not record a Global Privacy Control signal", exc_info=True)
        return None
    return consent


def _append(
    request: HttpRequest,
    *,
    event: str,
    surface: str,
    choices: Mapping[str, bool],
    path: str,
    decided: bool,
    gpc_recorded: bool,
) -> tuple[Consent, ConsentRecord]:
    """Append the record under the visitor's consent ID (a new one on their first decision),
    and make the rest of this request see the new consent as if the browser had sent it.

    The consent names its record, so the cookie's receipt is of this decision (GPC's too)."""
    prior = get_state(request).consent
    consent_id = prior.consent_id if prior is not None else uuid.uuid4()
    policy = current_policy()
    record = append_record(
        consent_id=consent_id,
        event=event,
        surface=surface,
        choices=choices,
        policy=policy,
        path=path,
        gpc=gpc_requested(request),
        language=get_language() or "",
        ip=request.META.get("REMOTE_ADDR", ""),
        # META, not request.headers: building that mapping costs more than this whole record.
        user_agent=request.META.get("HTTP_USER_AGENT", ""),
    )
    DECISIONS.labels(event, surface).inc()
    consent = Consent(
        consent_id=consent_id,
        choices=normalise(choices),
        policy_version=policy.number or 0,
        policy_language=policy.language,
        given_at=record.created_at,
        decided=decided,
        gpc_recorded=gpc_recorded,
        record_id=record.pk,
    )
    request.consent = state_for(request, consent)  # type: ignore[attr-defined]
    return consent, record


def describe(state: ConsentState) -> dict[str, object]:
    """Return the consent state as the JSON API and the banner script see it."""
    consent = state.consent
    return {
        "consent_id": str(consent.consent_id) if consent else None,
        "given_at": consent.given_at.isoformat() if consent else None,
        "decided": bool(consent and consent.decided),
        "needs_decision": state.needs_decision,
        "policy": (
            {"version": consent.policy_version, "language": consent.policy_language}
            if consent
            else None
        ),
        "choices": state.choices,
        "gpc": state.gpc,
        "optional": list(OPTIONAL),
    }
