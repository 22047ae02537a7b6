"""Quorum: ratifying decisions recorded below quorum (issue 14 item 4).

A decision recorded at a meeting below the panel's quorum (``panels.quorum.judge`` on the
attendance recorded when it is decided) is stored "not quorate" with its journey event's
data, and the event does not fire. It appears on every later meeting's page as "to ratify"
until the chair, at a later meeting that is itself quorate, ratifies it (the event fires
then, dated that meeting, in the same transaction) or does not (with a reason: the event
never fires; the social worker refers the case again if it is still needed). Each is one
transaction, audited.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, and_, select, update

from panels.errors import PanelConflict, PanelInvalid
from panels.models import DECISIONS as DEC
from panels.models import ITEMS as I
from panels.models import MEETINGS as M
from panels.models import REFERRALS as R
from panels.permissions import decision_rule, require, require_reader
from panels.quorum import NOT_RATIFIED, PENDING, RATIFIED
from panels.results import Decision, ToRatify
from panels.service.common import TRACKING_OUTCOMES, log
from panels.service.decisions import DecisionsMixin
from services.access import Principal
from services.clock import now_utc
from services.db import read_connection, write_connection
from services.journeys import NotFound
from services.models import CHILDREN as C

REASON_MAX = 500


class QuorumMixin(DecisionsMixin):
    """Decisions below quorum: listing them for the next meeting and ratifying them."""

    def _to_ratify(self, conn: Connection, meeting: Any) -> list[ToRatify]:
        """Not-quorate decisions of this panel's earlier meetings still waiting (none on a
        cancelled meeting's page)."""
        if meeting.status == "cancelled":
            return []
        rows = conn.execute(
            select(DEC, M.c.meeting_date, C.c.reference)
            .select_from(DEC.join(M, M.c.id == DEC.c.meeting_id).join(C, C.c.id == DEC.c.child_id))
            .where(
                and_(
                    M.c.panel == self.key,
                    DEC.c.ratification == PENDING,
                    M.c.meeting_date < meeting.meeting_date,
                )
            )
            .order_by(M.c.meeting_date, DEC.c.id)
        ).all()
        return [
            ToRatify(
                decision_id=r.id,
                meeting_id=r.meeting_id,
                held_on=r.meeting_date,
                child_id=r.child_id,
                child_reference=r.reference,
                journey_id=r.journey_id,
                outcome=r.outcome,
                outcome_label=self._outcome_label(conn, r),
                event=r.event,
                notes=r.notes,
            )
            for r in rows
        ]

    def _outcome_label(self, conn: Connection, decision: Any) -> str:
        """The decision's outcome in the words of its decision type (or the tracking ones)."""
        ref_id = conn.execute(
            select(I.c.referral_id).where(I.c.id == decision.item_id)
        ).scalar_one_or_none()
        if ref_id is not None:
            key = conn.execute(select(R.c.decision_type).where(R.c.id == ref_id)).scalar_one()
            dt = self.config.decision_type(key)
            label = (
                next((o.label for o in dt.outcomes if o.key == decision.outcome), None)
                if dt
                else None
            )
            if label:
                return label
        return (
            TRACKING_OUTCOMES.get(decision.outcome)
            or decision.outcome.replace("_", " ").capitalize()
        )

    def to_ratify(self, meeting_id: int, principal: Principal) -> list[ToRatify]:
        """The decisions below quorum a meeting is to ratify."""
        require_reader(principal)
        with read_connection(self.engine) as conn:
            return self._to_ratify(conn, self._meeting(conn, meeting_id))

    def ratify(
        self,
        decision_id: int,
        principal: Principal,
        *,
        meeting_id: int,
        ratified: bool,
        reason: str = "",
    ) -> Decision:
        """Ratify (or not, with a reason) a not-quorate decision at a later quorate meeting:
        ratified, its journey event fires now, dated that meeting; not ratified, it never
        does. One transaction, audited."""
        reason = reason.strip()
        if not ratified and not reason:
            raise PanelInvalid("Say why the decision is not ratified.", errors=["reason: required"])
        if len(reason) > REASON_MAX:
            raise PanelInvalid(
                "The reason is too long.", errors=[f"reason: at most {REASON_MAX} characters"]
            )
        with write_connection(self.engine) as conn:
            d = conn.execute(select(DEC).where(DEC.c.id == decision_id)).one_or_none()
            if d is None:
                raise NotFound(f"There is no decision {decision_id}.")
            held = self._meeting(conn, d.meeting_id)  # the decision's meeting, this panel's
            journey = self._journey(conn, d.journey_id) if d.journey_id else None
            roles = self._event_roles(journey.type if journey else None, d.event)
            require(principal, decision_rule(roles))
            if d.ratification != PENDING:
                raise PanelConflict(
                    "The decision was quorate."
                    if d.quorate
                    else f"The decision was already {d.ratification.replace('_', ' ')}."
                )
            meeting = self._meeting(conn, meeting_id)
            if meeting.meeting_date <= held.meeting_date:
                raise PanelConflict(
                    "A decision below quorum is ratified at a later meeting than its own."
                )
            self._hold(conn, principal, meeting.id)
            state = self._quorum_state(conn, meeting.id)
            if not state.quorate:
                raise PanelConflict(
                    "This meeting is not quorate either: record its attendance first.",
                    code="not_quorate",
                    missing=state.missing,
                )
            version = d.journey_version
            if ratified and d.event and journey is not None:
                view = self.journeys.fire(
                    journey.id,
                    event=d.event,
                    expected_version=journey.version,
                    occurred_on=meeting.meeting_date,
                    data=dict(d.event_data or {}),
                    principal=principal,
                    conn=conn,
                )
                version = view.version
            conn.execute(
                update(DEC)
                .where(DEC.c.id == decision_id)
                .values(
                    ratification=RATIFIED if ratified else NOT_RATIFIED,
                    ratified_meeting_id=meeting.id,
                    ratified_by=principal.user_id,
                    ratified_at=now_utc(),
                    ratification_reason=reason or None,
                    journey_version=version,
                )
            )
            self._audit(
                conn,
                principal,
                "panel_decision_ratified" if ratified else "panel_decision_not_ratified",
                "panel_decision",
                decision_id,
                meeting_id=meeting.id,
                held_meeting_id=held.id,
                outcome=d.outcome,
                event=d.event if ratified else None,
                reason=reason or None,
            )
            log.info("panel_decision_ratified", meeting_id=meeting.id, panel=self.key)
            return self._decision(conn, decision_id)
