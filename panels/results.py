"""What the panel service answers: one frozen dataclass per shape, read by attribute.

The JSON API answers them through ``to_json`` (the one conversion: dataclasses to dicts
field by field, in field order, dates as ISO strings), so its bodies are these fields.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class MeetingCounts:
    """A meeting on the forward planner, counted: items on its agenda (not rolled) and
    referrals still waiting for it (awaiting a pack, or accepted)."""

    items: int = 0
    waiting: int = 0


@dataclass(frozen=True, slots=True)
class ReferableJourney:
    """An active journey some decision type of the panel takes in its current state."""

    id: int
    reference: str
    type: str
    state: str
