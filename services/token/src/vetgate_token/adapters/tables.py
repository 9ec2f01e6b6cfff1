"""The token service's tables (its own schema; the search_path picks it)."""

from __future__ import annotations

from sqlalchemy import (
    ARRAY,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Integer,
    LargeBinary,
    MetaData,
    Table,
    Text,
    func,
)
from sqlalchemy.dialects.postgresql import UUID

metadata = MetaData()

# The registry of OAuth clients: a read model fed by provisioning's events (plus first-party seeds).
clients = Table(
    "clients",
    metadata,
    Column("client_id", Text, primary_key=True),
    Column("provet_id", Integer, nullable=False),
    Column("name", Text, nullable=False),
    Column("client_type", Text, nullable=False),
    Column("grant_types", ARRAY(Text), nullable=False),
    Column("redirect_uris", ARRAY(Text), nullable=False),
    Column("subject", Text, nullable=False, comment="virtual user id, or the client id itself"),
    Column("permissions", ARRAY(Text), nullable=False),
    Column("roles", ARRAY(Text), nullable=False),
    Column("active", Boolean, nullable=False),
    Column("activation_id", UUID(as_uuid=False)),
    # Unix second of the latest revocation watermark: new tokens get an iat at least this, so the
    # watermark (iat < it) catches every older token and none of the newer ones.
    Column("tokens_issued_from", BigInteger, nullable=False, server_default="0"),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

# Several secrets per client during a rotation overlap; each valid until its own instant.
client_secrets = Table(
    "client_secrets",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("client_id", Text, ForeignKey("clients.client_id", ondelete="CASCADE"), nullable=False, index=True),
    Column("secret_hash", Text, nullable=False, comment="HMAC-SHA256(pepper, sha256:<hex>)"),
    Column("valid_until", DateTime(timezone=True)),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

signing_keys = Table(
    "signing_keys",
    metadata,
    Column("kid", Text, primary_key=True),
    Column("algorithm", Text, nullable=False),
    Column("private_jwk_encrypted", LargeBinary, nullable=False, comment="AES-256-GCM, nonce || ciphertext"),
    Column("public_jwk", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("retired_at", DateTime(timezone=True), comment="no longer signs; published until its tokens expire"),
)

# Revoked access tokens (by jti) and revocation watermarks (every token of a client issued before).
revocations = Table(
    "revocations",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("jti", Text, unique=True),
    Column("client_id", Text, index=True),
    Column("issued_before", DateTime(timezone=True)),
    Column("reason", Text, nullable=False),
    Column("revoked_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("relevant_until", DateTime(timezone=True), nullable=False),
)
