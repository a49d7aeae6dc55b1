from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from itsm import access
from itsm.roles import ALL_ROLES, PERSONAS, effective_roles


class Command(BaseCommand):
    help = "Grant (or revoke) roles or a persona bundle to a user, and print the effective roles."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("roles", nargs="*", help=f"Roles: {', '.join(sorted(ALL_ROLES))}")
        parser.add_argument("--persona", choices=sorted(PERSONAS), help="Grant a persona's roles.")
        parser.add_argument("--revoke", action="store_true", help="Revoke the named roles instead.")

    def handle(self, *args, username, roles, persona, revoke, **options):
        try:
            user = get_user_model().objects.get(username=username)
        except get_user_model().DoesNotExist:
            raise CommandError(f"No user named {username!r}.") from None
        if not roles and not persona:
            raise CommandError("Name at least one role, or --persona.")
        try:
            if revoke:
                changed = access.roles_revoke(user=user, roles=roles)
                self.stdout.write(f"Revoked: {', '.join(changed) or 'nothing (not held)'}")
            else:
                changed = access.roles_grant(user=user, roles=roles)
                if persona:
                    changed += access.persona_grant(user=user, persona=persona)
                self.stdout.write(f"Granted: {', '.join(changed) or 'nothing new'}")
        except access.UnknownRole as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"{username} now holds: {', '.join(sorted(effective_roles(user)))}")
