"""Attaching files on the desk's incident page (the attachments card of the overview)."""

from __future__ import annotations

from incidents.views.desk.overview import OverviewView
from itsm.views.attachments import AttachTabMixin


class AttachView(AttachTabMixin, OverviewView):
    """Upload files to the incident; a refusal comes back on the overview with the card's errors."""
