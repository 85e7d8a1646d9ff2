"""Ids in the service's style: ``event_…``, ``item_…``, ``resp_…``, ``sess_…``, ``conv_…``."""

from __future__ import annotations

import random
import string

_ALPHABET = string.ascii_letters + string.digits
# The service's ids carry 21 base-62 characters after the prefix: 125 bits, so random ids never
# collide in practice and no registry of issued ids (which would grow with the session) is kept.
_SUFFIX_LENGTH = 21


class IdFactory:
    """Makes prefixed ids; pass a seeded ``random.Random`` for reproducible ids in tests."""

    def __init__(self, rng: random.Random | None = None) -> None:
        self._rng = rng if rng is not None else random.SystemRandom()

    def new(self, prefix: str) -> str:
        return f"{prefix}_" + "".join(self._rng.choices(_ALPHABET, k=_SUFFIX_LENGTH))
