"""The admin for the log's witnesses and their cosignatures.

Registering a witness is what lets its cosignatures in (consent.log.views.cosignature); its
cosignatures themselves are append-only, so their admin only shows them.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import Count, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from ..log import note
from ..models import Cosignature, Witness
from .records import ReadOnlyMixin


class WitnessForm(forms.ModelForm[Witness]):
    class Meta:
        model = Witness
        fields = ["name", "key", "active"]

    def clean_key(self) -> str:
        try:
            verifier = note.parse_verifier(self.cleaned_data["key"])
        except note.NoteError as error:
            raise ValidationError(_("Not a verifier key: %(error)s") % {"error": error}) from None
        if verifier.key_type != note.COSIGNATURE_V1:
            raise ValidationError(
                _("This is a note signing key (type 0x01): a witness cosigns with a 0x04 key.")
            )
        # One spelling per key, so that the unique constraint sees a key entered twice.
        return str(verifier)


@admin.register(Witness)
class WitnessAdmin(admin.ModelAdmin[Witness]):
    """Witnesses: added here, deactivated rather than deleted once they have cosigned."""

    form = WitnessForm
    list_display = ["name", "active", "key_name", "added_at", "cosignature_count"]
    list_filter = ["active"]
    actions = ["activate", "deactivate"]

    def get_readonly_fields(self, request: HttpRequest, obj: Witness | None = None) -> list[str]:
        # Its cosignatures were verified with this key: another key is another witness.
        return ["key", "added_at"] if obj is not None else []

    @admin.display(description=_("key name"))
    def key_name(self, witness: Witness) -> str:
        return witness.key.split("+", 1)[0]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Witness]:
        return super().get_queryset(request).annotate(cosignature_count=Count("cosignatures"))

    @admin.display(description=_("cosignatures"), ordering="cosignature_count")
    def cosignature_count(self, witness: Witness) -> int:
        return int(witness.cosignature_count)  # type: ignore[attr-defined]

    @admin.action(description=_("Activate selected witnesses"), permissions=["change"])
    def activate(self, request: HttpRequest, queryset: QuerySet[Witness]) -> None:
        self._set_active(request, queryset, True)

    @admin.action(description=_("Deactivate selected witnesses"), permissions=["change"])
    def deactivate(self, request: HttpRequest, queryset: QuerySet[Witness]) -> None:
        self._set_active(request, queryset, False)

    def _set_active(self, request: HttpRequest, queryset: QuerySet[Witness], active: bool) -> None:
        count = queryset.update(active=active)
        message = (
            ngettext("%d witness activated.", "%d witnesses activated.", count)
            if active
            else ngettext("%d witness deactivated.", "%d witnesses deactivated.", count)
        )
        self.message_user(request, message % count, messages.SUCCESS)


@admin.register(Cosignature)
class CosignatureAdmin(ReadOnlyMixin, admin.ModelAdmin[Cosignature]):
    """Verified cosignatures, as witnesses sent them; only the cosignature endpoint adds any."""

    list_display = ["checkpoint_size", "witness", "signed_at", "received_at"]
    list_filter = ["witness"]
    list_select_related = ["checkpoint", "witness"]
    fields = ["checkpoint", "witness", "line", "signed_at", "received_at"]
    ordering = ["-checkpoint__size", "witness__name"]
    show_full_result_count = False

    @admin.display(description=_("tree size"), ordering="checkpoint__size")
    def checkpoint_size(self, cosignature: Cosignature) -> int:
        return int(cosignature.checkpoint_id)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Cosignature]:
        return super().get_queryset(request).select_related("checkpoint", "witness")
