"""Sending one mail over SMTP (aiosmtplib), with a verdict: 5xx permanent, 4xx and timeouts retried."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from email.message import EmailMessage

import aiosmtplib

from vetgate_notifier.domain.verdicts import AttemptResult, Verdict, smtp_verdict


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int
    starttls: bool = False
    implicit_tls: bool = False
    username: str = ""
    password: str = ""
    timeout: float = 30.0


class SmtpMailer:
    def __init__(self, config: SmtpConfig) -> None:
        self._config = config

    async def send(self, message: EmailMessage) -> AttemptResult:
        started = time.perf_counter()

        def result(verdict: Verdict, reply: str | None = None, error: str | None = None) -> AttemptResult:
            latency = int((time.perf_counter() - started) * 1000)
            return AttemptResult(verdict, latency, smtp_reply=reply, error=error)

        c = self._config
        try:
            # aiosmtplib's timeout is per socket operation; the whole conversation is bounded here.
            async with asyncio.timeout(c.timeout):
                _, reply = await aiosmtplib.send(
                    message,
                    hostname=c.host,
                    port=c.port,
                    # True: STARTTLS or fail (None would be opportunistic, which an attacker can strip).
                    start_tls=c.starttls,
                    use_tls=c.implicit_tls,
                    username=c.username or None,
                    password=c.password or None,
                    timeout=c.timeout,
                )
        except aiosmtplib.SMTPRecipientsRefused as exc:
            worst = max(exc.recipients, key=lambda r: r.code)
            return result(smtp_verdict(worst.code), f"{worst.code} {worst.message}", "recipient refused")
        except aiosmtplib.SMTPResponseException as exc:
            return result(smtp_verdict(exc.code), f"{exc.code} {exc.message}", type(exc).__name__)
        except (TimeoutError, aiosmtplib.SMTPTimeoutError):
            return result(Verdict.RETRY, error=f"timed out after {c.timeout:g}s")
        except (aiosmtplib.SMTPException, OSError) as exc:
            # Refused connections, a server without STARTTLS when it is required, dropped links.
            return result(Verdict.RETRY, error=f"{type(exc).__name__}: {exc}"[:300])
        return result(Verdict.DELIVERED, f"250 {reply}")  # aiosmtplib gives the text of the 250 reply
