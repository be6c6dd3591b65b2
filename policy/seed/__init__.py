"""iPortalis's cookie policy of 25 July 2022, the text version 1 is published from."""

import datetime
from pathlib import Path
from typing import Any

from django.utils import timezone, translation

from policy.rendering import content_sha256, render_policy

SEED_MARKDOWN = Path(__file__).resolve().parent / "cookie-policy-2022-07-25.md"


def publish_seed_policy(policy_version_model: Any) -> None:
    """Publish the seed as English version 1 unless it exists (the model may be historical)."""
    if policy_version_model.objects.filter(language="en", number=1).exists():
        return
    body = SEED_MARKDOWN.read_text(encoding="utf-8")
    with translation.override("en"):
        rendered = render_policy(body)
    policy_version_model.objects.create(
        language="en",
        number=1,
        title="Cookie Policy",
        body=body,
        summary="The cookie policy as in force since 25 July 2022.",
        effective_date=datetime.date(2022, 7, 25),
        material=True,
        status="published",
        published_at=timezone.now(),
        rendered_html=rendered,
        content_sha256=content_sha256(rendered),
    )
