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
    UniqueConstraint,
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

# People of a tenant who log in at the authorize endpoint (authorization_code); argon2 password hashes.
people = Table(
    "people",
    metadata,
    Column("person_id", UUID(as_uuid=False), primary_key=True),
    Column("provet_id", Integer, nullable=False),
    Column("username", Text, nullable=False),
    Column("password_hash", Text, nullable=False, comment="argon2id"),
    Column("permissions", ARRAY(Text), nullable=False),
    Column("active", Boolean, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    UniqueConstraint("provet_id", "username", name="people_tenant_username"),
)

# Authorization codes (RFC 6749 §4.1.2), stored as SHA-256; kept after use so a replay is recognised.
authorization_codes = Table(
    "authorization_codes",
    metadata,
    Column("code_hash", Text, primary_key=True),
    Column("client_id", Text, nullable=False),
    Column("provet_id", Integer, nullable=False),
    Column("person_id", UUID(as_uuid=False), nullable=False),
    Column("redirect_uri", Text, nullable=False),
    Column("scope", Text, nullable=False),
    Column("code_challenge", Text),
    Column("code_challenge_method", Text),
    Column("nonce", Text),
    Column("auth_time", BigInteger, nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("used_at", DateTime(timezone=True)),
    Column("access_jti", Text, comment="the access token issued from this code"),
    Column("access_exp", BigInteger),
    Column("family_id", UUID(as_uuid=False), comment="the refresh-token family started by this code"),
)

# Refresh tokens (RFC 6749 §6), stored as SHA-256; rotated on use, one family per authorization.
refresh_tokens = Table(
    "refresh_tokens",
    metadata,
    Column("token_hash", Text, primary_key=True),
    Column("family_id", UUID(as_uuid=False), nullable=False, index=True),
    Column("client_id", Text, nullable=False),
    Column("provet_id", Integer, nullable=False),
    Column("person_id", UUID(as_uuid=False), nullable=False),
    Column("scope", Text, nullable=False),
    Column("auth_time", BigInteger, nullable=False),
    Column("access_jti", Text, nullable=False, comment="the access token issued with this refresh token"),
    Column("access_exp", BigInteger, nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("rotated_at", DateTime(timezone=True)),
    Column("revoked_at", DateTime(timezone=True)),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)
