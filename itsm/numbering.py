"""Human record numbers (INC0000001, REQ…, PRB…, CHG…, TASK…), never handed out twice.

The counter row is incremented with a single ``UPDATE … SET last = last + 1`` inside the
creating transaction: the row lock makes concurrent creators queue behind each other, and a
rolled-back creation gives its number back.
"""

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
