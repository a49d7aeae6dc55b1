"""The demo's service catalog (``seed_demo``): two categories, four items — a laptop with a
conditional field, approved by the manager and then any one of the service desk, fulfilled by
two tasks; software access without approval; a monitor; VPN access approved by the manager —
and a few requests of ``customer`` in different states. Everything is made through
``catalog.services`` and ``catalog.workflows``, as the product makes it: REQ and TASK numbers,
approvals and grants, SLA clocks, journal."""

from __future__ import annotations

from catalog import services, workflows
from catalog.models import CatalogItem
from itsm.workflow import task_transition

LAPTOP_FORM = [
    {"name": "laptop_model", "label": "Laptop model", "type": "dropdown", "required": True,
     "options": ["13-inch ultralight", "15-inch performance"], "help_text": "The 15-inch is for developers and designers."},
    {"name": "needs_dock", "label": "I also need a docking station", "type": "checkbox"},
    {"name": "dock_type", "label": "Docking station", "type": "radio", "required": True,
     "options": ["USB-C", "Thunderbolt"], "condition": {"field": "needs_dock", "value": "true"}},
    {"name": "start_date", "label": "Needed by", "type": "date", "required": True},
    {"name": "justification", "label": "Why is it needed?", "type": "textarea"},
    {"name": "cost_centre", "label": "Cost centre", "type": "hidden", "default_value": "IT-100"},
]  # fmt: skip
SOFTWARE_FORM = [
    {"name": "application", "label": "Application", "type": "dropdown", "required": True,
     "options": ["Figma", "Jira", "Salesforce", "Tableau"]},
    {"name": "access_level", "label": "Access level", "type": "radio", "required": True,
     "options": ["Read only", "Editor"], "default_value": "Read only"},
    {"name": "manager_email", "label": "Your manager's e-mail", "type": "email", "required": True},
]  # fmt: skip
MONITOR_FORM = [
    {"name": "size", "label": "Size", "type": "radio", "required": True, "options": ["24-inch", "27-inch"]},
    {"name": "quantity", "label": "How many", "type": "number", "required": True, "default_value": "1"},
]  # fmt: skip
VPN_FORM = [
    {"name": "reason", "label": "What do you need the VPN for?", "type": "text", "required": True},
    {"name": "until", "label": "Until", "type": "date", "required": False,
     "help_text": "Leave empty for permanent access."},
]  # fmt: skip


def seed_catalog(users, desk) -> bool:
    """Make the demo catalog and requests once (False: there was a catalog already)."""
    if CatalogItem.objects.exists():
        return False
    manager, customer, agent, lead = users["manager"], users["customer"], users["agent"], users["lead"]
    hardware = services.category_create(
        actor=manager, data={"name": "Hardware", "description": "Laptops, screens and accessories.", "icon": "💻", "position": 1}
    )
    software = services.category_create(
        actor=manager,
        data={"name": "Software & access", "description": "Applications, licences and remote access.", "icon": "🔑",
              "position": 2},
    )  # fmt: skip
    laptop = services.item_create(
        actor=manager,
        data={"category": hardware, "name": "New laptop", "icon": "💻", "priority": "P3", "fulfilment_group": desk,
              "description": "A company laptop, imaged and set up for you. Approved by your manager, then the service desk."},
        form_fields=LAPTOP_FORM,
        levels=[{"mode": "any", "users": [manager.pk]}, {"mode": "any", "group": desk}],
        task_templates=[
            {"short_description": "Image the laptop", "description": "Install the standard image and enrol it."},
            {"short_description": "Deliver and set up the laptop", "assignment_group": desk},
        ],
    )  # fmt: skip
    access = services.item_create(
        actor=manager,
        data={"category": software, "name": "Software access", "icon": "🔑", "fulfilment_group": desk,
              "description": "Access to a business application. No approval needed."},
        form_fields=SOFTWARE_FORM,
        task_templates=[{"short_description": "Grant the access"}],
    )  # fmt: skip
    monitor = services.item_create(
        actor=manager,
        data={"category": hardware, "name": "Monitor", "icon": "🖥️", "fulfilment_group": desk,
              "description": "An extra screen for your desk."},
        form_fields=MONITOR_FORM,
        task_templates=[{"short_description": "Deliver the monitor"}],
    )  # fmt: skip
    vpn = services.item_create(
        actor=manager,
        data={"category": software, "name": "VPN access", "icon": "🌐", "fulfilment_group": desk,
              "description": "Work from home or on the road. Approved by your manager."},
        form_fields=VPN_FORM,
        levels=[{"mode": "any", "users": [manager.pk]}],
    )  # fmt: skip

    # Waiting for the manager's approval.
    services.request_create(
        actor=customer, catalog_item=laptop,
        form_data={"laptop_model": "13-inch ultralight", "start_date": "2027-02-01", "justification": "New starter."},
    )  # fmt: skip
    # Approved by the manager and the desk; being fulfilled (two tasks, one done).
    second = services.request_create(
        actor=customer, catalog_item=laptop,
        form_data={"laptop_model": "15-inch performance", "needs_dock": True, "dock_type": "Thunderbolt",
                   "start_date": "2027-01-15"},
    )  # fmt: skip
    second = workflows.request_approve(request=second, actor=manager, comment="Fine by me.")
    second = workflows.request_approve(request=second, actor=lead)
    second = workflows.request_fulfil(request=second, actor=agent)
    task_transition(task=second.tasks.order_by("pk").first(), actor=agent, name="close")
    # No approval needed: fulfilled and completed.
    done = services.request_create(
        actor=customer, catalog_item=access,
        form_data={"application": "Jira", "access_level": "Editor", "manager_email": "manager@example.com"},
    )  # fmt: skip
    done = workflows.request_fulfil(request=done, actor=agent)
    for task in done.tasks.all():
        task_transition(task=task, actor=agent, name="close")
    workflows.request_complete(request=done, actor=agent, completion_notes="Jira editor access granted.")
    # Rejected, with the reason.
    refused = services.request_create(actor=customer, catalog_item=vpn, form_data={"reason": "Working abroad"})
    workflows.request_reject(
        request=refused, actor=manager, reason="Working from abroad needs HR's approval first; ask them."
    )
    # Cancelled by the customer.
    dropped = services.request_create(actor=customer, catalog_item=monitor, form_data={"size": "27-inch", "quantity": 2})
    workflows.request_cancel(request=dropped, actor=customer, reason="I found a spare one.")
    return True
