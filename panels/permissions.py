"""Who may do what on the panel: each action a named rule with the roles that may do it.

The panel service checks a rule before it acts (``require``: a 403 ``PanelForbidden``
saying which roles it needs); the pages ask the same rules to offer or hide a button
(``allows``, or ``offered`` for every rule at once) and to refuse a page (403). No other
module writes a role list for a panel action.

Reading the panel (meetings, agendas, the tracker) needs no role of its own: anyone who
sees children's records may (``require_reader``); which children they see is the access
rules' business (``services.access``).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from panels.errors import PanelForbidden
from services.access import Principal
from states.roles import (
    ADM,
    CASEWORK,
    PANEL_ADMIN,
    PANEL_CHAIR,
    SERVICE_DIRECTOR,
    SERVICE_MANAGER,
    SOCIAL_WORKER,
    TEAM_MANAGER,
)


@dataclass(frozen=True)
class Rule:
    """A panel action and the roles that may do it (any one of them is enough)."""

    key: str  # the name templates ask: ``may.build_agenda``
    does: str  # the action in words: "build the agenda"
    roles: tuple[str, ...]

    def plus(self, *roles: str) -> Rule:
        """The same rule with more roles (an action's own owner role, say)."""
        return Rule(self.key, self.does, (*self.roles, *roles))


SCHEDULE_MEETINGS = Rule("schedule_meetings", "plan, move or cancel meetings", (PANEL_ADMIN,))
RECORD_ATTENDANCE = Rule("record_attendance", "record attendance", (PANEL_ADMIN,))
REFER_CASE = Rule("refer_case", "refer a case and submit its pack", CASEWORK)
# The administrator also withdraws referrals (a case that no longer needs the panel).
WITHDRAW_REFERRAL = Rule("withdraw_referral", "withdraw a referral", (*CASEWORK, PANEL_ADMIN))
BUILD_AGENDA = Rule("build_agenda", "build the agenda", (PANEL_ADMIN, PANEL_CHAIR))
# Publishing sends the invitations: the administrator's step once the agenda is built.
PUBLISH_AGENDA = Rule(
    "publish_agenda", "publish the agenda and send its invitations", (PANEL_ADMIN,)
)
ASSIGN_SEATS = Rule("assign_seats", "name who holds a seat of the panel", (PANEL_ADMIN,))
# Who the panel invites for a child beside the social worker: the IRO and the supervising
# social worker, recorded by the child's caseworkers or the administrator.
RECORD_INVITEES = Rule(
    "record_invitees",
    "record a child's IRO and supervising social worker",
    (*CASEWORK, PANEL_ADMIN),
)
ARRANGE_AGENDA = Rule("arrange_agenda", "order the agenda and pin items", (PANEL_CHAIR,))
# Who may record some decision: the chair, and the roles the decision types' journey
# events are granted to (the ADM's approval, signers under a scheme of delegation).
# Which decision a person may record is ``decision_rule`` / ``outcome_rule``.
RECORD_DECISION = Rule(
    "record_decision",
    "record a decision",
    (PANEL_CHAIR, ADM, TEAM_MANAGER, SERVICE_MANAGER, SERVICE_DIRECTOR),
)
# An action's owner may always mark it done; so may these, and anyone of the owner's role.
COMPLETE_ACTION = Rule(
    "complete_action", "mark an action done", (PANEL_ADMIN, PANEL_CHAIR, TEAM_MANAGER)
)
# The chair escalates a child's drift to the service director (as the decision ``escalate``).
ESCALATE_DRIFT = Rule("escalate_drift", "escalate drift to the service director", (PANEL_CHAIR,))
DRAFT_MINUTES = Rule("draft_minutes", "draft the minutes", (PANEL_ADMIN,))
APPROVE_MINUTES = Rule("approve_minutes", "approve the minutes", (PANEL_ADMIN, PANEL_CHAIR))
# Approved minutes reopened for a correction; their next approval is a new version.
CORRECT_MINUTES = Rule(
    "correct_minutes", "reopen approved minutes for a correction", (PANEL_ADMIN, PANEL_CHAIR)
)
CIRCULATE_TRACKER = Rule("circulate_tracker", "circulate the tracker", (PANEL_ADMIN, PANEL_CHAIR))
# The minutes name children: panel staff and the ADM only.
READ_MINUTES = Rule("read_minutes", "read the minutes", (PANEL_ADMIN, PANEL_CHAIR, ADM))
READ_REPORTS = Rule(
    "read_reports",
    "read the panel's reports",
    (PANEL_ADMIN, PANEL_CHAIR, ADM, SERVICE_MANAGER, SERVICE_DIRECTOR),
)

RULES: tuple[Rule, ...] = (
    SCHEDULE_MEETINGS,
    RECORD_ATTENDANCE,
    REFER_CASE,
    WITHDRAW_REFERRAL,
    BUILD_AGENDA,
    PUBLISH_AGENDA,
    ASSIGN_SEATS,
    RECORD_INVITEES,
    ARRANGE_AGENDA,
    RECORD_DECISION,
    COMPLETE_ACTION,
    ESCALATE_DRIFT,
    DRAFT_MINUTES,
    APPROVE_MINUTES,
    CORRECT_MINUTES,
    CIRCULATE_TRACKER,
    READ_MINUTES,
    READ_REPORTS,
)


def allows(principal: Principal, rule: Rule) -> bool:
    """Whether the principal may do what ``rule`` names (for a page: show the button)."""
    return not principal.roles.isdisjoint(rule.roles)


def require(principal: Principal, rule: Rule) -> None:
    """Refuse (403 ``PanelForbidden``, naming the roles) unless the principal may."""
    if not allows(principal, rule):
        raise PanelForbidden(f"This needs one of the roles: {', '.join(rule.roles)}.")


def require_reader(principal: Principal) -> None:
    """Refuse (403) a principal who sees no children's records: the panel is all about
    children."""
    if not principal.sees_children:
        raise PanelForbidden("Your roles give no access to the panel.")


def offered(principal: Principal) -> dict[str, bool]:
    """Every rule by its key, and whether the principal may (what a page offers)."""
    return {rule.key: allows(principal, rule) for rule in RULES}


def decision_rule(event_roles: Iterable[str] = ()) -> Rule:
    """Who may record a decision whose outcome fires a journey event granted to
    ``event_roles`` (none: a recommendation or a tracked child's outcome).

    The chair records the panel's decisions; a decision whose event belongs to another
    role (the ADM's approval, a sign-off under the scheme of delegation) is recorded by
    that role, the journey engine checking the event's own roles when it fires. A social
    worker never records the panel's decision.
    """
    return Rule(
        "record_this_decision",
        "record this decision",
        (PANEL_CHAIR, *(r for r in event_roles if r != SOCIAL_WORKER)),
    )


def outcome_rule(event_roles: Iterable[str] | None) -> Rule:
    """Who the decision page offers an outcome to: the roles its journey event is granted
    to (not a social worker) or, for an outcome that fires no event (``None``), the chair.
    Narrower than ``decision_rule``: the chair is not offered an outcome whose event the
    engine would refuse them (the ADM's approval)."""
    if event_roles is None:
        roles: tuple[str, ...] = (PANEL_CHAIR,)
    else:
        roles = tuple(r for r in event_roles if r != SOCIAL_WORKER)
    return Rule("offer_outcome", "record this outcome", roles)
