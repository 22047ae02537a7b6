"""Every kind of deadline the service knows, written once: its words, whether the law sets
it (statutory kinds climb the escalation ladder faster), and who owns it by default.

The journey definitions open and meet deadlines of these kinds (:func:`opens`), the panel
opens its own (pack, action, minutes), the reminder policy takes its statutory kinds from
here, and every page, email and export names a kind with :func:`label`. Adding a kind is one
entry in ``KINDS``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from states.roles import ADM, PANEL_ADMIN, SERVICE_DIRECTOR, SOCIAL_WORKER
from workflow.definition import Context, DateRule, JourneyDefinition, OpenDeadline


@dataclass(frozen=True)
class DeadlineKind:
    """One kind of deadline."""

    key: str
    label: str
    statutory: bool = False
    owner_role: str = SOCIAL_WORKER
    # How a panel meeting's own deadline reads after "Panel meeting <date>: ... due".
    meeting_words: str | None = None


KINDS: tuple[DeadlineKind, ...] = (
    # permanence planning
    DeadlineKind("first_review", "First looked-after review", statutory=True),
    DeadlineKind("second_review", "Second looked-after review", statutory=True),
    DeadlineKind("review", "Looked-after review"),
    DeadlineKind("permanence_plan", "Permanence plan (by the second review)", statutory=True),
    # care proceedings
    DeadlineKind("proceedings_26_weeks", "Care proceedings 26-week timetable", statutory=True),
    DeadlineKind("final_hearing", "Final hearing"),
    DeadlineKind("court_direction", "Court direction"),
    # adoption
    DeadlineKind("a1_moved_in", "A1: child moved in with adoptive family"),
    DeadlineKind("a2_match_decision", "A2: matching decision", owner_role=ADM),
    # placed with parents
    DeadlineKind("pwp_review", "Placed-with-parents review"),
    DeadlineKind("pwp_drift_scrutiny", "Placed with parents 12 months: drift scrutiny"),
    # special guardianship
    DeadlineKind("sgo_court_filing", "SGO support plan filed with court"),
    # connected person temporary approval (regulations 24 and 25)
    DeadlineKind(
        "reg24_temporary_approval", "Connected person temporary approval ends", statutory=True
    ),
    # reunification (placement with parents: regulation 20's 10 working days)
    DeadlineKind("reunification_assessment", "Reunification assessment", statutory=True),
    DeadlineKind("post_return_review", "Review after the return home"),
    # the panel's own
    DeadlineKind("panel_pack", "Panel pack"),
    DeadlineKind("panel_action", "Panel action"),
    DeadlineKind("panel_minutes", "Panel minutes", owner_role=PANEL_ADMIN, meeting_words="minutes"),
    # Not a due date but an answer owed: the panel escalated drift to the service director
    # (notifications.raised). Due the day it is raised; it has no reminders, and its
    # escalation notices go out at once; the acknowledgement meets it.
    DeadlineKind("panel_escalation", "Panel escalation of drift", owner_role=SERVICE_DIRECTOR),
)

BY_KEY: dict[str, DeadlineKind] = {k.key: k for k in KINDS}
STATUTORY: frozenset[str] = frozenset(k.key for k in KINDS if k.statutory)

PANEL_PACK = BY_KEY["panel_pack"]
PANEL_ACTION = BY_KEY["panel_action"]
PANEL_MINUTES = BY_KEY["panel_minutes"]
PANEL_ESCALATION = BY_KEY["panel_escalation"]


def kind(key: str) -> DeadlineKind:
    """The kind called ``key`` (KeyError for a kind nobody declared)."""
    return BY_KEY[key]


def label(key: str) -> str:
    """A deadline kind in people's words; an undeclared key is made readable."""
    found = BY_KEY.get(key)
    return found.label if found else key.replace("_", " ").capitalize()


def named(key: str, which: str) -> str:
    """A deadline of kind ``key`` with which one it is in words, where a reader needs it:
    "Court direction (Parenting assessment)", "Panel pack (Torbay Permanency Panel meeting
    on 3 December 2026)"; just the label when there is nothing to say."""
    return f"{label(key)} ({which})" if which else label(key)


def which(key: str, ref: str, journey_data: Mapping[str, Any] | None = None) -> str:
    """Which one of several deadlines of kind ``key`` this is, in words: a court direction by
    what the court directed (from its journey's data, where the reader has it). A bare
    number (a referral's or an action's id) means nothing to a reader, so it is not shown;
    the due date tells such deadlines apart."""
    if key == "court_direction" and journey_data:
        for direction in journey_data.get("directions") or []:
            if isinstance(direction, dict) and str(direction.get("ref")) == ref:
                return str(direction.get("direction") or "")
    return "" if ref.isdigit() else ref


def deadline_name(
    key: str, ref: str, meeting: str = "", journey_data: Mapping[str, Any] | None = None
) -> str:
    """A deadline as every list names it: its kind's label and which one it is, a panel
    pack by its meeting (``meeting``, in words: ``notifications.meetings``), another by
    :func:`which`."""
    return named(key, meeting or which(key, ref, journey_data))


def meeting_words(key: str) -> str:
    """A meeting's own deadline kind as the tail of "Panel meeting <date>: ..."."""
    found = BY_KEY.get(key)
    if found and found.meeting_words:
        return found.meeting_words
    return label(key).lower()


def opens(key: str, due: DateRule, *, ref: Callable[[Context], str] | None = None) -> OpenDeadline:
    """The rule that opens (or moves) a deadline of kind ``key``, owned as the kind says."""
    return OpenDeadline(key, due, owner_role=kind(key).owner_role, ref=ref)


def undeclared(definitions: Iterable[JourneyDefinition]) -> list[str]:
    """``type.event: kind`` for every deadline rule whose kind is not in ``KINDS``."""
    return [
        f"{d.type}.{ev.name}: {rule.kind}"
        for d in definitions
        for ev in (d.start, *d.events)
        for rule in ev.deadlines
        if rule.kind not in BY_KEY
    ]
