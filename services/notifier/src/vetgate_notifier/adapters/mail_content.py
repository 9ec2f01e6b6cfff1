"""The mails the notifier writes: plain text and HTML from one template pair each, deterministic ids."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

_HTML = Environment(
    loader=PackageLoader("vetgate_notifier.adapters", "mail_templates"),
    autoescape=select_autoescape(["html"], default=True),
    undefined=StrictUndefined,
)
_TEXT = Environment(
    loader=PackageLoader("vetgate_notifier.adapters", "mail_templates"),
    autoescape=False,
    undefined=StrictUndefined,
    keep_trailing_newline=True,
)


@dataclass(frozen=True)
class Mail:
    to: str
    subject: str
    template: str
    """``<template>.txt`` and ``<template>.html`` in mail_templates/."""
    message_key: str
    """Makes the Message-ID: the same key gives the same id, so a retried mail is recognisably one mail."""
    context: dict[str, Any]


def message_id(key: str, mail_from: str) -> str:
    domain = parseaddr(mail_from)[1].rpartition("@")[2] or "vetgate.local"
    return f"<{key}@{domain}>"


def render(mail: Mail, mail_from: str, now: datetime) -> EmailMessage:
    message = EmailMessage()
    message["From"] = mail_from
    message["To"] = Address(addr_spec=mail.to)
    message["Subject"] = mail.subject
    message["Date"] = format_datetime(now)
    message["Message-ID"] = message_id(mail.message_key, mail_from)
    message["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation replies to a robot
    message.set_content(_TEXT.get_template(f"{mail.template}.txt").render(**mail.context))
    message.add_alternative(_HTML.get_template(f"{mail.template}.html").render(**mail.context), subtype="html")
    return message
