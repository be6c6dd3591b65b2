from __future__ import annotations

import base64
import datetime
import json
import logging
from typing import Any

from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseBase,
    HttpResponseNotAllowed,
    HttpResponseRedirect,
    JsonResponse,
)
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import (
    require_GET,
    require_http_methods,
    require_POST,
    require_safe,
)

from ..categories import NECESSARY, OPTIONAL
from ..conf import conf
from ..decorators import consent_exempt
from ..enforcement.registry import get_registry
from ..log import entries, merkle, note
from ..log import store as log_store
from ..log.integration import RECORD
from ..log.receipt import FORMAT as RECEIPT_FORMAT
from ..log.receipt import promise_text
from ..models import ConsentRecord, LogLeaf
from ..ratelimit import limit_decisions
from .decisions import NoPolicyError, decide, describe
from .forms import ApiDecisionForm, DecisionForm
from .state import Consent, get_state, store

GPC_LAST_UPDATE = "2026-11-25"

logger = logging.getLogger(__name__)


@never_cache
@require_GET
def cookie_settings(request: HttpRequest) -> HttpResponse:
    state = get_state(request)
    categories = get_registry().categories
    on = [slug for slug in OPTIONAL if state.choices[slug]] + [NECESSARY]
    return render(
        request,
        "consent/settings.html",
        {
            "state": state,
            "categories": categories,
            "on": on,
            "allowed": [category for category in categories if category.slug in on],
            "anything_allowed": any(state.choices[slug] for slug in OPTIONAL),
            "receipt_integrated": receipt_integrated(state.consent),
        },
    )


def too_many_decisions(request: HttpRequest, retry_after: int) -> HttpResponse:
    """Tell a visitor over CONSENT_RATE_LIMIT that their choice was not recorded."""
    return render(request, "consent/too_many.html", {"retry_after": retry_after}, status=429)


def api_too_many(request: HttpRequest, retry_after: int) -> JsonResponse:
    return api_error(
        429,
        _("Too many decisions from your address: try again in %(seconds)d seconds.")
        % {"seconds": retry_after},
    )


@never_cache
def decision_endpoint(request: HttpRequest) -> HttpResponseBase:
    """Take a decision by POST; a GET (a bookmark, a reload) gets a page that says where to go."""
    if request.method == "POST":
        return decide_form(request)
    if request.method not in ("GET", "HEAD"):
        return HttpResponseNotAllowed(["POST"])
    response = render(request, "consent/decide_by_post.html", status=405)
    response["Allow"] = "POST"
    return response


@require_POST
@limit_decisions(too_many_decisions)
def decide_form(request: HttpRequest) -> HttpResponseBase:
    """Take a decision from the banner or settings form, then go back to the page it came from."""
    form = DecisionForm(request.POST)
    if not form.is_valid():
        return render(request, "consent/bad_decision.html", {"form": form}, status=400)
    next_url = form.cleaned_data["next"] or reverse("consent:settings")
    try:
        consent, _record = decide(
            request,
            action=form.cleaned_data["action"],
            surface=form.cleaned_data["surface"],
            path=next_url,
            choices=form.chosen(),
        )
    except NoPolicyError:
        return no_policy()
    response = HttpResponseRedirect(next_url, status=303)
    store(response, request, consent)
    return response


@never_cache
@require_http_methods(["GET", "POST"])
@limit_decisions(api_too_many)
def api(request: HttpRequest) -> HttpResponseBase:
    """Read the visitor's consent (GET) or post a decision as JSON (POST, CSRF-protected)."""
    if request.method == "GET":
        return JsonResponse(describe(get_state(request)))
    if request.content_type != "application/json":
        return api_error(415, _("Send the decision as application/json."))
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return api_error(400, _("Content-Length is not a number."))
    # Read one byte past the limit: a body without an honest Content-Length is caught too.
    body = request.read(conf.CONSENT_MAX_BODY + 1)
    if max(length, len(body)) > conf.CONSENT_MAX_BODY:
        return api_error(
            413, _("The body is larger than %(max)d bytes.") % {"max": conf.CONSENT_MAX_BODY}
        )
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        return api_error(400, _("The body is not valid JSON."))
    if not isinstance(data, dict):
        return api_error(400, _("The body must be a JSON object."))
    form = ApiDecisionForm(data)
    if not form.is_valid():
        return api_error(400, form.problem())
    try:
        consent, record = decide(request, **form.cleaned_data)
    except NoPolicyError:
        return no_policy()
    response = JsonResponse({**describe(get_state(request)), "record": record.pk}, status=201)
    store(response, request, consent)
    return response


def api_error(status: int, message: str) -> JsonResponse:
    return JsonResponse({"error": message}, status=status)


