"""Open escalations as the director's page lists them: one entry per escalated deadline
(and due date), with every rung of the ladder it reached and the rung this user would
acknowledge. Built from :func:`notifications.service.list_escalations` rows."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from notifications.policy import SENIORITY, may_acknowledge
from services.access import Principal


@dataclass(frozen=True)
class Rung:
    """One escalation notice: the level it reached, to whom, and when."""

    notice_id: int
    level: str
    recipient_id: int
    recipient: str
    escalated_on: date


@dataclass
class EscalatedDeadline:
    """A missed deadline and its open escalations (one per rung reached and recipient).

    Acknowledging any rung answers them all: the ladder stops and every rung of that
    deadline and due date counts as acknowledged (``notifications.service``).
    """

    deadline_id: int
    due_on: date
    deadline_kind: str
    deadline_label: str
    journey_id: int | None
    journey_type: str | None
    child_reference: str | None
    team: str | None
    meeting_date: date | None
    working_days_overdue: int | None
    rungs: list[Rung] = field(default_factory=list)
    child_id: int | None = None
    acknowledge_id: int | None = None  # the rung this user answers, if they may answer one
    # An escalation the panel raised (no missed due date): its reason and who raised it.
    reason: str | None = None
    raised_by: str | None = None

    @property
    def top_level(self) -> str:
        """The highest rung reached."""
        return max(self.rungs, key=lambda r: SENIORITY.get(r.level, 0)).level


def _may_answer(principal: Principal, rung: Rung) -> bool:
    # Only to offer the form: ``notifications.service.acknowledge`` checks again on posting.
    return may_acknowledge(principal.roles, principal.user_id, rung.recipient_id, rung.level)


def _answerable(principal: Principal, rungs: Sequence[Rung]) -> int | None:
    """The rung to acknowledge: the user's own (highest first), else the highest they may."""
    ranked = sorted(rungs, key=lambda r: (SENIORITY.get(r.level, 0), r.notice_id), reverse=True)
    own = [r for r in ranked if r.recipient_id == principal.user_id]
    if own:
        return own[0].notice_id
    allowed = [r for r in ranked if _may_answer(principal, r)]
    return allowed[0].notice_id if allowed else None


def group_escalations(
    principal: Principal, escalations: Iterable[dict[str, Any]]
) -> list[EscalatedDeadline]:
    """Open escalations (``list_escalations`` rows) grouped by deadline and due date, most
    overdue first, each with the rung this user would acknowledge."""
    groups: dict[tuple[int, date], EscalatedDeadline] = {}
    for e in escalations:
        key = (e["deadline_id"], e["due_on"])
        group = groups.get(key)
        if group is None:
            group = groups[key] = EscalatedDeadline(
                deadline_id=e["deadline_id"],
                due_on=e["due_on"],
                deadline_kind=e["deadline_kind"],
                deadline_label=e["deadline_label"],
                journey_id=e["journey_id"],
                journey_type=e["journey_type"],
                child_reference=e["child_reference"],
                team=e["team"],
                meeting_date=e.get("meeting_date"),
                working_days_overdue=e["working_days_overdue"],
                reason=e.get("reason"),
                raised_by=e.get("raised_by"),
            )
        group.rungs.append(
            Rung(e["id"], e["level"], e["recipient_id"], e["recipient"], e["escalated_on"])
        )
    out = sorted(groups.values(), key=lambda g: (g.due_on, g.deadline_id))
    for group in out:
        group.rungs.sort(key=lambda r: (SENIORITY.get(r.level, 0), r.escalated_on, r.notice_id))
        group.acknowledge_id = _answerable(principal, group.rungs)
    return out
