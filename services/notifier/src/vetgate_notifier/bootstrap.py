"""Composition root of the notifier service: everything is wired here, by hand."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from pathlib import Path

from vetgate_authz import ResourceServer
from vetgate_authz.fastapi import install_auth_errors
from vetgate_messaging.host import ServiceHost

from vetgate_notifier.adapters.delivery_log import DeliveryLog
from vetgate_notifier.adapters.guarded_http import guarded_client
from vetgate_notifier.adapters.ledger import Ledger
from vetgate_notifier.adapters.mailer import SmtpConfig, SmtpMailer
from vetgate_notifier.adapters.webhook_sender import WebhookSender
from vetgate_notifier.config import NotifierSettings
from vetgate_notifier.domain.addresses import HookPolicy
from vetgate_notifier.domain.schedule import RetrySchedule
from vetgate_notifier.entrypoints import deliveries_api, reveal_pages
from vetgate_notifier.service_layer.attempt import Attempter
from vetgate_notifier.service_layer.dispatcher import Dispatcher
from vetgate_notifier.service_layer.intake import Intake
from vetgate_notifier.service_layer.key_notices import KeyNotices
from vetgate_notifier.service_layer.reveal_links import RevealLinks
from vetgate_notifier.service_layer.sealed import SecretOpener

MIGRATIONS = Path(__file__).parent / "adapters" / "migrations" / "versions"


def bootstrap(settings: NotifierSettings | None = None) -> ServiceHost:
    settings = settings or NotifierSettings()
    host = ServiceHost(settings, MIGRATIONS)
    opener = SecretOpener(settings.keyring())
    schedule = RetrySchedule(settings.retry_schedule, settings.retry_jitter)
    policy = HookPolicy(allow_loopback=settings.hooks_may_use_loopback)
    http = guarded_client(policy, settings.hook_timeout, max_connections=max(settings.concurrency, 10))
    mailer = SmtpMailer(
        SmtpConfig(
            host=settings.smtp_host,
            port=settings.smtp_port,
            starttls=settings.smtp_starttls,
            implicit_tls=settings.smtp_implicit_tls,
            username=settings.smtp_username,
            password=settings.smtp_password,
            timeout=settings.smtp_timeout,
        )
    )
    ledger = Ledger(host.engine, settings.schema_name)
    links = RevealLinks(host.engine, settings.base_url, timedelta(seconds=settings.reveal_ttl), opener)
    attempter = Attempter(opener, WebhookSender(http, policy, settings.hook_timeout), mailer, links, settings.mail_from)
    dispatcher = Dispatcher(
        host.engine,
        ledger,
        attempter,
        schedule,
        concurrency=settings.concurrency,
        lease=settings.claim_lease,
        poll_interval=settings.poll_interval,
    )
    notices = KeyNotices(
        host.engine, mailer, schedule, settings.mail_from, min(settings.poll_interval, settings.key_notice_quiet)
    )
    Intake(ledger, schedule, settings.key_notice_quiet).register(host.consumer)

    rs = ResourceServer.for_settings(settings)
    host.routers += [
        deliveries_api.build_router(host.engine, ledger, DeliveryLog(host.engine), rs.authorizer),
        reveal_pages.build_router(links),
    ]
    host.app_setup.append(install_auth_errors)

    async def close_http_at_shutdown() -> None:
        try:
            await asyncio.Event().wait()
        finally:
            await http.aclose()

    # httpx logs every request's URL at INFO; a hook URL may carry the owner's own token.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    host.background += [dispatcher.run, notices.run, *rs.background(), close_http_at_shutdown]
    host.components.update(dispatcher=dispatcher, ledger=ledger, key_notices=notices, http=http)
    return host
