"""The runbook's Markdown as a self-contained HTML page: every text escaped, headings with the ids the alert rules'
anchors use, lists, code spans and fences, bold and links (never a script: URL)."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from accessfit.exporters.alert_rules import alert_names, runbook_anchor, template
from accessfit.exporters.runbook_html import body, heading_id, inline, packaged, page


class _Tags(HTMLParser):
    """The start tags of a page with their attributes, and whether every tag closed in order."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.open: list[str] = []
        self.mismatched: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag not in {"meta"}:
            self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.open or self.open.pop() != tag:
            self.mismatched.append(tag)


def tags_of(html: str) -> _Tags:
    parser = _Tags()
    parser.feed(html)
    parser.close()
    return parser


def test_text_is_escaped_everywhere() -> None:
    md = (
        "# Title <script>alert(1)</script>\n\n"
        "A <script>alert(2)</script> & \"quotes\" 'too'.\n\n"
        "- item <img src=x onerror=alert(3)>\n\n"
        "`<b>code</b>` and **<i>bold</i>**\n\n"
        "```\n<script>alert(4)</script>\n```\n"
    )
    html = page(md)
    assert "<script" not in html and "<img" not in html and "<b>" not in html and "<i>" not in html
    assert html.count("&lt;script&gt;alert(") == 4  # the title, the heading, the paragraph, the fence
    assert "<title>Title &lt;script&gt;alert(1)&lt;/script&gt;</title>" in html
    assert "&amp; &quot;quotes&quot; &#x27;too&#x27;." in html
    assert "<code>&lt;b&gt;code&lt;/b&gt;</code>" in html
    assert "<strong>&lt;i&gt;bold&lt;/i&gt;</strong>" in html
    parsed = tags_of(html)
    assert not parsed.mismatched and not parsed.open
    assert {tag for tag, _ in parsed.tags} <= {
        "html", "head", "meta", "title", "style", "body", "main", "h1", "p", "ul", "li", "code", "strong", "pre",
    }  # fmt: skip


def test_a_page_needs_nothing_from_elsewhere() -> None:
    html = page(packaged())
    assert not re.search(r"<(script|link|img|iframe|object|embed|form)\b", html)
    assert not re.search(r"\b(src|srcset|onerror|onload)=", html) and "@import" not in html and "url(" not in html
    assert html.startswith("<!DOCTYPE html>") and '<meta charset="utf-8">' in html


def test_headings_carry_the_ids_the_rules_anchors_use() -> None:
    html = body("# accessfit runbook\n\n## AccessfitIndexDown\n\ntext\n\n### Why `it` fails, **really**?\n")
    assert '<h1 id="accessfit-runbook">accessfit runbook</h1>' in html
    assert '<h2 id="accessfitindexdown">AccessfitIndexDown</h2>' in html
    assert '<h3 id="why-it-fails-really">Why <code>it</code> fails, <strong>really</strong>?</h3>' in html
    twice = body("## Fix\n\n## Fix\n\n## Fix\n")
    assert re.findall(r'id="([^"]+)"', twice) == ["fix", "fix-1", "fix-2"]
    for alert in alert_names(template()):
        assert heading_id(alert) == runbook_anchor(alert)


def test_the_packaged_runbook_has_a_section_for_every_alert() -> None:
    ids = {attrs.get("id") for tag, attrs in tags_of(page(packaged())).tags if tag == "h2"}
    assert {runbook_anchor(a) for a in alert_names(template())} <= ids and len(ids) >= 14


def test_lists_paragraphs_and_their_continuation_lines() -> None:
    md = "Before the list,\non two lines.\n- one\n  continued\n* two `x`\n\nAfter.\n"
    assert body(md) == (
        "<p>Before the list, on two lines.</p>\n"
        "<ul><li>one continued</li><li>two <code>x</code></li></ul>\n<p>After.</p>"
    )


def test_code_fences_keep_their_lines_and_markup_verbatim() -> None:
    md = "Text\n```sh\ncurl -s 127.0.0.1:9847/metrics | grep **accessfit_**\n  indented `tick`\n```\n\n## After\n"
    assert body(md) == (
        "<p>Text</p>\n<pre><code>curl -s 127.0.0.1:9847/metrics | grep **accessfit_**\n  indented `tick`</code></pre>\n"
        '<h2 id="after">After</h2>'
    )
    assert body("```\nnever closed\n# not a heading\n") == "<pre><code>never closed\n# not a heading</code></pre>"


def test_links_are_kept_only_for_http_and_relative_targets() -> None:
    assert inline('[the **docs**](https://example.com/a?b=1&c="2")') == (
        '<a href="https://example.com/a?b=1&amp;c=&quot;2&quot;">the <strong>docs</strong></a>'
    )
    assert inline("see [below](#accessfitdown)") == 'see <a href="#accessfitdown">below</a>'
    assert inline("[x](javascript:alert(1))") == "[x](javascript:alert(1))"
    assert inline("[x](JavaScript:alert)") == "[x](JavaScript:alert)"
    assert inline("[x](data:text/html,hi)") == "[x](data:text/html,hi)"
    assert inline("`[not](a-link)`") == "<code>[not](a-link)</code>"
