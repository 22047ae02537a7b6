"""The append-only audit trail of writes that are not journey events (and of sign-ins).

Details name what changed (field names, ids, references), never a child's name or date of
birth, so the trail can be read by auditors without exposing them.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, insert

from services.clock import now_utc
from services.models import AUDIT_LOG as A


def record(
    conn: Connection,
    *,
    actor_id: int | None,
    action: str,
    entity: str,
    entity_id: int | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    """Append one entry, inside the caller's transaction."""
    conn.execute(
        insert(A).values(
            at=now_utc(),
            actor_id=actor_id,
            action=action,
            entity=entity,
            entity_id=entity_id,
            details=details or {},
        )
    )
