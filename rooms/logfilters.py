"""Logging filters that keep invite tokens out of the logs.

Django logs every 4xx and 5xx response with its path (``django.request``:
"Not Found: /i/<token>/"), and the development server logs every request.
An invite link's path is its secret, so the token part of ``/i/<token>/`` is
replaced before any handler writes the line.
"""

from __future__ import annotations

import logging
import re

INVITE_PATH = re.compile(r"/i/[^/\s?#\"']+")
REDACTED = "/i/[token]"


class RedactInviteTokens(logging.Filter):
    """Replace the token of every invite link in a record's message."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "/i/" in message:
            redacted = INVITE_PATH.sub(REDACTED, message)
            if redacted != message:
                record.msg, record.args = redacted, None
        return True
