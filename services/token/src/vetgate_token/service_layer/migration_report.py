"""Who still uses legacy keys: per tenant and integration, so support can chase the owners who have not moved.

"Already on OAuth" means the tenant has an active installation of an integration of the same name: the
token service knows installations from ClientProvisioned (its client registry names them
``Integration <name>``), so no other service's tables are read.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from vetgate_token.domain.api_keys import Environment

_REPORT = text(
    """
    SELECT k.provet_id, k.environment, k.integration,
           count(*) FILTER (WHERE k.revoked_at IS NULL) AS active_keys,
           count(*) AS keys,
           max(k.last_used_at) AS last_used_at,
           sum(k.use_count)::bigint AS uses,
           coalesce(array_agg(DISTINCT k.owner_email) FILTER (WHERE k.owner_email IS NOT NULL), '{}') AS owners,
           (SELECT count(*) FROM clients c
             WHERE c.provet_id = k.provet_id AND c.active AND c.activation_id IS NOT NULL
               AND lower(c.name) = lower('Integration ' || k.integration)) AS oauth_installations
      FROM api_keys k
     WHERE CAST(:environment AS text) IS NULL OR k.environment = :environment
     GROUP BY k.provet_id, k.environment, k.integration
    HAVING NOT :active_only OR count(*) FILTER (WHERE k.revoked_at IS NULL) > 0
     ORDER BY active_keys DESC, last_used_at DESC NULLS LAST, k.provet_id, k.integration NULLS LAST
    """
)


async def migration_report(
    engine: AsyncEngine, *, environment: Environment | None = None, active_only: bool = False
) -> list[dict[str, Any]]:
    async with engine.connect() as conn:
        rows = await conn.execute(_REPORT, {"environment": environment, "active_only": active_only})
        return [{**row._mapping, "owners": sorted(row.owners), "migrated": row.oauth_installations > 0} for row in rows]
