"""Small display filters shared by the desk and portal templates."""

from django import template
from django.utils.html import conditional_escape
from django.utils.safestring import mark_safe

register = template.Library()

# Words that read better than their code when humanised.
_LABELS = {"rca_submitted": "RCA submitted"}


@register.filter
def state_label(state: str) -> str:
    """A state code as people read it: ``in_progress`` → "In progress"."""
    if not state:
        return ""
    return _LABELS.get(state) or state.replace("_", " ").capitalize()


@register.simple_tag
def select_options(optgroups) -> str:
    """A select widget's ``<option>``s (and ``<optgroup>``s), written in Python: the same markup
    as Django's option template, without a template loop per option and per attribute — a list
    of a few hundred agents is most of an incident page's rendering otherwise."""
    parts = []
    for group_name, choices, _ in optgroups:
        if group_name:
            parts.append(f'<optgroup label="{conditional_escape(group_name)}">')
        for option in choices:
            attrs = "".join(
                f" {name}" if value is True else f' {name}="{conditional_escape(value)}"'
                for name, value in option["attrs"].items()
                if value is not False
            )
            value = conditional_escape(str(option["value"]))
            parts.append(f'<option value="{value}"{attrs}>{conditional_escape(option["label"])}</option>')
        if group_name:
            parts.append("</optgroup>")
    return mark_safe("".join(parts))  # every value above is escaped


@register.simple_tag(takes_context=True)
def nav_current(context, url: str):
    """`` aria-current="page"`` on the navigation item the page belongs to: an item whose address
    has one segment (a door's home, ``/desk/``, ``/portal/``) only on that page itself; a deeper
    one (``/desk/changes/``) on every page below it (a change, the change calendar)."""
    here = context.get("nav_here")
    if here is not None:  # the page says where it belongs (e.g. by the reader's relation to a record)
        return mark_safe(' aria-current="page"') if here and url == here else ""
    request = context.get("request")
    path = getattr(request, "path", "")
    home = url.strip("/").count("/") == 0
    current = path == url if home else path.startswith(url)
    return mark_safe(' aria-current="page"') if current else ""
