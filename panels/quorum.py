"""The quorum rule (issue 14 item 4): one place says whether a meeting is quorate.

A preset's ``[quorum]`` names the seats that must be present or represented (``seats``)
and, optionally, how many seats in all (``at_least``). A seat counts when its holder is
recorded present, or sent apologies and named a representative; a seat with no attendance
recorded does not count. A panel without a quorum is always quorate.

A decision recorded at a meeting below quorum is marked "not quorate": its journey event
waits until the chair ratifies it at a later, quorate meeting (``panels.service.quorum``).
The words a decision's quorum is shown in, on every page and export, are ``status_words``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from notifications.render import long_date

# A not-quorate decision's ratification: waiting, ratified, or not ratified (with a reason).
PENDING = "pending"
RATIFIED = "ratified"
NOT_RATIFIED = "not_ratified"


@dataclass(frozen=True, slots=True)
class QuorumState:
    """Whether a meeting is quorate by its recorded attendance, and why not."""

    required: bool  # the panel sets a quorum at all
    quorate: bool
    covered: list[str]  # seats present or represented
    missing: list[str]  # seats the quorum names that are neither
    at_least: int | None  # how many seats in all the quorum needs (None: no number)
    description: str  # the quorum in words ("" when there is none)


def counts(status: str, representative: str | None) -> bool:
    """Whether a seat's recorded attendance counts towards the quorum."""
    return status == "present" or (status == "apologies" and bool((representative or "").strip()))


def judge(config: Any, attendance: Iterable[Any]) -> QuorumState:
    """The rule: every seat the quorum names present or represented, and at least
    ``at_least`` seats in all. ``attendance`` rows carry member_key, status, representative."""
    quorum = config.quorum
    covered = [a.member_key for a in attendance if counts(a.status, a.representative)]
    if quorum is None:
        return QuorumState(False, True, covered, [], None, "")
    missing = [s for s in quorum.seats if s not in covered]
    enough = quorum.at_least is None or len(set(covered)) >= quorum.at_least
    return QuorumState(
        True, not missing and enough, covered, missing, quorum.at_least, describe(config)
    )


def describe(config: Any) -> str:
    """The panel's quorum in words, naming its seats."""
    quorum = config.quorum
    if quorum is None:
        return ""
    titles = {m.key: m.title for m in config.members}
    parts = []
    if quorum.seats:
        parts.append("present or represented: " + "; ".join(titles[s] for s in quorum.seats))
    if quorum.at_least is not None:
        parts.append(f"at least {quorum.at_least} members present or represented")
    return ", and ".join(parts)


def status_words(
    quorate: bool, ratification: str | None, reason: str | None, ratified_on: date | None
) -> str:
    """A decision's quorum in words ("" for a quorate decision): shown on the decision, the
    minutes and their exports, the tracker and the child's record entry."""
    if quorate:
        return ""
    if ratification == RATIFIED and ratified_on is not None:
        return f"Not quorate: ratified at the meeting on {long_date(ratified_on)}"
    if ratification == NOT_RATIFIED:
        when = f" at the meeting on {long_date(ratified_on)}" if ratified_on else ""
        return f"Not quorate: not ratified{when} ({reason or 'no reason given'})"
    return "Not quorate: to ratify at the next meeting"
