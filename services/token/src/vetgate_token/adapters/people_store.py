"""People of each tenant, with argon2 password hashes (field-notes: people's passwords are argon2)."""

from __future__ import annotations

from dataclasses import dataclass, field

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from vetgate_token.adapters.tables import people
from vetgate_token.domain.grants import Person


@dataclass
class PeopleStore:
    hasher: PasswordHasher = field(default_factory=PasswordHasher)

    def __post_init__(self) -> None:
        # Checked against when the username is unknown, so timing does not reveal who exists.
        self._dummy = self.hasher.hash("not a password of anyone")

    async def get(self, conn: AsyncConnection, person_id: str) -> Person | None:
        row = (await conn.execute(select(people).where(people.c.person_id == person_id))).first()
        return _person(row) if row is not None else None

    async def authenticate(self, conn: AsyncConnection, provet_id: int, username: str, password: str) -> Person | None:
        """The active person of *this* tenant with that username and password, else None."""
        query = select(people).where(people.c.provet_id == provet_id, people.c.username == username)
        row = (await conn.execute(query)).first()
        try:
            self.hasher.verify(row.password_hash if row is not None else self._dummy, password)
        except (VerificationError, InvalidHashError):
            return None
        if row is None or not row.active:
            return None
        return _person(row)

    async def upsert(self, conn: AsyncConnection, person: Person, password: str) -> None:
        current = await conn.execute(select(people.c.password_hash).where(people.c.person_id == person.person_id))
        stored = current.scalar()
        if stored is not None and self._still_valid(stored, password):
            password_hash = stored  # a restart does not re-hash (argon2 is slow on purpose)
        else:
            password_hash = self.hasher.hash(password)
        values = {
            "person_id": person.person_id,
            "provet_id": person.provet_id,
            "username": person.username,
            "password_hash": password_hash,
            "permissions": list(person.permissions),
            "active": person.active,
        }
        stmt = insert(people).values(**values)
        await conn.execute(stmt.on_conflict_do_update(index_elements=[people.c.person_id], set_=values))

    def _still_valid(self, stored: str, password: str) -> bool:
        try:
            return self.hasher.verify(stored, password) and not self.hasher.check_needs_rehash(stored)
        except (VerificationError, InvalidHashError):
            return False


def _person(row: Row[tuple[object, ...]]) -> Person:
    return Person(
        person_id=str(row.person_id),
        provet_id=int(row.provet_id),
        username=str(row.username),
        permissions=tuple(row.permissions),
        active=bool(row.active),
    )
