"""Template filters of the knowledge pages."""

import re

from django import template
from django.utils.safestring import mark_safe

register = template.Library()

# Markdown's marks as they show in a search snippet (the snippet is made from the article's
# markdown): heading hashes at the start of a line or after a space, bold/italic runs of * or _,
# and backticks. An escaped entity (``&#x27;``) has its ``#`` after ``&``, so it is kept.
HEADING = re.compile(r"(^|\s)#{1,6}(?=\s)")
EMPHASIS = re.compile(r"\*{1,3}|(?<!\w)_{1,3}|_{1,3}(?!\w)|`+")


@register.filter
def snippet(html: str) -> str:
    """A search hit's snippet (HTML already escaped by ``knowledge.selectors``, matches in
    ``<mark>``) without the markdown marks that would show as stray characters."""
    text = HEADING.sub(r"\1", html or "")
    text = EMPHASIS.sub("", text)
    # Only characters were removed from HTML the selector escaped: still safe.
    return mark_safe(re.sub(r"\s{2,}", " ", text).strip())
