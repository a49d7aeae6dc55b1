"""Small display filters shared by the desk and portal templates."""

from django import template

register = template.Library()

# Words that read better than their code when humanised.
_LABELS = {"rca_submitted": "RCA submitted"}


@register.filter
def state_label(state: str) -> str:
    """A state code as people read it: ``in_progress`` → "In progress"."""
    if not state:
        return ""
    return _LABELS.get(state) or state.replace("_", " ").capitalize()
