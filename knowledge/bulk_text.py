"""Realistic knowledge articles for ``manage.py seed_bulk`` (benchmarks): titles, summaries,
keywords and Markdown bodies of the kind a service desk writes — symptoms, cause, resolution
steps, notes — about a few hundred systems, symptoms and fixes, so that word frequencies look
like a real knowledge base (a few very common words such as "restart", many rare ones).

A body is a sequence of Markdown blocks separated by blank lines; each distinct block is
rendered and sanitised once (``knowledge.markdown.render``) and the article's ``body_html`` is
the blocks' HTML joined by newlines — what rendering the whole body gives (a test pins it),
at a fraction of the time for 50,000 articles.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass

from knowledge.markdown import render

# Text Markdown leaves as it is (no markup, no character to escape): its HTML is one paragraph.
PLAIN = re.compile(r"[A-Z][A-Za-z0-9 .,'()/-]*")

SYSTEMS = {
    "Email & collaboration": ["Outlook", "Microsoft Teams", "shared mailbox", "calendar", "Exchange Online",
                              "distribution list", "Slack", "Zoom", "SharePoint", "OneDrive", "Confluence"],
    "Network": ["VPN client", "Wi-Fi", "guest Wi-Fi", "network drive", "proxy", "DNS", "DHCP", "firewall",
                "remote desktop gateway", "load balancer", "site-to-site VPN"],
    "Hardware": ["laptop", "docking station", "monitor", "keyboard", "headset", "webcam", "desk phone",
                 "USB-C charger", "external disk", "smart card reader"],
    "Printing": ["printer", "label printer", "scanner", "multifunction printer", "print queue", "print server"],
    "Accounts & access": ["password", "MFA app", "single sign-on", "Active Directory account", "Okta",
                          "password manager", "smart card", "guest account", "shared drive permissions"],
    "Software": ["Windows 11", "macOS", "Chrome", "Firefox", "Excel", "Word", "PowerPoint", "Adobe Acrobat",
                 "Company Portal", "antivirus", "BitLocker", "backup agent", "Java runtime", "Python"],
    "Business applications": ["SAP", "Salesforce", "Jira", "payroll portal", "expense app", "HR portal",
                              "CRM", "ERP", "timesheet tool", "procurement portal", "Power BI"],
    "Mobile": ["iPhone", "Android phone", "Intune", "mobile email", "mobile VPN", "tablet"],
    "Servers & databases": ["database server", "web server", "file server", "Citrix", "backup server",
                            "certificate", "scheduled job", "message queue", "Kubernetes cluster"],
}  # fmt: skip
SYMPTOMS = [
    "does not start", "crashes on start", "is very slow", "keeps disconnecting", "shows a certificate warning",
    "cannot sign in", "asks for the password again and again", "does not sync", "is offline",
    "freezes after a few minutes", "shows error 0x80070005", "times out", "cannot connect to the server",
    "stops receiving updates", "loses its settings after a restart", "shows a blank screen",
    "uses all the CPU", "runs out of disk space", "cannot find the server", "reports an expired licence",
    "prints blank pages", "is stuck in a reboot loop", "drops audio during calls", "is locked",
    "shows the wrong time zone", "rejects the one-time code", "opens files read-only",
    "does not show shared folders", "fails with access denied", "hangs on loading profile",
]  # fmt: skip
EVENTS = ["after the latest update", "after a password change", "on the office network", "from home",
          "since this morning", "after moving desks", "for new starters", "after a reinstall",
          "when on battery", "for some users only", "at month end", "after the migration"]  # fmt: skip
CAUSES = [
    "A recent update changed the default {thing} settings, which older profiles do not pick up.",
    "The cached credentials for {thing} expired and are not renewed automatically.",
    "The {thing} profile is corrupted, usually after an interrupted sync.",
    "The {thing} certificate was renewed, but the old one is still trusted locally.",
    "A group policy conflict stops {thing} from reading its configuration.",
    "The local disk is nearly full, so {thing} cannot write its cache.",
    "The {thing} service depends on a driver that Windows replaced during the last update.",
    "The licence assigned to the user does not include {thing}.",
    "The network blocks the port {thing} uses; the proxy rules were tightened last quarter.",
    "Two versions of {thing} are installed side by side and the older one starts first.",
    "The time on the device drifted by more than five minutes, so sign-in tokens are refused.",
    "A stuck job in the {thing} queue blocks every job behind it.",
]  # fmt: skip
STEPS = [
    "Restart the {thing} and try again.",
    "Sign out of {thing}, then sign in again with your usual account.",
    "Open *Settings* → *Accounts* and remove the work account, then add it again.",
    "Clear the {thing} cache: close it, delete the `Cache` folder in your profile, and reopen it.",
    "Install the latest version of {thing} from the **Company Portal**.",
    "Open a command prompt and run `ipconfig /flushdns`, then `gpupdate /force`.",
    "Check that the device clock is correct: *Settings* → *Time & language* → *Sync now*.",
    "Free at least 5 GB of disk space (empty the Downloads folder and the recycle bin).",
    "Disconnect from the VPN, connect to the office Wi-Fi, and try again.",
    "Unplug the {thing}, wait ten seconds, and plug it back in.",
    "Run the **Network troubleshooter** from *Settings* → *Network & internet*.",
    "Reset your password at the self-service portal and wait fifteen minutes for it to sync.",
    "Remove the {thing} from *Devices and printers* and add it again.",
    "Start {thing} in safe mode (hold **Ctrl** while starting it) and disable the add-ins one by one.",
    "Re-register the MFA app: scan the new QR code from the security info page.",
    "Ask your manager to confirm the access request in the HR portal.",
    "Reboot the device twice: the second restart finishes the update.",
    "Repair the installation: *Apps* → *Installed apps* → {thing} → *Modify* → *Quick repair*.",
    "Check the status page for a known outage before going further.",
    "Delete the saved credentials for {thing} in *Credential Manager*.",
]  # fmt: skip
NOTES = [
    "> **Note:** if the problem comes back within a day, raise an incident and mention this article.",
    "> Agents: check the monitoring dashboard for the {thing} before escalating to level 2.",
    "> Do not share your one-time codes with anyone, including the service desk.",
    "If none of this helps, raise an incident with a screenshot of the error and the time it happened.",
    "This affects {thing} on managed devices only; personal devices are not supported.",
    "See also the article about {other} for a related fix.",
]  # fmt: skip
DETAILS = [
    "Users usually notice it first thing in the morning.", "It happens on both Windows and macOS.",
    "Some users also see problems with {other}.", "Restarting the device alone does not help.",
    "The error appears again after a few minutes.",
]  # fmt: skip
TITLES = [
    "{Thing} {symptom}", "{Thing} {symptom} {event}", "How to fix: {thing} {symptom}",
    "Troubleshooting {thing}: {symptom}", "{Thing} {symptom} — quick fix", "Why {thing} {symptom}",
]  # fmt: skip


@dataclass
class ArticleText:
    title: str
    summary: str
    keywords: str
    category: str
    body: str
    body_html: str


class ArticleWriter:
    """Writes articles from a seeded generator; renders each distinct block once."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self._html: dict[str, str] = {}
        self.categories = list(SYSTEMS)
        self.all_things = [t for things in SYSTEMS.values() for t in things]

    def _block(self, text: str, *, plain_ok: bool = True) -> str:
        if plain_ok and PLAIN.fullmatch(text):  # a paragraph with nothing for Markdown to do
            return f"<p>{text}</p>"
        html = self._html.get(text)
        if html is None:
            html = self._html[text] = render(text)
        return html

    def _steps(self, steps: list[str]) -> tuple[str, str]:
        """A numbered list's Markdown and HTML; each item rendered once (as a one-item list)."""
        items = [self._block(f"1. {step}", plain_ok=False).removeprefix("<ol>\n").removesuffix("\n</ol>") for step in steps]
        markdown = "\n".join(f"{n}. {step}" for n, step in enumerate(steps, start=1))
        return markdown, "<ol>\n" + "\n".join(items) + "\n</ol>"

    def article(self) -> ArticleText:
        rng = self.rng
        category = rng.choice(self.categories)
        thing = rng.choice(SYSTEMS[category])
        symptom, event = rng.choice(SYMPTOMS), rng.choice(EVENTS)
        title = rng.choice(TITLES).format(
            thing=thing, Thing=thing[0].upper() + thing[1:], symptom=symptom, event=event
        )
        summary = f"What to do when {thing} {symptom} {event}."
        steps, steps_html = self._steps([step.format(thing=thing) for step in rng.sample(STEPS, rng.randint(3, 6))])
        other = rng.choice(self.all_things)
        blocks = [
            "## Symptoms",
            f"{thing[0].upper() + thing[1:]} {symptom} {event}. " + rng.choice(DETAILS).format(other=other),
            "## Cause",
            rng.choice(CAUSES).format(thing=thing),
            "## Resolution",
            steps,
        ]
        if rng.random() < 0.6:
            blocks.append(rng.choice(NOTES).format(thing=thing, other=other))
        keywords = ", ".join(dict.fromkeys([thing, *symptom.split()[-2:], category.lower(), other]))
        return ArticleText(
            title=title[:200], summary=summary[:500], keywords=keywords[:300], category=category,
            body="\n\n".join(blocks),
            body_html="\n".join(steps_html if b is steps else self._block(b) for b in blocks),
        )  # fmt: skip
