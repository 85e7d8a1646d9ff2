"""Service ``error`` events that are part of normal operation, each recognised by one rule.

Most errors name the client event they answer in ``error.event_id``. One the console meets in
ordinary use does not: a ``conversation.item.truncate`` past the end of the reply's audio (the
listener's clock ran ahead of the audio the service made) is answered with ``event_id: null``,
code ``invalid_value`` and the sentence below, and the service then applies the truncate anyway,
at the end of the audio (``conversation.item.truncated`` follows). It can only be recognised by
its sentence, so that is what ``is_truncate_past_end`` matches; a waiter attributing an
unnamed error by elimination must not take it for the answer to its own event.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

ACTIVE_RESPONSE = "conversation_already_has_active_response"
"""``response.create`` while a response is in progress: refused, the active one goes on."""

NOT_MODEL_AUDIO = "Only model output audio messages can be truncated"
"""The service's answer to a truncate of anything but a reply's audio, or at 0 ms."""

_PAST_END = re.compile(r"Audio content of \d+ms is already shorter than \d+ms")


def is_truncate_past_end(error: Mapping[str, Any]) -> bool:
    """The service's answer to a truncate past the end of the audio (which it then applies)."""
    message = error.get("message")
    return isinstance(message, str) and _PAST_END.match(message) is not None
