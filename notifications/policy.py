"""Reminder policy per deadline kind: when the owner is reminded and who is told when late.

Every step is a whole number of *working days* from the deadline's due date (negative =
before). Steps are dates, never instants, so a sweep is the same on the day the clocks go
back or forward as on any other day.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from typing import Any, Literal

from services.config import Settings
from states.deadline_kinds import PANEL_ESCALATION
from workflow.calendar import add_working_days, is_working_day

Audience = Literal["owner", "team_manager", "service_manager", "service_director"]
Category = Literal["reminder", "escalation"]

# The escalation ladder, lowest first. A rung's position is its seniority.
LADDER: tuple[Audience, ...] = ("team_manager", "service_manager", "service_director")
SENIORITY: dict[str, int] = {role: i + 1 for i, role in enumerate(LADDER)}


def may_acknowledge(roles: Iterable[str], user_id: int, recipient_id: int, level: str) -> bool:
    """Whether a user may acknowledge an escalation that reached ``level``: its recipient,
    or anyone more senior on the ladder. Team managers rank lowest, so "more senior" than a
    team manager's escalation starts at service manager: no team manager can answer
    another team's escalation."""
    if recipient_id == user_id:
        return True
    seniority = max((SENIORITY.get(r, 0) for r in roles), default=0)
    return seniority > SENIORITY.get(level, 0)


@lru_cache(maxsize=65536)
def _shift(day: date, offset: int) -> date:
    # A sweep asks this for every due row, and many rows share a date: cache it.
    return add_working_days(day, offset)


@dataclass(frozen=True)
class Step:
    """One notice a deadline can cause: who gets it and how far from the due date."""

    name: str
    offset: int  # working days from the due date; 0 is the due date itself
    category: Category
    audience: Audience

    def fire_on(self, due_on: date) -> date:
        """The London date this step falls due for a deadline due on ``due_on``.

        Notices go out on working days: the on-the-day notice of a deadline due on a
        weekend or bank holiday goes out on the working day before (nobody reads it on
        the day itself). Every other step is already counted in working days.
        """
        if self.offset == 0:
            return due_on if is_working_day(due_on) else _shift(due_on, -1)
        return _shift(due_on, self.offset)

    @property
    def ahead_only(self) -> bool:
        """Whether this step is sent only if still ahead when the deadline is first swept.

        The reminders before and on the due date are worth sending only while they are
        still timely: a deadline recorded back-dated (an import) or first swept after
        some of them passed gets the ones still ahead, not "due in 5 working days" dated
        months ago. The overdue notice and the escalations are always sent.
        """
        return self.category == "reminder" and self.offset <= 0

    def latest_due_on(self, as_of: date) -> date:
        """The latest due date whose step has fallen due by ``as_of``.

        ``fire_on`` never decreases as the due date increases, so "fired by as_of" is
        exactly "due_on <= this date": one indexed range condition in the sweep's query.
        """
        # Start beyond any possible answer (working days are at least 1 calendar day
        # apart, and no run of non-working days in England is longer than 4) and walk back.
        candidate = as_of + timedelta(days=5 * max(0, -self.offset) + 5)
        while self.fire_on(candidate) > as_of:
            candidate -= timedelta(days=1)
        return candidate

    @property
    def label(self) -> str:
        """What the notice says about the timing, for people."""
        if self.category == "escalation":
            days = self.offset
            return (
                f"overdue by {days} working day{'s' if days != 1 else ''}: "
                f"escalated to the {self.audience.replace('_', ' ')}"
            )
        if self.offset < 0:
            days = -self.offset
            return f"due in {days} working day{'s' if days != 1 else ''}"
        if self.offset == 0:
            return "due today"
        return "overdue"


@dataclass(frozen=True)
class ReminderPolicy:
    """The steps for one deadline kind (or the default)."""

    before: tuple[int, ...] = (5, 1)
    on_due: bool = True
    overdue: bool = True
    escalate: tuple[int, ...] = (1, 5, 10)  # team manager, service manager, service director

    def steps(self) -> tuple[Step, ...]:
        """The policy as concrete steps, in date order."""
        out = [
            Step(f"before_{n}", -n, "reminder", "owner")
            for n in sorted({n for n in self.before if n > 0}, reverse=True)
        ]
        if self.on_due:
            out.append(Step("due", 0, "reminder", "owner"))
        if self.overdue:
            out.append(Step("overdue", 1, "reminder", "owner"))
        for audience, days in zip(LADDER, self.escalate, strict=False):
            out.append(Step(f"escalate_{audience}", max(1, days), "escalation", audience))
        return tuple(out)


NO_STEPS = ReminderPolicy(before=(), on_due=False, overdue=False, escalate=())


@dataclass(frozen=True)
class Policies:
    """The default policy and the kinds that differ from it."""

    default: ReminderPolicy
    by_kind: Mapping[str, ReminderPolicy]

    def step_groups(self) -> list[tuple[Step, frozenset[str], bool]]:
        """Each distinct step with the kinds it applies to.

        Returns ``(step, kinds, inclusive)``: when ``inclusive`` the step applies to exactly
        ``kinds``; otherwise to every kind except ``kinds`` (the default policy's steps).
        """
        default_steps = set(self.default.steps())
        all_steps: set[Step] = set(default_steps)
        for policy in self.by_kind.values():
            all_steps.update(policy.steps())
        groups = []
        for step in sorted(all_steps, key=lambda s: (s.offset, s.name)):
            if step in default_steps:
                excluded = frozenset(
                    k for k, p in self.by_kind.items() if step not in set(p.steps())
                )
                groups.append((step, excluded, False))
            else:
                included = frozenset(k for k, p in self.by_kind.items() if step in set(p.steps()))
                groups.append((step, included, True))
        return groups


def _policy(base: ReminderPolicy, override: Mapping[str, Any]) -> ReminderPolicy:
    return ReminderPolicy(
        before=tuple(int(n) for n in override.get("before", base.before)),
        on_due=bool(override.get("on_due", base.on_due)),
        overdue=bool(override.get("overdue", base.overdue)),
        escalate=tuple(int(n) for n in override.get("escalate", base.escalate)),
    )


def build_policies(
    *,
    before: Sequence[int],
    on_due: bool,
    overdue: bool,
    escalate: Sequence[int],
    statutory_kinds: Sequence[str],
    statutory_escalate: Sequence[int],
    overrides: Mapping[str, Mapping[str, Any]],
) -> Policies:
    """Policies from configuration: defaults, a shorter ladder for statutory kinds, overrides."""
    default = ReminderPolicy(tuple(before), on_due, overdue, tuple(escalate))
    by_kind: dict[str, ReminderPolicy] = {
        kind: ReminderPolicy(tuple(before), on_due, overdue, tuple(statutory_escalate))
        for kind in statutory_kinds
    }
    for kind, override in overrides.items():
        by_kind[kind] = _policy(by_kind.get(kind, default), override)
    # A raised escalation's notices are sent when it is raised (notifications.raised), all
    # at once: the sweep has nothing to remind or climb, whatever the overrides say.
    by_kind[PANEL_ESCALATION.key] = NO_STEPS
    return Policies(default, by_kind)


def policies_from_settings(settings: Settings) -> Policies:
    """The policies a :class:`services.config.Settings` describes."""
    return build_policies(
        before=settings.reminder_before_days,
        on_due=settings.reminder_on_due,
        overdue=settings.reminder_overdue,
        escalate=settings.escalation_days,
        statutory_kinds=settings.statutory_kinds,
        statutory_escalate=settings.statutory_escalation_days,
        overrides=settings.reminder_overrides,
    )