def no_policy() -> HttpResponse:
    return HttpResponse(
        _("No cookie policy is published yet, so there is nothing to consent to."),
        status=503,
        content_type="text/plain; charset=utf-8",
    )


@never_cache
@require_GET
def receipt(request: HttpRequest) -> HttpResponse:
    """Download the receipt of the decision the visitor's cookie holds (docs/receipts.md).

    It describes that one record, looked up by its ID and the cookie's consent ID, so a cookie
    never fetches another consent's record, nor a later decision made in another browser. Once
    the record is in the log the receipt proves it with the log's public key alone; before, it
    carries the log's signed promise to include it.
    """
    consent = get_state(request).consent
    if consent is None:
        return not_found(_("There is no consent to give a receipt for."))
    if consent.record_id is None:
        return not_found(
            _(
                "Your choice was saved before receipts named the record of each decision, so "
                "there is no receipt of it. Make your choice again on the cookie settings page "
                "to get one."
            )
        )
    record = (
        ConsentRecord.objects.select_related("policy_version")
        .filter(pk=consent.record_id, consent_id=consent.consent_id)
        .first()
    )
    entry, log = b"", None
    if record is not None:
        entry = entries.encode(entries.record_entry(record))
        log = receipt_log(record.pk, entry, record.created_at)
    if record is None or log is None:
        return not_found(
            _("The record of your decision is no longer kept, so there is no receipt of it.")
        )
    content = {
        "format": RECEIPT_FORMAT,
        "site": request.get_host(),
        "issued_at": timezone.now().isoformat(),
        "summary": receipt_summary(record),
        "record": json.loads(entry),
        "log": log,
    }
    response = HttpResponse(
        json.dumps(content, indent=2, ensure_ascii=False),
        content_type="application/json; charset=utf-8",
    )
    filename = f"iportalis-consent-{consent.consent_id}-{record.pk}.json"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def receipt_log(
    record_id: int, entry: bytes, accepted_at: datetime.datetime
) -> dict[str, Any] | None:
    """Return the receipt's "log": the inclusion proof of the record's entry in the latest
    checkpoint, or the log's signed promise to include it. None if the entry no longer matches
    its leaf (its record's contents were purged, or altered)."""
    key = log_store.signer()
    encoded = base64.b64encode(entry).decode()
    leaf_hash = merkle.leaf_hash(entry)
    log: dict[str, Any] = {"origin": key.name, "key": str(key.verifier)}
    leaf = LogLeaf.objects.filter(source=RECORD, ref=record_id).first()
    # The leaf first: it commits with the checkpoint that covers it, so that one is there too.
    head = log_store.latest() if leaf is not None else None
    if leaf is None or head is None or leaf.index >= head.size:
        promise = promise_text(key.name, entries.utc_text(accepted_at), leaf_hash)
        return {
            **log,
            "integrated": False,
            "entry": encoded,
            "promise": {"note": note.sign_note(promise, key)},
        }
    if bytes(leaf.hash) != leaf_hash:
        logger.error("Record %s no longer matches its leaf %s in the log", record_id, leaf.index)
        return None
    proof = log_store.inclusion_proof(leaf.index, head.size)
    return {
        **log,
        "index": leaf.index,
        "entry": encoded,
        "checkpoint": log_store.cosigned_note(head),
        "inclusion_proof": [base64.b64encode(h).decode() for h in proof],
    }


def receipt_summary(record: ConsentRecord) -> str:
    allowed = [slug for slug, on in record.choices.items() if on]
    return _(
        "%(event)s on %(time)s UTC, under cookie policy version %(version)s (%(language)s). "
        "Allowed: %(allowed)s."
    ) % {
        "event": ConsentRecord.Event(record.event).label,
        "time": record.created_at.astimezone(datetime.UTC).strftime("%Y-%m-%d %H:%M:%S"),
        "version": record.policy_version.number,
        "language": record.policy_version.language,
        "allowed": ", ".join(allowed),
    }


def receipt_integrated(consent: Consent | None) -> bool | None:
    """Return whether the cookie's record is in the log yet; None if it names none."""
    if consent is None or consent.record_id is None:
        return None
    return LogLeaf.objects.filter(source=RECORD, ref=consent.record_id).exists()


def not_found(message: str) -> HttpResponse:
    return HttpResponse(message, status=404, content_type="text/plain; charset=utf-8")


@consent_exempt
@require_safe  # HEAD too: a checker may ask whether the resource is there without its body
def gpc_json(request: HttpRequest) -> JsonResponse:
    """The GPC support resource: https://privacycg.github.io/gpc-spec/#gpc-support-resource."""
    return JsonResponse({"gpc": True, "lastUpdate": GPC_LAST_UPDATE})
