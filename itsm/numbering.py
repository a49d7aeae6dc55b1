"""Human record numbers (INC0000001, REQ…, PRB…, CHG…, TASK…), never handed out twice.

The counter row is incremented with a single ``UPDATE … SET last = last + 1 … RETURNING last``
inside the creating transaction (one query, no savepoint): the row lock makes concurrent creators
queue behind each other, and a rolled-back creation gives its number back.
"""

import re

from django.db import IntegrityError, connection, transaction

from itsm.models import NumberSequence

DIGITS = 7
# PostgreSQL, and SQLite from 3.35, return the updated row.
_NEXT = f'UPDATE "{NumberSequence._meta.db_table}" SET "last" = "last" + 1 WHERE "prefix" = %s RETURNING "last"'


def next_number(prefix: str) -> str:
    for _attempt in range(3):
        with connection.cursor() as cursor:
            cursor.execute(_NEXT, [prefix])
            found = cursor.fetchone()
        if found is not None:
            return f"{prefix}{found[0]:0{DIGITS}d}"
        try:
            with transaction.atomic():
                NumberSequence.objects.create(prefix=prefix, last=0)
        except IntegrityError:
            pass  # another creator made the row first; increment it on the next pass
    raise RuntimeError(f"Could not allocate a number for {prefix}.")


# A whole record number as someone types it into a search box: letters, then digits.
_NUMBER = re.compile(rf"[A-Za-z]{{2,6}}\d{{{DIGITS},12}}")


def as_record_number(term: str) -> str | None:
    """``term`` as a record number ("inc0000042" → "INC0000042"), or None if it is not one.

    Searching a list for a number is a lookup of one row on the unique index, not a scan of
    every text column of a million records for the letters."""
    term = term.strip()
    return term.upper() if _NUMBER.fullmatch(term) else None
