"""The journey history proves itself: each event's hash covers its content and the journey's
event before it (one chain per journey), on both databases and both write paths."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Engine, text

from services import history_chain
from tests.conftest import Api


def _journey(sw: Api, reference: str = "C-0001", reviews: int = 3) -> list[int]:
    """A journey with a start and ``reviews`` reviews: its event ids, oldest first."""
    child = sw.create_child(reference)
    journey = sw.start(child["id"], "permanence_planning")
    for day in range(reviews):
        journey = sw.fire(journey, "hold_review", f"2026-01-{10 + day:02d}")
    return [e["id"] for e in sw.history(journey)]


@contextmanager
def _as_owner(engine: Engine) -> Iterator[Connection]:
    """A transaction with the append-only guards lifted, as the database owner could."""
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(
                text("ALTER TABLE journey_event DISABLE TRIGGER journey_event_append_only")
            )
            yield conn
            conn.execute(text("ALTER TABLE journey_event ENABLE TRIGGER journey_event_append_only"))
            return
        guards = {
            name: conn.execute(
                text("SELECT sql FROM sqlite_master WHERE name = :n"), {"n": name}
            ).scalar_one()
            for name in ("journey_event_no_update", "journey_event_no_delete")
        }
        for name in guards:
            conn.execute(text(f"DROP TRIGGER {name}"))
        yield conn
        for sql in guards.values():
            conn.execute(text(sql))  # the guards stay for the tests that follow


def _event(conn: Connection, event_id: int) -> Any:
    return conn.execute(text("SELECT * FROM journey_event WHERE id = :id"), {"id": event_id}).one()


def test_every_event_is_chained_onto_its_journeys_last(engine: Engine, sw: Api) -> None:
    first = _journey(sw, "C-0001")
    second = _journey(sw, "C-0002", reviews=1)
    with engine.connect() as conn:
        rows = [_event(conn, i) for i in first]
        other = [_event(conn, i) for i in second]
    assert rows[0].prev_hash is None and other[0].prev_hash is None  # each journey's genesis
    assert [r.prev_hash for r in rows[1:]] == [r.row_hash for r in rows[:-1]]
    assert all(len(r.row_hash) == 64 for r in rows + other)
    result = history_chain.verify(engine)
    assert result.ok, result
    assert (result.journeys, result.checked, result.unchained) == (2, 6, 0)


def test_an_altered_event_is_named(engine: Engine, sw: Api) -> None:
    ids = _journey(sw)
    with _as_owner(engine) as conn:
        conn.execute(
            text("UPDATE journey_event SET event = 'forged' WHERE id = :id"), {"id": ids[2]}
        )
    result = history_chain.verify(engine)
    assert (result.broken_id, result.reason) == (ids[2], "content does not match its hash")


def test_a_removed_event_is_named_by_the_one_after_it(engine: Engine, sw: Api) -> None:
    ids = _journey(sw)
    with _as_owner(engine) as conn:
        conn.execute(text("DELETE FROM journey_event WHERE id = :id"), {"id": ids[1]})
    result = history_chain.verify(engine)
    assert result.broken_id == ids[2]
    assert result.reason == "does not link to the journey's event before it"


def test_an_event_slipped_in_is_named(engine: Engine, sw: Api) -> None:
    ids = _journey(sw, reviews=1)
    with engine.begin() as conn:  # no guard needed: the history takes inserts
        last = _event(conn, ids[-1])
        conn.execute(
            text(
                "INSERT INTO journey_event (journey_id, journey_version, event, from_state,"
                " to_state, occurred_on, recorded_at, actor_id, data)"
                " SELECT journey_id, journey_version + 1, event, from_state, to_state,"
                " occurred_on, recorded_at, actor_id, data FROM journey_event WHERE id = :id"
            ),
            {"id": last.id},
        )
        slipped = conn.execute(
            text("SELECT max(id) FROM journey_event WHERE journey_id = :j"),
            {"j": last.journey_id},
        ).scalar_one()
    result = history_chain.verify(engine)
    assert (result.broken_id, result.reason) == (slipped, "event has no hash")


def test_a_forged_link_is_named(engine: Engine, sw: Api) -> None:
    """An event inserted with a hash that chains onto the last one but does not cover it."""
    ids = _journey(sw, reviews=1)
    with engine.begin() as conn:
        last = _event(conn, ids[-1])
        conn.execute(
            text(
                "INSERT INTO journey_event (journey_id, journey_version, event, from_state,"
                " to_state, occurred_on, recorded_at, actor_id, data, prev_hash, row_hash)"
                " SELECT journey_id, journey_version + 1, event, from_state, to_state,"
                " occurred_on, recorded_at, actor_id, data, row_hash, row_hash"
                " FROM journey_event WHERE id = :id"
            ),
            {"id": last.id},
        )
    result = history_chain.verify(engine)
    assert result.reason == "content does not match its hash"
    assert result.broken_journey_id == last.journey_id


def test_unchained_events_before_the_chain_are_counted_not_broken(engine: Engine, sw: Api) -> None:
    """Events older than the chain (or bulk clones) have no hash: they may come first, and
    the service's next event starts the journey's chain afresh."""
    child = sw.create_child()
    journey = sw.start(child["id"], "permanence_planning")
    with _as_owner(engine) as conn:
        conn.execute(
            text(
                "UPDATE journey_event SET prev_hash = NULL, row_hash = NULL WHERE journey_id = :j"
            ),
            {"j": journey["id"]},
        )
    journey = sw.fire(journey, "hold_review", "2026-01-10")
    journey = sw.fire(journey, "hold_review", "2026-01-11")
    result = history_chain.verify(engine)
    assert result.ok, result
    assert (result.checked, result.unchained) == (2, 1)
