"""The signed-in user read with the role codes it holds, in one query (``UserBackend``,
``with_held_roles``): every page and API call asks the policy, and the policy asks for the
user's roles, so reading them with the user row saves a query on each.

Sessions remember the dotted path of the backend that signed the user in, and Django only
answers a session whose path is still listed in ``AUTHENTICATION_BACKENDS``. ``UserBackend``
replaces Django's ``ModelBackend`` there (both listed would check a wrong password twice), and
``adopt_model_backend_session`` moves a session Django's backend signed in over to it, so the
upgrade signs nobody out.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY
from django.contrib.auth.backends import ModelBackend
from django.db.models import F, Func, TextField

from itsm.models import User, UserRole
from itsm.roles import remember_roles

MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"
USER_BACKEND = "itsm.auth.UserBackend"
HELD_ROLES = "held_role_codes"


class HeldRoles(Func):
    """The role codes held by the user whose id ``expression`` is, comma-separated (NULL for
    none): a correlated subquery on the grants' ``user_id`` index, aggregated with
    ``STRING_AGG`` on PostgreSQL and ``GROUP_CONCAT`` on SQLite. Written as SQL rather than a
    ``Subquery`` of a grouped queryset, which took Django as long to compile as the query it
    saves took to run. The comma is a literal, not a parameter PostgreSQL would have to type;
    role codes hold none."""

    function = "STRING_AGG"
    output_field = TextField()

    def as_sql(self, compiler, connection, function=None, template=None, **extra_context):
        qn = connection.ops.quote_name
        table, field = UserRole._meta.db_table, UserRole._meta.get_field
        user, role = field("user").column, field("role").column
        template = (
            f"(SELECT %(function)s(held.{qn(role)}, ',') FROM {qn(table)} held"
            f" WHERE held.{qn(user)} = %(expressions)s)"
        )
        return super().as_sql(compiler, connection, function=function, template=template, **extra_context)

    def as_sqlite(self, compiler, connection, **extra_context):
        return self.as_sql(compiler, connection, function="GROUP_CONCAT", **extra_context)


def with_held_roles(queryset, user_id: str = "pk"):
    """``queryset`` with the role codes of each row's user (whose id is the field ``user_id``)
    read in the same SELECT, for ``take_held_roles``."""
    return queryset.annotate(**{HELD_ROLES: HeldRoles(F(user_id))})


def take_held_roles(row, user) -> None:
    """Caches on ``user`` the effective roles of the codes ``with_held_roles`` read on ``row``."""
    codes = row.__dict__.pop(HELD_ROLES, None)
    remember_roles(user, codes.split(",") if codes else ())


class UserBackend(ModelBackend):
    """Django's ``ModelBackend`` whose ``get_user`` reads the user's roles with the user row."""

    def get_user(self, user_id):
        try:
            user = with_held_roles(User._default_manager.all()).get(pk=user_id)
        except User.DoesNotExist:
            return None
        return self._signed_in(user)

    async def aget_user(self, user_id):
        try:
            user = await with_held_roles(User._default_manager.all()).aget(pk=user_id)
        except User.DoesNotExist:
            return None
        return self._signed_in(user)

    def _signed_in(self, user):
        if not self.user_can_authenticate(user):
            return None
        take_held_roles(user, user)
        return user


def adopt_model_backend_session(request) -> None:
    """A session Django's ``ModelBackend`` signed in is answered by ``UserBackend`` from now on.

    It is the same check of the same user row (``UserBackend`` only adds the roles), and the
    path is only ever written by Django at sign-in, so the session is rewritten once (one
    ``UPDATE`` of its row) rather than its user signed out. Nothing changes while the settings
    still list ``ModelBackend`` or do not list ``UserBackend``."""
    backends = settings.AUTHENTICATION_BACKENDS
    if MODEL_BACKEND in backends or USER_BACKEND not in backends:
        return
    session = getattr(request, "session", None)
    if session is not None and session.get(BACKEND_SESSION_KEY) == MODEL_BACKEND:
        session[BACKEND_SESSION_KEY] = USER_BACKEND
