"""The demo's knowledge base (``seed_demo``): a dozen published articles on everyday problems
(one for agents only), one article waiting for review, one draft, and readers' feedback.
Everything is made through ``knowledge.services`` and ``knowledge.workflows``, as the product
makes it: KB numbers, versions, journal and exact feedback counts."""

from __future__ import annotations

from knowledge import services, workflows
from knowledge.models import Article, Audience

# title, category, keywords, summary, body, audience
PUBLISHED = [
    (
        "Printer jams on every page", "Printing", "printer, paper jam, tray, floor printer",
        "Clear a jam and stop it coming back: paper, tray guides and rollers.",
        """## Clear the jam

1. Switch the printer **off** and open the front door.
2. Pull the jammed sheet out slowly, in the direction the paper travels.
3. Check the output tray and the duplex unit at the back for torn pieces.

## Stop it happening again

- Fan the paper before loading it; damp or curled paper jams.
- Slide the tray guides against the stack, without bending it.
- Do not fill the tray above the **max** line.

If the printer still jams after this, raise an incident with the printer's name (on the label
on its front, for example `printer-3f`).
""", Audience.EVERYONE,
    ),
    (
        "Printer shows offline", "Printing", "printer, offline, print queue, spooler",
        "Your laptop says the printer is offline although it is switched on.",
        """1. Check that the printer's display shows **Ready**.
2. On your laptop open *Settings › Bluetooth & devices › Printers & scanners*.
3. Choose the printer, then **Open print queue**, and untick *Use printer offline*.
4. Cancel any stuck document in the queue and print again.
""", Audience.EVERYONE,
    ),
    (
        "Reset your password", "Accounts", "password, reset, locked out, expired",
        "Choose a new password yourself, in two minutes, without calling the desk.",
        """Go to the self-service password page at `https://password.example.com` and follow the
steps. You need your mobile phone for the code we send you.

Your new password must be at least **14 characters** long. A short sentence is easy to remember
and hard to guess.

After a reset, sign in again on your phone's mail app too, or it will lock your account again.
""", Audience.EVERYONE,
    ),
    (
        "Account locked after too many attempts", "Accounts", "locked, account, sign in, attempts",
        "An account unlocks itself 15 minutes after the last failed attempt.",
        """Wait **15 minutes** and sign in again. If you changed your password recently, an old
password saved on your phone or in a mapped drive may keep locking you out: update it there
first. Still locked after that? Raise an incident and say when it started.
""", Audience.EVERYONE,
    ),
    (
        "Connect to the VPN from home", "Network", "vpn, remote, home working, connect",
        "Install the VPN client and connect with your usual account.",
        """1. Install **Company VPN** from the *Software Center*.
2. Open it and enter `vpn.example.com` as the server.
3. Sign in with your usual account and approve the sign-in on your phone.

The VPN disconnects after 8 hours: connect again.
""", Audience.EVERYONE,
    ),
    (
        "VPN disconnects every few minutes", "Network", "vpn, disconnects, drops, wifi",
        "Most drops come from Wi-Fi power saving or an old client.",
        """- Update the VPN client from the *Software Center*.
- Plug in your laptop: on battery, Wi-Fi power saving drops idle connections.
- Try another network (a phone hotspot): if the VPN stays up there, the home router is the cause.
""", Audience.EVERYONE,
    ),
    (
        "Mailbox full: free up space", "Email", "mailbox, quota, full, email, archive",
        "What to do when Outlook says your mailbox is full.",
        """1. Empty **Deleted Items** and **Junk Email**.
2. Sort your inbox by size and delete or save large attachments to OneDrive.
3. Turn on the online archive: *File › Tools › Mailbox cleanup*.

Your mailbox holds 50 GB; the archive is unlimited.
""", Audience.EVERYONE,
    ),
    (
        "Emails are delayed", "Email", "email, delayed, slow, queue",
        "Check whether it is your mailbox or the mail service before you raise an incident.",
        """Send yourself a test message. If it arrives within a minute, the delay is on the sender's
side. If not, check the *Service status* page on the portal's home: a known delay is listed there.
""", Audience.EVERYONE,
    ),
    (
        "Set up multi-factor authentication on a new phone", "Accounts", "mfa, authenticator, new phone, 2fa",
        "Move your sign-in approvals to a new phone before you wipe the old one.",
        """1. On the **old** phone open the Authenticator app and back up your accounts.
2. On the **new** phone install Authenticator and restore the backup.
3. Sign in to `https://mysignins.example.com` and make the new phone the default.

Lost the old phone? Raise an incident: the desk will reset your methods after checking who you are.
""", Audience.EVERYONE,
    ),
    (
        "Laptop battery drains fast", "Hardware", "battery, laptop, drains, power",
        "Find what uses the battery, and when to ask for a new one.",
        """Open *Settings › System › Power & battery › Battery usage* to see which app uses the most.
Browsers with many tabs and video calls are the usual suspects.

A battery that lasts under **2 hours** from full after this is worn out: raise an incident and
we will replace it.
""", Audience.EVERYONE,
    ),
    (
        "Cannot reach the intranet", "Network", "intranet, website, dns, cannot reach",
        "When the intranet does not open but other websites do.",
        """1. Check that you are on the office network or connected to the VPN.
2. Open `https://intranet.example.com` in a private window (it skips old cookies).
3. Still not working? Note the exact error and raise an incident.
""", Audience.EVERYONE,
    ),
    (
        "Core switch reboot: restore intranet routing", "Network", "core switch, reboot, routing, runbook",
        "Runbook for agents: bring intranet routing back after a core switch reboots.",
        """**For the service desk and network team only.**

1. Check both core switches are up: `show redundancy states`.
2. If the standby took over, clear the stale ARP entries: `clear arp-cache`.
3. Verify the intranet VIP answers from the office VLAN.
4. Link affected incidents to problem *Intranet outages after switch reboots*.
""", Audience.AGENTS,
    ),
]

