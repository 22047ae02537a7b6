"""The journey history's tamper-evident chain: one chain per journey.

Each ``journey_event`` row written since revision 0024 carries ``row_hash``, a SHA-256 over
its content and ``prev_hash`` (the ``row_hash`` of the same journey's event before it; empty
for the journey's first). Altering, deleting or slipping in an event anywhere but at the end
of its journey breaks that journey's chain, and :func:`verify` names the first event where it
breaks.

Per journey, not one chain for the authority: one chain would put every transition of the
authority behind one lock, while the journey's version check already serialises its own
events (two writers at one version cannot both write, so they cannot both chain onto the
same event). The writer computes the hash in Python from the previous event's hash that the
transition's first read returns with the journey (:mod:`services.journey_store`), so the
chain costs no extra round trip.

Events older than the revision, and the benchmarks' bulk clones (``INSERT ... SELECT``), are
unchained: they may only come first in their journey; a hashless event after the journey's
chain began is itself a break.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Engine, select

from services.models import JOURNEY_EVENTS as E


def _canonical_at(at: datetime) -> str:
    if at.tzinfo is None:  # SQLite hands back naive UTC
        at = at.replace(tzinfo=UTC)
    return at.astimezone(UTC).isoformat(timespec="microseconds")


def as_stored(data: Any) -> Any:
    """``data`` as the JSON column hands it back, so the hash covers what is read later."""
    return json.loads(json.dumps(data, default=str))


def event_digest(
    *,
    prev_hash: str | None,
    journey_id: int,
    journey_version: int,
    event: str,
    from_state: str | None,
    to_state: str,
    occurred_on: date,
    recorded_at: datetime,
    actor_id: int,
    data: Any,
) -> str:
    """The hash an event must carry: SHA-256 over canonical JSON of its content and
    ``prev_hash``. ``data`` as stored (:func:`as_stored`)."""
    body = json.dumps(
        [
            prev_hash or "",
            journey_id,
            journey_version,
            event,
            from_state,
            to_state,
            occurred_on.isoformat(),
            _canonical_at(recorded_at),
            actor_id,
            data,
        ],
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=True,
        default=str,
    )
    return hashlib.sha256(body.encode("ascii")).hexdigest()


@dataclass(frozen=True)
class HistoryVerification:
    """What :func:`verify` found: journeys and events checked, events without a hash, and
    the first break (the event's id, its journey and why)."""

    journeys: int
    checked: int
    unchained: int
    broken_id: int | None
    broken_journey_id: int | None
    reason: str | None

    @property
    def ok(self) -> bool:
        """True when every journey's chain holds."""
        return self.broken_id is None


def verify(engine: Engine) -> HistoryVerification:
    """Walk every journey's events in version order and return the first event whose hash or
    link is wrong (journeys in id order).

    An event removed from the middle leaves the next one linking to a hash that is not the
    one before it; an event slipped in without the service has no hash (or a wrong one);
    an altered event no longer matches its hash."""
    journeys = checked = unchained = 0
    current: int | None = None
    prev: str | None = None
    started = False

    def broken(row: Any, reason: str) -> HistoryVerification:
        return HistoryVerification(
            journeys, checked, unchained, row["id"], row["journey_id"], reason
        )

    with engine.connect() as conn:
        rows = conn.execute(
            select(E).order_by(E.c.journey_id, E.c.journey_version, E.c.id)
        ).mappings()
        for row in rows:
            if row["journey_id"] != current:
                current, prev, started = row["journey_id"], None, False
                journeys += 1
            if row["row_hash"] is None and not started:
                unchained += 1
                continue
            started = True
            checked += 1
            if row["row_hash"] is None:
                return broken(row, "event has no hash")
            if row["prev_hash"] != prev:
                return broken(row, "does not link to the journey's event before it")
            expected = event_digest(
                prev_hash=row["prev_hash"],
                journey_id=row["journey_id"],
                journey_version=row["journey_version"],
                event=row["event"],
                from_state=row["from_state"],
                to_state=row["to_state"],
                occurred_on=row["occurred_on"],
                recorded_at=row["recorded_at"],
                actor_id=row["actor_id"],
                data=row["data"],
            )
            if expected != row["row_hash"]:
                return broken(row, "content does not match its hash")
            prev = row["row_hash"]
    return HistoryVerification(journeys, checked, unchained, None, None, None)
