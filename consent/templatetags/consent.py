from __future__ import annotations

from typing import Any

from django import template
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import get_text_list
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from policy.models import PUBLISHED

from ..capture.decisions import describe
from ..capture.state import get_state
from ..categories import CATEGORIES, OPTIONAL
from ..conf import conf
from ..enforcement.registry import Registry, get_registry
from ..enforcement.rules import combination_key, every_allowance

register = template.Library()

# The words for each combination of switches, rendered once per registry, setting and language.
_allowances: dict[tuple[str, bool, str], tuple[Registry, list[tuple[list[str], str]]]] = {}


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
        "state_choices_off": {},  # the banner's switches start off
        # A visitor asked again can see what changed in the version they are asked about.
        "policy": PUBLISHED.get().current(get_language()),
    }


def _rendered_allowances(part: str) -> list[tuple[list[str], str]]:
    """Return each distinct wording of `part` ("summary" or "details") with the combinations
    (keys such as "1010") it describes."""
    registry = get_registry()
    downgrade = conf.CONSENT_DOWNGRADE_PERSISTENT
    key = (part, downgrade, get_language())
    remembered = _allowances.get(key)
    if remembered is not None and remembered[0] is registry:
        return remembered[1]
    wordings: dict[str, list[str]] = {}
    for allowance in every_allowance(registry, downgrade=downgrade):
        providers = get_text_list([name for name, _cookies in allowance.providers], _("and"))
        html = render_to_string(
            "consent/_allows.html",
            {"part": part, "allowance": allowance, "providers": providers},
        ).strip()
        wordings.setdefault(html, []).append(allowance.key)
    rendered = [(keys, html) for html, keys in wordings.items()]
    _allowances[key] = (registry, rendered)
    return rendered


@register.simple_tag
def consent_allows(part: str, choices: dict[str, bool]) -> SafeString:
    """Output, for every combination of switches, what it allows; only the current one shows.

    The consent script shows the wording of the switches' combination as they change. Without
    it, the wording of the choices the page was rendered with stays.
    """
    current = combination_key(choices)
    return format_html_join(
        "",
        '<div class="consent-allows-case" data-allows="{}"{}>{}</div>',
        (
            (" ".join(keys), "" if current in keys else mark_safe(" hidden"), mark_safe(html))
            for keys, html in _rendered_allowances(part)
        ),
    )


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
