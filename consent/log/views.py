"""The log's public endpoints: its latest checkpoint, its hash tiles, its key, and witnesses'
cosignatures coming in.

They publish hashes and signatures only, never an entry, so anyone may read them: no consent,
no CSRF token, no cookie. Paths and formats are C2SP's (tlog-checkpoint, tlog-tiles,
tlog-cosignature), so that standard verifiers such as Go's sumdb/note and sumdb/tlog read them
as they are.
"""

from __future__ import annotations

import datetime
import functools

from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST, require_safe

from ..decorators import consent_exempt
from ..ratelimit import retry_after
from . import note, store, tiles
from .models import Cosignature, LogCheckpoint, Witness

TEXT = "text/plain; charset=utf-8"
# A new checkpoint comes about every second: a few seconds of caching spares a busy site the
# polling, and a monitor sees a checkpoint at most that much late.
CHECKPOINT_CACHE = "public, max-age=5"
# A full tile never changes: that is the point of an append-only tree.
FULL_TILE_CACHE = "public, max-age=31536000, immutable"
# A partial tile's hashes never change either, but clients move on to the full tile once there
# is one (C2SP tlog-tiles), so caches need not keep every width for good.
PARTIAL_TILE_CACHE = "public, max-age=60"
KEY_CACHE = "public, max-age=300"
# Witnesses count against a limit of their own: a witness must not use up a visitor's decisions.
COSIGNATURES = "consent.cosignatures"


def text(message: str, status: int = 200, cache: str = "no-store") -> HttpResponse:
    response = HttpResponse(f"{message}\n", status=status, content_type=TEXT)
    response["Cache-Control"] = cache
    return response


def public(response: HttpResponse) -> HttpResponse:
    # Anyone may verify the log, from a web page on another site too: nothing here depends on
    # who asks, and no credentials are ever involved.
    response["Access-Control-Allow-Origin"] = "*"
    return response


@consent_exempt
@require_safe
def checkpoint(request: HttpRequest) -> HttpResponse:
    """The latest checkpoint (C2SP tlog-checkpoint), with its witnesses' cosignatures."""
    latest = store.latest()
    if latest is None:
        return public(text("The log has no checkpoint yet: nothing was integrated.", 503))
    response = HttpResponse(store.cosigned_note(latest), content_type=TEXT)
    response["Cache-Control"] = CHECKPOINT_CACHE
    return public(response)


@consent_exempt
@require_safe
def tile(request: HttpRequest, path: str) -> HttpResponse:
    """A hash tile of the latest tree, at its C2SP tlog-tiles path `L/N[.p/W]`."""
    try:
        level, index, width = tiles.parse_tile_path(path)
        # One path per tile, as Go's tlog.ParseTilePath insists: no alias (such as digits of
        # another script, which a regular expression's \d takes) splits caches or fools them.
        if tiles.tile_path(level, index, width) != path:
            raise ValueError(f"the tile's path is {tiles.tile_path(level, index, width)}")
    except ValueError as error:
        return public(text(f"Not a tile path (L/N[.p/W], C2SP tlog-tiles): {error}", 400))
    latest = store.latest()
    size = latest.size if latest is not None else 0
    data = store.tile(level, index, width, size)
    if data is None:
        return public(text(f"The tree of {size} entries has no tile {path}.", 404))
    response = HttpResponse(data, content_type="application/octet-stream")
    response["Cache-Control"] = FULL_TILE_CACHE if width == tiles.WIDTH else PARTIAL_TILE_CACHE
    return public(response)


@consent_exempt
@require_safe
def key(request: HttpRequest) -> HttpResponse:
    """The log's note verifier key: `<origin>+<key ID>+<base64 key>`."""
    return public(text(str(store.verifier()), cache=KEY_CACHE))


