"""The token endpoint for people's grants: preload for Authlib, then persist what it issued.

RFC 6749 §4.1.2 and RFC 9700 §4.2.1 / §4.14.2: a code or a rotated refresh token presented twice means
someone else may hold it, so everything issued from it is revoked: the refresh-token family, and the
access tokens it produced (by jti, announced on the TokenRevoked stream).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from vetgate_token.adapters import grant_store
from vetgate_token.adapters.people_store import PeopleStore
from vetgate_token.domain.clients import RegisteredClient
from vetgate_token.domain.grants import REFRESH_LIFETIME, IssuedCode, RefreshToken, digest
from vetgate_token.service_layer.access_tokens import revoke_token
from vetgate_token.service_layer.authorization_server import GrantCall, TokenResponse, VetgateAuthorizationServer
from vetgate_token.service_layer.revocation_cache import RevocationCache

PERSON_GRANTS = frozenset({"authorization_code", "refresh_token"})


def invalid_grant(description: str) -> TokenResponse:
    return TokenResponse(400, {"error": "invalid_grant", "error_description": description}, [])


@dataclass
class PersonTokens:
    engine: AsyncEngine
    server: VetgateAuthorizationServer
    people: PeopleStore
    revocations: RevocationCache

    async def exchange(
        self, uri: str, headers: Mapping[str, str], form: Mapping[str, str], client: RegisteredClient | None
    ) -> TokenResponse:
        call = GrantCall(client)
        async with self.engine.connect() as conn:
            if form.get("code"):
                call.code = await grant_store.find_code(conn, digest(form["code"]))
            if form.get("refresh_token"):
                call.refresh = await grant_store.find_refresh(conn, digest(form["refresh_token"]))
            held = call.code or call.refresh
            call.person = await self.people.get(conn, held.person_id) if held else None
        result = self.server.token_response("POST", uri, headers, form, call)
        if result.status != 200:
            if result.body.get("error") == "invalid_grant":  # the client authenticated: Authlib checks that first
                await self._revoke_if_replayed(call)
            return result
        async with self.engine.begin() as conn:
            stored = await self._store(conn, call)
        if not stored:  # a concurrent request used the same code or refresh token first
            await self._revoke_if_replayed(call, raced=True)
            return invalid_grant("The grant has already been used")
        return result

    async def _store(self, conn: AsyncConnection, call: GrantCall) -> bool:
        claims = call.access_claims
        assert claims is not None and call.person is not None and call.client is not None
        jti, exp = str(claims["jti"]), int(claims["exp"])
        if call.code is not None:
            family = str(uuid.uuid4()) if call.refresh_token else None
            if not await grant_store.consume_code(conn, call.code.code_hash, call.now, jti, exp, family):
                return False
            scope, auth_time = call.code.scope, call.code.auth_time
        elif call.refresh is not None:
            if not await grant_store.rotate_refresh(conn, call.refresh.token_hash, call.now):
                return False
            family, scope, auth_time = call.refresh.family_id, claims["scope"], call.refresh.auth_time
        else:
            return False
        if call.refresh_token and family:
            successor = RefreshToken(
                token_hash=digest(call.refresh_token),
                family_id=family,
                client_id=call.client.client_id,
                provet_id=call.client.provet_id,
                person_id=call.person.person_id,
                scope=scope,
                auth_time=auth_time,
                expires_at=call.now + REFRESH_LIFETIME,  # sliding: counted from this access token
            )
            await grant_store.save_refresh(conn, successor, jti, exp)
        return True

    async def _revoke_if_replayed(self, call: GrantCall, raced: bool = False) -> None:
        held = call.code or call.refresh
        if held is None or call.client is None or held.client_id != call.client.client_id:
            return  # only the client the grant belongs to can replay it
        async with self.engine.begin() as conn:
            if call.code is not None:
                code = await grant_store.find_code(conn, call.code.code_hash) if raced else call.code
                if code is not None and code.used_at is not None:
                    await self._revoke_code(conn, code, call.now)
            elif call.refresh is not None:
                token = call.refresh
                if raced or token.rotated_at is not None or token.revoked_at is not None:
                    await self._revoke_family(conn, token.family_id, token, call.now)

    async def _revoke_code(self, conn: AsyncConnection, code: IssuedCode, now: datetime) -> None:
        # RFC 6749 §4.1.2: a reused code revokes the tokens issued from it.
        if code.access_jti and code.access_exp:
            await self._revoke_access(conn, code.access_jti, code.access_exp, code, "authorization code reused")
        if code.family_id:
            await self._revoke_family(conn, code.family_id, code, now)

    async def _revoke_family(
        self, conn: AsyncConnection, family_id: str, origin: IssuedCode | RefreshToken, now: datetime
    ) -> None:
        # RFC 9700 §4.14.2: reuse of a rotated refresh token invalidates the whole family.
        for jti, exp in await grant_store.revoke_family(conn, family_id, now):
            await self._revoke_access(conn, jti, exp, origin, "refresh token reused")

    async def _revoke_access(
        self, conn: AsyncConnection, jti: str, exp: int, origin: IssuedCode | RefreshToken, reason: str
    ) -> None:
        claims = {"jti": jti, "exp": exp, "client_id": origin.client_id, "provet_id": origin.provet_id}
        await revoke_token(conn, claims, reason, self.revocations)
