"""An e-mail backend for the scale-out run (``bench/scale_out.py``): each message is written to
its own file in ``SCALE_MAIL_DIR``, so several processes sending at once never share a file and
the run can count every message and find any sent twice.

Django's file backend names its file by the second and the backend object's address, which two
forked processes can share; this one names each file by a random UUID.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

from django.core.mail.backends.base import BaseEmailBackend


class EmailBackend(BaseEmailBackend):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.directory = Path(os.environ["SCALE_MAIL_DIR"])

    def send_messages(self, email_messages):
        sent = 0
        for message in email_messages:
            path = self.directory / f"{uuid.uuid4().hex}.eml"
            path.write_bytes(message.message().as_bytes())
            sent += 1
        return sent