class Refused(Exception):
    """A submitted cosignature the site does not keep: the status and the reason to answer."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@functools.lru_cache(maxsize=256)
def _witness_key(key: str) -> note.Verifier | None:
    try:
        verifier = note.parse_verifier(key)
    except note.NoteError:
        return None  # the admin validates keys; a bad one in the table matches nothing
    return verifier if verifier.key_type == note.COSIGNATURE_V1 else None


@csrf_exempt  # a machine API: the signatures authenticate it, not a browser session
@consent_exempt
@require_POST
def cosignature(request: HttpRequest) -> HttpResponse:
    """Keep registered witnesses' cosignatures of one of our checkpoints.

    The body is a checkpoint note the log signed plus the witnesses' signature lines (C2SP
    tlog-cosignature, key type 0x04). Every line must verify, or nothing is kept: a submission
    is one witness's word, taken whole or refused whole.
    """
    seconds = retry_after(request, COSIGNATURES)
    if seconds is not None:
        response = text(f"Too many submissions from your address: retry in {seconds} s.", 429)
        response["Retry-After"] = str(seconds)
        return response
    try:
        kept, repeated, size = _receive(request)
    except Refused as refused:
        return text(str(refused), refused.status)
    if not kept:
        return text(f"Already kept: {repeated} cosignature(s) of the checkpoint of size {size}.")
    return text(f"Kept {kept} cosignature(s) of the checkpoint of size {size}.", 201)


def _receive(request: HttpRequest) -> tuple[int, int, int]:
    """Verify a submission and store its new cosignatures; return how many were new, how many
    were kept already, and the checkpoint's size. Raise Refused, having written nothing."""
    if request.content_type != "text/plain":
        raise Refused(415, "Send the cosigned checkpoint note as text/plain.")
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        raise Refused(400, "Content-Length is not a number.") from None
    # One byte past the limit: a body without an honest Content-Length is caught too.
    body = request.read(note.MAX_NOTE + 1)
    if max(length, len(body)) > note.MAX_NOTE:
        raise Refused(413, f"A cosigned note is at most {note.MAX_NOTE} bytes.")
    try:
        submitted = body.decode("utf-8")
        note.split_note(submitted)
    except (UnicodeDecodeError, note.NoteError) as error:
        raise Refused(400, f"Not a signed note: {error}") from None
    try:
        body_text, others = note.open_note(submitted, store.verifier())
    except note.NoteError as error:
        raise Refused(403, f"Not a note this log signed: {error}") from None
    try:
        checkpoint = note.parse_checkpoint(body_text)
    except note.NoteError as error:
        raise Refused(400, f"Not a checkpoint: {error}") from None
    if checkpoint.origin != store.verifier().name:
        raise Refused(400, "Not a checkpoint of this log: its origin is another.")
    stored = LogCheckpoint.objects.filter(size=checkpoint.size).first()
    if stored is None:
        raise Refused(404, f"This log has no checkpoint of size {checkpoint.size}.")
    if bytes(stored.root) != checkpoint.root:
        # Signed with the log's key, yet not the tree the log keeps: worth a witness's alarm.
        raise Refused(409, f"The checkpoint of size {checkpoint.size} has another root here.")
    if not others:
        raise Refused(400, "The note carries no cosignature besides the log's signature.")
    witnesses = {}
    for witness in Witness.objects.filter(active=True):
        verifier = _witness_key(witness.key)
        if verifier is not None:
            witnesses[verifier.name, verifier.id] = witness, verifier
    verified: dict[int, Cosignature] = {}
    for signature in others:
        found = witnesses.get((signature.name, signature.id))
        if found is None:
            raise Refused(
                403, f"{signature.name} ({signature.id.hex()}) is no active registered witness."
            )
        witness, verifier = found
        try:
            timestamp = note.verify_cosignature(body_text, signature, verifier)
            signed_at = datetime.datetime.fromtimestamp(timestamp, tz=datetime.UTC)
        except note.NoteError as error:
            raise Refused(403, f"The cosignature of {signature.name} is refused: {error}") from None
        except (OverflowError, ValueError, OSError):
            raise Refused(400, f"The cosignature of {signature.name} has no usable time.") from None
        verified.setdefault(
            witness.pk,
            Cosignature(
                checkpoint=stored,
                witness=witness,
                line=signature.line().rstrip("\n"),
                signed_at=signed_at,
            ),
        )
    with transaction.atomic():
        known = set(
            Cosignature.objects.filter(checkpoint=stored, witness__in=verified).values_list(
                "witness_id", flat=True
            )
        )
        new = [c for pk, c in verified.items() if pk not in known]
        # A witness that sends the same checkpoint twice races only itself: its first
        # cosignature stays, a later one (another timestamp) is not kept.
        Cosignature.objects.bulk_create(new, ignore_conflicts=True)
    return len(new), len(known), stored.size
