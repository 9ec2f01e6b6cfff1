"""The dispatcher: claims due deliveries, attempts many at once, records each attempt and its outcome.

Woken at once when a delivery is added (NOTIFY at commit) and otherwise when the earliest retry is
due, or after ``poll_interval`` at most. Attempts run outside any transaction; their results are
written in batches (group commit), each delivery's status change together with its outcome event
(transactional outbox). Until its result is written a delivery stays leased, so a crash in between
means one more attempt with the same webhook-id, never a lost delivery.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncEngine
from vetgate_platform.logs import get_logger

from vetgate_notifier.adapters.ledger import Claimed, Ledger, Recorded
from vetgate_notifier.domain.schedule import RetrySchedule
from vetgate_notifier.domain.verdicts import AttemptResult, Verdict
from vetgate_notifier.service_layer.attempt import Attempter
from vetgate_notifier.service_layer.outcomes import announce
from vetgate_notifier.service_layer.wakeup import listening

log = get_logger(__name__)
_BATCH = 500


class Dispatcher:
    def __init__(
        self,
        engine: AsyncEngine,
        ledger: Ledger,
        attempter: Attempter,
        schedule: RetrySchedule,
        *,
        concurrency: int = 50,
        lease: float = 120.0,
        poll_interval: float = 1.0,
    ) -> None:
        self._engine = engine
        self._ledger = ledger
        self._attempter = attempter
        self._schedule = schedule
        self._concurrency = concurrency
        self._lease = lease
        self._poll = poll_interval
        self._wakeup = asyncio.Event()
        self._inflight: set[asyncio.Task[None]] = set()
        self._results: asyncio.Queue[Recorded] = asyncio.Queue()

    def wake(self) -> None:
        self._wakeup.set()

    async def run(self) -> None:
        recorder = asyncio.create_task(self._record_forever())
        try:
            async with listening(self._engine, self._ledger.channel, self._wakeup) as listener:
                while not listener.is_closed():
                    self._wakeup.clear()  # before the claim: a commit during it re-arms the event
                    if await self._claim_some():
                        continue
                    await self._sleep()
                raise ConnectionError("the LISTEN connection was lost")  # the host restarts this loop
        finally:
            # Attempts cut short keep their lease; the delivery is taken up again when it ends.
            for task in self._inflight:
                task.cancel()
            await asyncio.gather(*self._inflight, return_exceptions=True)
            recorder.cancel()
            await asyncio.gather(recorder, return_exceptions=True)
            with contextlib.suppress(Exception):
                await asyncio.wait_for(asyncio.shield(self._flush()), 5)

    async def _claim_some(self) -> bool:
        """Claim as many due deliveries as there are free slots; True when the slots were filled."""
        free = self._concurrency - len(self._inflight)
        # Under load, wait for a fifth of the slots to free up: one claim query per batch, not per delivery.
        if free < max(1, self._concurrency // 5) and self._inflight:
            return False
        claimed = await self._ledger.claim(free, self._lease)
        for item in claimed:
            task = asyncio.create_task(self._deliver(item))
            self._inflight.add(task)
            task.add_done_callback(self._finished)
        return len(claimed) == free

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._inflight.discard(task)
        self._wakeup.set()

    async def _sleep(self) -> None:
        timeout = self._poll
        if not self._inflight:  # when busy, finished attempts wake the loop anyway: no query per wake-up
            due_in = await self._ledger.seconds_until_due()
            if due_in is not None:
                timeout = min(timeout, due_in)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wakeup.wait(), timeout)

    async def _deliver(self, claimed: Claimed) -> None:
        attempted_at = datetime.now(UTC)
        try:
            result = await self._attempter.attempt(claimed)
        except Exception as exc:  # a bug must not lose the delivery: count it as a failed attempt
            log.exception("delivery attempt crashed", delivery_id=str(claimed.delivery_id))
            result = AttemptResult(Verdict.RETRY, 0, error=f"internal error: {type(exc).__name__}")
        next_delay = None
        if result.verdict is Verdict.RETRY:
            next_delay = self._schedule.next_delay(claimed.attempt, result.retry_after)
        self._results.put_nowait(Recorded(claimed, result, attempted_at, next_delay))

    async def _record_forever(self) -> None:
        while True:
            # Group commit: what finished while the previous batch was being written goes in one.
            await self._flush(await self._results.get())

    async def _flush(self, first: Recorded | None = None) -> None:
        batch: list[Recorded] = [] if first is None else [first]
        while not self._results.empty() and len(batch) < _BATCH:
            batch.append(self._results.get_nowait())
        if not batch:
            return
        try:
            async with self._engine.begin() as conn:
                changed = await self._ledger.record(conn, batch)
                await announce(conn, changed)
        except Exception:
            # Their leases run out and they are attempted again: at least once, never lost.
            log.exception("could not record delivery attempts", attempts=len(batch))
            return
        transitions = {recorded.claimed.delivery_id: transition for recorded, transition in changed}
        for recorded in batch:
            _log_attempt(recorded, transitions.get(recorded.claimed.delivery_id))


def _log_attempt(recorded: Recorded, transition: str | None) -> None:
    claimed, result = recorded.claimed, recorded.result
    log.info(
        "delivery attempt",
        delivery_id=str(claimed.delivery_id),
        provet_id=claimed.credentials.provet_id,
        channel=claimed.credentials.delivery.kind,
        attempt=claimed.attempt,
        generation=claimed.generation,
        verdict=result.verdict.value,
        status_code=result.status_code,
        smtp_reply=result.smtp_reply,
        latency_ms=result.latency_ms,
        error=result.error,
        outcome=transition,
    )
