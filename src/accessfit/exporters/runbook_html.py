"""The runbook (`accessfit/data/runbook.md`, shipped in the package) as one self-contained HTML page, which the
daemon serves at /runbook so every alert's runbook_url lands on something real without anything else deployed.

Only the Markdown the runbook uses is understood: ATX headings, paragraphs, `-`/`*` bullet lists, code fences,
and inline `code`, **bold** and [links](url). Every piece of text is escaped; there is no raw HTML, script or
external asset, and a link whose scheme is not http(s) (or that is not relative) stays plain text."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from importlib.resources import files

_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_BULLET = re.compile(r"^[-*]\s+(.*)$")
_FENCE = re.compile(r"^(```|~~~)")
_INLINE = re.compile(r"`([^`]+)`|\*\*(.+?)\*\*|\[([^\]]+)\]\(([^)\s]+)\)")
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*):")
_NOT_IN_ID = re.compile(r"[^\w\- ]")
_STYLE = (
    "body{font:16px/1.5 system-ui,sans-serif;max-width:52em;margin:2em auto;padding:0 1em;color:#222}"
    "code,pre{font-family:ui-monospace,monospace;background:#f3f3f3;border-radius:3px}"
    "code{padding:0 .2em}pre{padding:.6em;overflow-x:auto}pre code{padding:0}"
    "h2{border-top:1px solid #ddd;padding-top:1em}h2:target{background:#fff6d5}"
)


def packaged() -> str:
    """The runbook's Markdown, as the package ships it."""
    return files("accessfit.data").joinpath("runbook.md").read_text(encoding="utf-8")


def heading_id(text: str) -> str:
    """A heading's id as GitHub and most Markdown renderers make it: lower case, punctuation dropped, spaces as
    dashes (`AccessfitIndexDown` is `accessfitindexdown`, the alert rules' anchor)."""
    plain = text.replace("`", "").replace("**", "")
    return _NOT_IN_ID.sub("", plain.strip().lower()).replace(" ", "-")


def inline(text: str) -> str:
    """One line's (or paragraph's) text as escaped HTML with its code spans, bold and links."""
    out: list[str] = []
    at = 0
    for m in _INLINE.finditer(text):
        out.append(html.escape(text[at : m.start()]))
        code, bold, label, url = m.groups()
        if code is not None:
            out.append(f"<code>{html.escape(code)}</code>")
        elif bold is not None:
            out.append(f"<strong>{inline(bold)}</strong>")
        elif _safe(url):
            out.append(f'<a href="{html.escape(url)}">{inline(label)}</a>')
        else:
            out.append(html.escape(m[0]))
        at = m.end()
    out.append(html.escape(text[at:]))
    return "".join(out)


def _safe(url: str) -> bool:
    """http(s) or relative (a path, a #fragment): never javascript:, data: or another scheme."""
    scheme = _SCHEME.match(url)
    return scheme is None or scheme[1].lower() in {"http", "https"}


@dataclass
class _Blocks:
    """The HTML of the blocks read so far, and the paragraph or list being read."""

    html: list[str]
    paragraph: list[str]
    items: list[list[str]]
    ids: set[str]

    def close(self) -> None:
        if self.paragraph:
            self.html.append(f"<p>{inline(' '.join(self.paragraph))}</p>")
            self.paragraph = []
        if self.items:
            lis = "".join(f"<li>{inline(' '.join(item))}</li>" for item in self.items)
            self.html.append(f"<ul>{lis}</ul>")
            self.items = []

    def unique(self, wanted: str) -> str:
        """`wanted`, or `wanted-1`, `wanted-2`, … when an earlier heading took it (GitHub's rule)."""
        found, n = wanted, 0
        while found in self.ids:
            n += 1
            found = f"{wanted}-{n}"
        self.ids.add(found)
        return found


def body(markdown: str) -> str:
    """The blocks of `markdown` as HTML, one per line."""
    blocks = _Blocks([], [], [], set())
    fence: str | None = None
    code: list[str] = []
    for line in markdown.splitlines():
        if fence is not None:
            if line.strip().startswith(fence):
                blocks.html.append(f"<pre><code>{html.escape(chr(10).join(code))}</code></pre>")
                fence, code = None, []
            else:
                code.append(line)
            continue
        stripped = line.strip()
        if m := _FENCE.match(stripped):
            blocks.close()
            fence = m[1]
        elif not stripped:
            blocks.close()
        elif m := _HEADING.match(line):
            blocks.close()
            level = len(m[1])
            anchor = blocks.unique(heading_id(m[2]))
            blocks.html.append(f'<h{level} id="{html.escape(anchor)}">{inline(m[2])}</h{level}>')
        elif m := _BULLET.match(stripped):
            if blocks.paragraph:
                blocks.close()  # a list may follow a paragraph's last line directly
            blocks.items.append([m[1]])
        elif blocks.items and line[:1].isspace():
            blocks.items[-1].append(stripped)  # an item's continuation line
        else:
            if blocks.items:
                blocks.close()
            blocks.paragraph.append(stripped)
    if fence is not None:  # an unclosed fence runs to the end, as CommonMark has it
        blocks.html.append(f"<pre><code>{html.escape(chr(10).join(code))}</code></pre>")
    blocks.close()
    return "\n".join(blocks.html)


def page(markdown: str) -> str:
    """A whole HTML document: `markdown`'s blocks, titled by its first heading."""
    first = next((m[2] for line in markdown.splitlines() if (m := _HEADING.match(line))), "runbook")
    title = html.escape(first.replace("`", "").replace("**", ""))
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{title}</title>\n<style>{_STYLE}</style>\n</head>\n<body>\n<main>\n"
        f"{body(markdown)}\n</main>\n</body>\n</html>\n"
    )
