"""Attaching files on the desk's incident page (the attachments card of the overview)."""

from __future__ import annotations

from incidents.views.desk.overview import OverviewView
from itsm import attachments
from itsm.views.attachments import AttachForm


class AttachView(OverviewView):
    """Upload files to the incident; a refusal comes back on the overview with the card's errors."""

    http_method_names = ["post"]

    def post(self, request, pk):
        incident = self.load(pk)
        form = request.attach_form = AttachForm(request.POST, request.FILES)

        def attach(data) -> str:
            added = attachments.attachment_add(record=incident, actor=request.user, files=data["attachments"])
            return f"Attached {', '.join(item.name for item in added)}."

        return self.write(incident, form, "attach_form", attach, anchor="attachments")
