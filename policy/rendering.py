"""Turn an admin's Markdown into the sanitised HTML a policy version freezes, and diff versions."""

from __future__ import annotations

import difflib
import hashlib
import html
from dataclasses import dataclass

import markdown
import nh3
from django.template.loader import render_to_string
from django.utils.module_loading import import_string

from .conf import conf

# A line of its own in the Markdown body marks where the table of cookies in use goes.
COOKIE_TABLE_MARKER = "[[cookie-table]]"

MARKDOWN_EXTENSIONS = ["extra", "sane_lists", "toc"]

# Ammonia's defaults, less what a policy never needs and what could load from elsewhere, plus the
# heading ids the toc extension writes so that sections can be linked to.
ALLOWED_TAGS = nh3.ALLOWED_TAGS - {"img", "map", "area"}
ALLOWED_ATTRIBUTES = {
    **nh3.ALLOWED_ATTRIBUTES,
    **{tag: {"id"} for tag in ("h1", "h2", "h3", "h4", "h5", "h6")},
}


def sanitise(untrusted_html: str) -> str:
    """Return the HTML with scripts, event handlers, styles and unsafe URLs removed.

    Admins are trusted, but pasted content is not: a `<script>` or `onclick` copied from elsewhere
    must never reach visitors.
    """
    return nh3.clean(
        untrusted_html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer",
    )


def render_markdown(text: str) -> str:
    return sanitise(markdown.markdown(text, extensions=MARKDOWN_EXTENSIONS))


def render_policy(body: str) -> str:
    """Return the complete HTML of a policy body, with the cookie table in its marked place."""
    rendered = render_markdown(body)
    marker = f"<p>{COOKIE_TABLE_MARKER}</p>"
    if marker in rendered:
        rendered = rendered.replace(marker, cookie_table_html(), 1)
    return rendered


def cookie_table_html() -> str:
    if conf.POLICY_COOKIE_TABLE:
        return str(import_string(conf.POLICY_COOKIE_TABLE)())
    return render_to_string("policy/_cookie_table_placeholder.html").strip()


def content_sha256(rendered_html: str) -> str:
    return hashlib.sha256(rendered_html.encode()).hexdigest()


def text_lines(rendered_html: str) -> list[str]:
    """Return the readable text of rendered HTML, one non-blank line per block."""
    text = html.unescape(nh3.clean(rendered_html, tags=set()))
    return [line.strip() for line in text.splitlines() if line.strip()]


@dataclass(frozen=True)
class DiffLine:
    kind: str  # "added", "removed" or "same"
    text: str


def diff_hunks(old: list[str], new: list[str], context: int = 2) -> list[list[DiffLine]]:
    """Return the changed stretches between two texts, each with a little unchanged context."""
    matcher = difflib.SequenceMatcher(a=old, b=new, autojunk=False)
    hunks = []
    for group in matcher.get_grouped_opcodes(context):
        hunk = []
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                hunk += [DiffLine("same", line) for line in old[i1:i2]]
                continue
            hunk += [DiffLine("removed", line) for line in old[i1:i2]]
            hunk += [DiffLine("added", line) for line in new[j1:j2]]
        hunks.append(hunk)
    return hunks
