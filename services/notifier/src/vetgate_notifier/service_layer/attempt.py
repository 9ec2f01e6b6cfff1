"""One attempt at one credential delivery: open what is sealed, build the message, send it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from vetgate_events.common import EmailDelivery, HookDelivery
from vetgate_events.token import CredentialsIssued
from vetgate_platform.sealing import SealingError

from vetgate_notifier.adapters.ledger import Claimed
from vetgate_notifier.adapters.mail_content import Mail, render
from vetgate_notifier.adapters.mailer import SmtpMailer
from vetgate_notifier.adapters.webhook_sender import WebhookSender
from vetgate_notifier.domain.payload import hookup_payload, payload_bytes, webhook_id
from vetgate_notifier.domain.verdicts import AttemptResult, Verdict
from vetgate_notifier.service_layer.reveal_links import RevealLinks
from vetgate_notifier.service_layer.sealed import SecretOpener

UNSEALABLE = "a sealed secret does not open here (sealed to another key or binding): redeliver once fixed"


@dataclass
class Attempter:
    opener: SecretOpener
    hooks: WebhookSender
    mailer: SmtpMailer
    reveal: RevealLinks
    mail_from: str

    async def attempt(self, claimed: Claimed) -> AttemptResult:
        issued = claimed.credentials
        try:
            if isinstance(issued.delivery, HookDelivery):
                return await self._post(issued, issued.delivery)
            return await self._mail(claimed, issued.delivery)
        except SealingError:
            return AttemptResult(Verdict.PERMANENT, 0, error=UNSEALABLE)

    async def _post(self, issued: CredentialsIssued, hook: HookDelivery) -> AttemptResult:
        signing = self.opener.signing_secrets(issued)
        body = payload_bytes(hookup_payload(issued, self.opener.client_secret(issued)))
        return await self.hooks.send(hook.url, webhook_id(issued.delivery_id), body, signing)

    async def _mail(self, claimed: Claimed, email: EmailDelivery) -> AttemptResult:
        issued = claimed.credentials
        secret = self.opener.client_secret(issued) if email.secret_in_body else None
        reveal_url, reveal_expires = None, None
        if issued.sealed_secret is not None and not email.secret_in_body:
            self.opener.client_secret(issued)  # a link to a secret that cannot be opened would be a dud
            reveal_url, expires_at = await self.reveal.issue(issued.delivery_id, claimed.generation)
            reveal_expires = expires_at.strftime("%Y-%m-%d %H:%M UTC")
        mail = Mail(
            to=email.address,
            subject=f"{issued.integration_name}: OAuth credentials for tenant {issued.provet_id}",
            template="credentials",
            message_key=f"delivery-{issued.delivery_id}.{claimed.generation}",
            context={
                "provet_id": issued.provet_id,
                "integration_name": issued.integration_name,
                "client_id": issued.client_id,
                "grant_type": issued.grant_type,
                "client_type": issued.client_type,
                "redirect_uris": issued.redirect_uris,
                "token_url": issued.token_url,
                "authorize_url": issued.authorize_url,
                "openid_autodiscovery_url": issued.openid_autodiscovery_url,
                "owner_name": email.owner_name,
                "secret": secret,
                "reveal_url": reveal_url,
                "reveal_expires": reveal_expires,
            },
        )
        return await self.mailer.send(render(mail, self.mail_from, datetime.now(UTC)))
