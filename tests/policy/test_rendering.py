import pytest
from django.test import override_settings

from policy.rendering import diff_hunks, render_markdown, render_policy, text_lines


@pytest.mark.parametrize(
    ("markdown", "forbidden"),
    [
        ("Hello <script>alert(1)</script>", "<script"),
        ('<a href="#" onclick="steal()">x</a>', "onclick"),
        ('<p onmouseover="steal()">x</p>', "onmouseover"),
        ("[x](javascript:alert(1))", "javascript:"),
        ('<img src="https://tracker.example/pixel.gif">', "tracker.example"),
        ('<iframe src="https://evil.example"></iframe>', "<iframe"),
        ('<p style="background:url(https://evil.example)">x</p>', "style="),
        ("<svg><script>alert(1)</script></svg>", "alert"),
    ],
)
def test_sanitising_removes_what_could_run_or_track(markdown, forbidden):
    assert forbidden not in render_markdown(markdown)


def test_markdown_structure_survives_sanitising():
    rendered = render_markdown(
        "## Heading\n\n- one\n- two\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n"
        "[policy](https://iportalis.example/policy)"
    )

    assert '<h2 id="heading">Heading</h2>' in rendered
    assert "<li>one</li>" in rendered
    assert "<td>2</td>" in rendered
    assert 'href="https://iportalis.example/policy"' in rendered
    assert 'rel="noopener noreferrer"' in rendered


@override_settings(POLICY_COOKIE_TABLE=None)
def test_cookie_table_marker_shows_a_marked_placeholder_without_a_registry():
    rendered = render_policy("Before\n\n[[cookie-table]]\n\nAfter")

    assert "[[cookie-table]]" not in rendered
    assert 'data-cookie-table="placeholder"' in rendered
    assert rendered.index("Before") < rendered.index("cookies-in-use") < rendered.index("After")


def cookie_table_for_test():
    return '<table id="cookies-in-use"><tr><td>sessionid</td></tr></table>'


@override_settings(POLICY_COOKIE_TABLE="tests.policy.test_rendering.cookie_table_for_test")
def test_cookie_table_marker_is_filled_by_the_configured_registry():
    rendered = render_policy("[[cookie-table]]")

    assert rendered == cookie_table_for_test()


def test_text_lines_reads_rendered_html_as_plain_lines():
    lines = text_lines(render_markdown("## Title\n\nSome &amp; text.\n\n- item"))

    assert lines == ["Title", "Some & text.", "item"]


def test_diff_hunks_mark_added_removed_and_context_lines():
    old = ["a", "b", "c", "d", "e", "f", "g"]
    new = ["a", "b", "c", "D", "e", "f", "g", "h"]

    hunks = diff_hunks(old, new, context=1)

    assert [[(line.kind, line.text) for line in hunk] for hunk in hunks] == [
        [("same", "c"), ("removed", "d"), ("added", "D"), ("same", "e")],
        [("same", "g"), ("added", "h")],
    ]
