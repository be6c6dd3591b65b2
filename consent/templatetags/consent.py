from __future__ import annotations

from typing import Any

from django import template
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from ..categories import CATEGORIES, OPTIONAL
from ..decisions import describe
from ..registry import get_registry
from ..state import get_state

register = template.Library()


@register.inclusion_tag("consent/_banner.html", takes_context=True)
def consent_banner(context: template.Context) -> dict[str, Any]:
    """Render the banner while the visitor has not decided (not on the settings page itself)."""
    request = context["request"]
    state = get_state(request)
    settings_path = reverse("consent:settings")
    return {
        "request": request,
        "csrf_token": context.get("csrf_token"),
        "show": state.needs_decision and request.path != settings_path,
        "state": state,
        "categories": get_registry().categories,
        "optional": OPTIONAL,
    }


@register.inclusion_tag("consent/_state.html", takes_context=True)
def consent_state_json(context: template.Context) -> dict[str, Any]:
    """Render the state the consent script starts from (the consent cookie itself is HttpOnly)."""
    state = get_state(context["request"])
    return {"state": {**describe(state), "api": reverse("consent:api")}}


@register.simple_tag(takes_context=True)
def consent_script(context: template.Context, src: str, categories: str, **attrs: Any) -> str:
    """Output a script that runs only once all its categories are consented.

    `{% consent_script "https://js.hs-scripts.com/1.js" "third-party persistent" async=True %}`
    Without consent it is inert (`type="text/plain"`: browsers neither fetch nor run it) and the
    consent script activates it as soon as the visitor consents, without a reload.
    """
    needed = categories.split()
    unknown = set(needed) - set(CATEGORIES)
    if not needed or unknown:
        raise template.TemplateSyntaxError(f"consent_script: unknown categories {sorted(unknown)}")
    granted = get_state(context["request"]).granted(*needed)
    flags = format_html_join("", " {}", ((name,) for name, value in attrs.items() if value is True))
    pairs = format_html_join(
        "",
        ' {}="{}"',
        ((name, value) for name, value in attrs.items() if value not in (True, False, None)),
    )
    return format_html(
        '<script{} data-consent="{}" src="{}"{}{}></script>',
        "" if granted else mark_safe(' type="text/plain"'),
        " ".join(needed),
        src,
        flags,
        pairs,
    )
