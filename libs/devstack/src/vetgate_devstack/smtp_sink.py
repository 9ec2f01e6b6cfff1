"""The dev stack's SMTP sink: accepts every mail and keeps it as one ``.eml`` file in the mailbox."""

from __future__ import annotations

import time
import uuid
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session


class MailboxHandler:
    def __init__(self, mailbox: Path) -> None:
        self.mailbox = mailbox
        mailbox.mkdir(parents=True, exist_ok=True)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.original_content or b""
        name = f"{time.strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:12]}.eml"
        tmp = self.mailbox / f".{name}.tmp"
        # Envelope sender and recipients are not in the message itself; keep them as headers.
        prefix = f"X-Envelope-From: {envelope.mail_from}\r\nX-Envelope-To: {', '.join(envelope.rcpt_tos)}\r\n"
        tmp.write_bytes(prefix.encode() + content)
        tmp.rename(self.mailbox / name)  # whole files only: readers never see half a mail
        return "250 Message accepted for delivery"


def start_smtp_sink(mailbox: Path, host: str = "127.0.0.1", port: int = 1025) -> Controller:
    """Start the sink on its own thread; call ``.stop()`` on the result to shut it down."""
    controller = Controller(MailboxHandler(mailbox), hostname=host, port=port, ident="vetgate-smtp-sink")
    controller.start()
    return controller