IN_REVIEW = (
    "Request a shared mailbox", "Email", "shared mailbox, request, team",
    "How to ask for a shared mailbox for your team, and who owns it.",
    """Raise a request from the portal with the mailbox's name, its owner and its members. The owner
approves new members afterwards.
""",
)
DRAFT = ("Teams calls: poor audio", "Collaboration", "teams, audio, headset, echo", "", "Draft: headset checks first.")

FEEDBACK = [
    # article title, username, helpful, comment
    ("Printer jams on every page", "customer", True, "The tray guides were the problem, thanks."),
    ("Printer jams on every page", "customer2", False, "Step 2 did not work: the sheet tore."),
    ("Reset your password", "customer", True, ""),
    ("Printer shows offline", "customer2", True, ""),
    ("VPN disconnects every few minutes", "customer", False, "Please add what to do on a Mac."),
]


def seed_knowledge(users: dict, *, printer_incident=None) -> int:
    """The demo articles (none if any article exists already); returns how many were made."""
    if Article.objects.exists():
        return 0
    editor, publisher = users["agent"], users["manager"]
    made = {}
    for title, category, keywords, summary, body, audience in PUBLISHED:
        article = services.article_create(
            actor=editor,
            data={"title": title, "category": category, "keywords": keywords, "summary": summary,
                  "body": body, "audience": audience},
        )  # fmt: skip
        article = workflows.article_submit(article=article, actor=editor)
        made[title] = workflows.article_publish(article=article, actor=publisher)
    title, category, keywords, summary, body = IN_REVIEW
    review = services.article_create(
        actor=users["lead"],
        data={"title": title, "category": category, "keywords": keywords, "summary": summary, "body": body},
    )
    workflows.article_submit(article=review, actor=users["lead"])
    title, category, keywords, summary, body = DRAFT
    services.article_create(
        actor=editor, data={"title": title, "category": category, "keywords": keywords, "summary": summary, "body": body}
    )
    for title, username, helpful, comment in FEEDBACK:
        services.article_feedback(article=made[title], actor=users[username], helpful=helpful, comment=comment)
    if printer_incident is not None:
        services.article_link_incident(
            article=made["Printer jams on every page"], incident=printer_incident, actor=users["agent"]
        )
    return len(PUBLISHED) + 2
