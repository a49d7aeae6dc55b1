"""Human record numbers (INC0000001, REQ…, PRB…, CHG…, TASK…), never handed out twice.

The counter row is incremented with a single ``UPDATE … SET last = last + 1`` inside the
creating transaction: the row lock makes concurrent creators queue behind each other, and a
rolled-back creation gives its number back.
"""

import re

from django.db import IntegrityError, transaction
from django.db.models import F

from itsm.models import NumberSequence

DIGITS = 7


@transaction.atomic
def next_number(prefix: str) -> str:
    for _attempt in range(3):
        if NumberSequence.objects.filter(prefix=prefix).update(last=F("last") + 1):
            last = NumberSequence.objects.values_list("last", flat=True).get(prefix=prefix)
            return f"{prefix}{last:0{DIGITS}d}"
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
