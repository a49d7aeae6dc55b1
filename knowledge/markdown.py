"""Article bodies: Markdown rendered with Python-Markdown, then sanitised with nh3 (ammonia).

The renderer lets raw HTML through (Markdown allows it); the sanitiser is what makes the result
safe to show, whatever the renderer did: only the tags and attributes below survive, links and
images only with http, https or mailto URLs (or relative ones) — never javascript:, data: or
vbscript: —, every link gets ``rel="noopener noreferrer"``, and the contents of script and style
elements are dropped with them. Event attributes, ``style``, iframes, objects, embeds, forms and
SVG are not on the list, so they go.
"""

from __future__ import annotations

import markdown as markdown_lib
import nh3

TAGS = frozenset(
    {
        "p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote",
        "ul", "ol", "li", "dl", "dt", "dd",
        "pre", "code", "kbd", "samp", "em", "strong", "b", "i", "u", "s", "del", "ins", "sub", "sup",
        "a", "img",
        "table", "thead", "tbody", "tr", "th", "td",
    }
)  # fmt: skip
ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title"},
    "th": {"align"},
    "td": {"align"},
    "ol": {"start"},
    "code": {"class"},  # fenced code's language-… class
}
URL_SCHEMES = frozenset({"http", "https", "mailto"})
EXTENSIONS = ["fenced_code", "tables", "sane_lists"]


def sanitise(html: str) -> str:
    """Untrusted HTML made safe to put in a page (see the module docstring)."""
    return nh3.clean(
        html,
        tags=set(TAGS),
        attributes={tag: set(names) for tag, names in ATTRIBUTES.items()},
        url_schemes=set(URL_SCHEMES),
        link_rel="noopener noreferrer",
        strip_comments=True,
    )


def render(text: str) -> str:
    """An article body (Markdown) as safe HTML."""
    if not text:
        return ""
    html = markdown_lib.markdown(text, extensions=EXTENSIONS, output_format="html")
    return sanitise(html)
