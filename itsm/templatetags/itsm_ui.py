"""Small display filters shared by the desk and portal templates, and the header's navigation."""

from functools import cache

from django import template
from django.conf import settings
from django.template.loader import get_template
from django.urls import NoReverseMatch, get_script_prefix, get_urlconf, reverse
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
    return mark_safe(' aria-current="page"') if _is_current(context, url) else ""


def _is_current(context, url: str) -> bool:
    here = context.get("nav_here")
    if here is not None:  # the page says where it belongs (e.g. by the reader's relation to a record)
        return bool(here) and url == here
    path = getattr(context.get("request"), "path", "")
    home = url.strip("/").count("/") == 0
    return path == url if home else path.startswith(url)


# The header's links, in order: (the context flags that must all be true, URL name, label). The
# flags come from the context processors (``itsm.views.context.navigation``, each domain's own).
NAV_LINKS = (
    (("nav_desk",), "desk:home", "Desk"),
    (("nav_desk",), "desk:incident-list", "Incidents"),
    (("nav_desk", "nav_problems"), "desk:problem-list", "Problems"),
    (("nav_desk", "nav_changes"), "desk:change-list", "Changes"),
    (("nav_desk", "nav_requests"), "desk:request-list", "Requests"),
    (("nav_desk", "nav_catalog_items"), "desk:catalog-item-list", "Catalog items"),
    (("nav_desk", "nav_knowledge_desk"), "desk:article-list", "Knowledge"),
    (("nav_desk",), "desk:oncall-list", "On call"),
    (("nav_desk", "nav_sla_report"), "desk:sla-compliance", "SLA compliance"),
    (("nav_desk",), "desk:notifications", "Notifications"),
    ((), "portal:home", "Portal"),
    ((), "portal:incident-list", "My incidents"),
    (("nav_catalog",), "portal:catalog", "Service catalog"),
    (("nav_requests",), "portal:request-list", "My requests"),
    (("nav_knowledge_portal",), "portal:knowledge", "Knowledge"),
    (("nav_desk",), "api-docs", "API docs"),
    (("nav_admin",), "admin:index", "Admin"),
)


UNREAD_BADGE = "itsm/includes/unread_badge.html"  # also the body of the badge's own refresh


@cache
def _address(name: str, prefix: str, urlconf) -> str:
    try:
        return reverse(name, urlconf=urlconf)
    except NoReverseMatch:  # a door this installation does not route: no link
        return ""


def address(name: str) -> str:
    """``reverse(name)`` of an address without arguments, worked out once per process (a
    reverse costs ~30 µs and the header has seventeen)."""
    return _address(name, get_script_prefix(), get_urlconf() or settings.ROOT_URLCONF)


@register.simple_tag(takes_context=True)
def site_nav(context):
    """The header's ``<li>`` links the reader may use (``NAV_LINKS``), the page's own marked
    ``aria-current``, and the unread count beside "Notifications" (refreshed by htmx)."""
    parts = []
    for flags, name, label in NAV_LINKS:
        if not all(context.get(flag) for flag in flags):
            continue
        url = address(name)
        if not url:
            continue
        current = ' aria-current="page"' if _is_current(context, url) else ""
        if name == "desk:notifications":
            badge = get_template(UNREAD_BADGE).render({"nav_unread": context.get("nav_unread")})
            label = (
                f'{label}<span id="nav-unread" hx-get="{address("desk:notifications-badge")}"'
                f' hx-trigger="every 45s" hx-swap="innerHTML">{badge}</span>'
            )
        parts.append(f'<li><a href="{conditional_escape(url)}"{current}>{label}</a></li>')
    return mark_safe("".join(parts))  # labels and addresses are ours; the badge is a rendered template
