"""POSTing a signed hook-up payload: Standard Webhooks v1 headers, one attempt, a verdict."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from datetime import UTC, datetime

import httpx
from standardwebhooks.webhooks import Webhook

from vetgate_notifier.adapters.guarded_http import AddressRefused
from vetgate_notifier.domain.addresses import HookPolicy, refusal_for_url
from vetgate_notifier.domain.verdicts import AttemptResult, Verdict, http_verdict, parse_retry_after

USER_AGENT = "Vetgate-Notifier/1.0"
_MAX_BODY = 64 * 1024  # read (and forget) at most this much of an answer, so the connection is reused


def signature_header(msg_id: str, timestamp: datetime, body: bytes, secrets: Sequence[str]) -> str:
    """``v1,<sig>`` per secret, space-separated: during a rotation receivers accept either one."""
    return " ".join(Webhook(s).sign(msg_id=msg_id, timestamp=timestamp, data=body.decode()) for s in secrets)


class WebhookSender:
    def __init__(self, client: httpx.AsyncClient, policy: HookPolicy, timeout: float) -> None:
        self._client = client
        self._policy = policy
        self._timeout = timeout

    async def send(self, url: str, msg_id: str, body: bytes, secrets: Sequence[str]) -> AttemptResult:
        started = time.perf_counter()

        def result(
            verdict: Verdict, status: int | None = None, error: str | None = None, retry_after: float | None = None
        ) -> AttemptResult:
            latency = int((time.perf_counter() - started) * 1000)
            return AttemptResult(verdict, latency, status_code=status, error=error, retry_after=retry_after)

        refusal = refusal_for_url(url, self._policy)
        if refusal is not None:
            return result(Verdict.PERMANENT, error=refusal)
        timestamp = datetime.now(UTC)
        headers = {
            "content-type": "application/json",
            "user-agent": USER_AGENT,
            "webhook-id": msg_id,
            "webhook-timestamp": str(int(timestamp.timestamp())),
        }
        if secrets:
            headers["webhook-signature"] = signature_header(msg_id, timestamp, body, secrets)
        try:
            async with asyncio.timeout(self._timeout):
                status, retry_after = await self._post(url, body, headers)
        except AddressRefused as exc:
            return result(Verdict.PERMANENT, error=str(exc))
        except (TimeoutError, httpx.TimeoutException):
            return result(Verdict.RETRY, error=f"timed out after {self._timeout:g}s")
        except httpx.TransportError as exc:
            return result(Verdict.RETRY, error=f"{type(exc).__name__}: {exc}"[:300])
        verdict = http_verdict(status)
        error = None if verdict is Verdict.DELIVERED else f"HTTP {status}"
        return result(verdict, status, error, retry_after)

    async def _post(self, url: str, body: bytes, headers: dict[str, str]) -> tuple[int, float | None]:
        async with self._client.stream("POST", url, content=body, headers=headers) as response:
            read = 0
            async for chunk in response.aiter_raw():
                read += len(chunk)
                if read > _MAX_BODY:
                    break
            return response.status_code, parse_retry_after(response.headers.get("retry-after"))
