"""The log's tables: leaves, tiles and checkpoints, append-only like the records; and the
witnesses whose cosignatures the site accepts. Imported by consent.models, so they belong to
the consent app."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class LogLeaf(models.Model):
    """One entry of the log: its index in the tree, its leaf hash, and what it is an entry of.

    `source` and `ref` name the row the entry encodes (a consent record, a policy publication).
    The leaf outlives that row: a retention purge removes a record, never its leaf.
    """

    index = models.BigIntegerField(_("leaf index"), primary_key=True)
    hash = models.BinaryField(_("leaf hash"))
    source = models.CharField(_("source"), max_length=20)
    ref = models.BigIntegerField(_("source row ID"))

    class Meta:
        verbose_name = _("log leaf")
        verbose_name_plural = _("log leaves")
        constraints = [
            models.UniqueConstraint(fields=["source", "ref"], name="consent_logleaf_source_ref"),
        ]

    def __str__(self) -> str:
        return f"leaf {self.index} ({self.source} {self.ref})"


class LogTile(models.Model):
    """A full C2SP tlog-tiles hash tile: 256 hashes, and the root they make (the entry of the
    tile above). Partial tiles are never stored: their hashes are the leaves' at level 0 and
    the full tiles' roots above, so storage grows with the tree, not with how often it grows."""

    level = models.SmallIntegerField(_("level"))
    index = models.BigIntegerField(_("index"))
    hashes = models.BinaryField(_("hashes"))
    root = models.BinaryField(_("root"))

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["level", "index"], name="consent_logtile_level_index"),
        ]
        verbose_name = _("log tile")

    def __str__(self) -> str:
        return f"tile {self.level}/{self.index}"


class LogCheckpoint(models.Model):
    """A signed checkpoint: the tree's size and root as a C2SP signed note. Every one is kept.

    `cursor` and `cursor_id` are the integrator's place: every record written by a transaction
    with a lower ID than `cursor`, or by that transaction with an ID up to `cursor_id`, is in the
    tree of this size (consent.log.integration).
    """

    size = models.BigIntegerField(_("tree size"), primary_key=True)
    root = models.BinaryField(_("root hash"))
    note = models.TextField(_("signed note"))
    created_at = models.DateTimeField(_("signed at"))
    cursor = models.BigIntegerField(_("integrated below transaction"))
    cursor_id = models.BigIntegerField(_("and in it up to record"), default=0)

    full_batch = False  # set on a checkpoint just made: its batch was full, more may be pending

    class Meta:
        verbose_name = _("log checkpoint")
        ordering = ["-size"]
        get_latest_by = "size"

    def __str__(self) -> str:
        return f"checkpoint of {self.size} entries"


class Witness(models.Model):
    """A witness whose cosignatures of our checkpoints the site accepts and serves."""

    name = models.CharField(_("name"), max_length=200, unique=True)
    key = models.CharField(
        _("verifier key"),
        max_length=300,
        unique=True,
        help_text=_("The witness's cosignature key: name+key ID+base64, of type 0x04."),
    )
    active = models.BooleanField(_("active"), default=True)
    added_at = models.DateTimeField(_("added at"), auto_now_add=True)

    class Meta:
        verbose_name = _("witness")
        ordering = ["name"]
        verbose_name_plural = _("witnesses")

    def __str__(self) -> str:
        return self.name


class Cosignature(models.Model):
    """A registered witness's verified cosignature of one checkpoint (C2SP tlog-cosignature)."""

    checkpoint = models.ForeignKey(
        LogCheckpoint, on_delete=models.PROTECT, related_name="cosignatures"
    )
    witness = models.ForeignKey(Witness, on_delete=models.PROTECT, related_name="cosignatures")
    line = models.CharField(_("signature line"), max_length=400)
    signed_at = models.DateTimeField(_("cosigned at"))
    received_at = models.DateTimeField(_("received at"), auto_now_add=True)

    class Meta:
        verbose_name = _("cosignature")
        constraints = [
            models.UniqueConstraint(
                fields=["checkpoint", "witness"], name="consent_cosignature_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.witness} on {self.checkpoint}"
