"""Revoked access tokens, kept in memory from the ``token.revocations.v1`` stream (ADR 0006).

A ``TokenRevoked`` event names one ``jti``, or sets a watermark: every token of a ``client_id``, of a
``subject``, or of that subject through that client (both given) whose ``iat`` is earlier than
``issued_before``. An entry is forgotten after ``relevant_until``: every token it covers has expired by then.

Each resource-server *process* needs every revocation, so its consumer group must be its own
(:func:`revocation_group`): in a shared group each process would see only some partitions. A new group
starts at the beginning of the topic's retention (``EventConsumer`` uses ``auto_offset_reset="earliest"``),
so the topic must retain at least one token lifetime (10 h by default) for a restarted process to rebuild
the list. Applying an event twice is harmless.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from vetgate_events.token import TokenRevoked

from vetgate_authz.model import AccessToken

# (provet_id, client_id, subject): subjects are only unique within a tenant, so watermarks are per tenant.
WatermarkKey = tuple[int, str | None, str | None]


class RevocationList:
    def __init__(self, *, clock: Callable[[], float] = time.time, prune_interval: float = 60.0) -> None:
        self._clock = clock
        self._prune_interval = prune_interval
        self._last_prune = clock()
        self._jtis: dict[str, float] = {}  # jti → relevant_until
        self._watermarks: dict[WatermarkKey, tuple[float, float]] = {}  # → (issued_before, relevant_until)

    def __len__(self) -> int:
        return len(self._jtis) + len(self._watermarks)

    def apply(self, event: TokenRevoked) -> None:
        now = self._clock()
        until = event.relevant_until.timestamp()
        if now - self._last_prune >= self._prune_interval:
            self.prune()
        if until <= now:
            return  # already irrelevant: e.g. while catching up from the start of retention
        if event.jti is not None:
            self._jtis[event.jti] = max(until, self._jtis.get(event.jti, until))
        if event.issued_before is not None and (event.client_id is not None or event.subject is not None):
            key = (event.provet_id, event.client_id, event.subject)
            before = event.issued_before.timestamp()
            old_before, old_until = self._watermarks.get(key, (before, until))
            # Later watermarks of the same key only ever widen what is refused.
            self._watermarks[key] = (max(before, old_before), max(until, old_until))

    def is_revoked(self, token: AccessToken) -> bool:
        now = self._clock()
        if token.jti is not None and self._jtis.get(token.jti, 0.0) > now:
            return True
        if token.iat is None or not self._watermarks:
            return False
        iat = token.iat
        for key in (
            (token.provet_id, token.client_id, None),
            (token.provet_id, None, token.subject),
            (token.provet_id, token.client_id, token.subject),
        ):
            entry = self._watermarks.get(key)
            if entry is not None and iat < entry[0] and entry[1] > now:
                return True
        return False

    def prune(self) -> None:
        """Forget entries past their ``relevant_until`` (also done as events arrive)."""
        now = self._last_prune = self._clock()
        self._jtis = {jti: until for jti, until in self._jtis.items() if until > now}
        self._watermarks = {key: entry for key, entry in self._watermarks.items() if entry[1] > now}
