"""The panel escalates a child's drift to the service director.

Two ways in, one escalation: a decision with the outcome ``escalate`` on an agenda item
(``DecisionsMixin.decide``), and the chair's "escalate drift" on an item or on a child
(``escalate_drift``). Either raises it through ``notifications.raised``: the same ladder
notices (service managers and service director, at once), inbox, email, director's list,
breach register and acknowledgement as a missed deadline, carrying the panel's reason.

Once only: an item escalates once, however often its decision is recorded, and a child has
at most one panel escalation waiting for an answer (raising it again answers the open one).
Once acknowledged, the chair may escalate the child again.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, func, select

from notifications.models import RAISED
from notifications.raised import REASON_CHARS, Raised, open_for_child, raise_escalation
from panels.errors import PanelInvalid
from panels.models import ITEMS as I
from panels.permissions import ESCALATE_DRIFT, require
from panels.results import DriftEscalation
from panels.service.common import PanelBase, log
from services.access import Principal
from services.clock import today
from services.db import write_connection
from services.journeys import NotFound
from services.models import CHILDREN as C


def _result(raised: Raised) -> DriftEscalation:
    return DriftEscalation(
        id=raised.id,
        deadline_id=raised.deadline_id,
        child_id=raised.child_id,
        journey_id=raised.journey_id,
        meeting_id=raised.meeting_id,
        item_id=raised.item_id,
        reason=raised.reason,
        raised_on=raised.raised_on,
        created=raised.created,
        open=raised.open,
        notified=raised.notified,
    )


class EscalationsMixin(PanelBase):
    """Escalating drift: from a decision, or the chair's own action."""

    def _raise_drift(
        self,
        conn: Connection,
        principal: Principal,
        *,
        child_id: int,
        journey_id: int | None,
        meeting_id: int | None,
        item_id: int | None,
        decision_id: int | None,
        reason: str,
    ) -> Raised:
        """Escalate the child's drift in this transaction, once (see the module)."""
        waiting = open_for_child(conn, child_id)
        if waiting is not None:
            return waiting
        if item_id is not None:
            source_key = f"panel:{self.key}:item:{item_id}"
        else:
            # The n-th escalation of the child by the chair: a concurrent double click
            # computes the same key, and the second adds nothing.
            prefix = f"panel:{self.key}:child:{child_id}:"
            done = conn.execute(
                select(func.count())
                .select_from(RAISED)
                .where(RAISED.c.source_key.startswith(prefix, autoescape=True))
            ).scalar_one()
            source_key = f"{prefix}{int(done) + 1}"
        raised = raise_escalation(
            conn,
            source_key=source_key,
            child_id=child_id,
            journey_id=journey_id,
            panel=self.key,
            meeting_id=meeting_id,
            item_id=item_id,
            decision_id=decision_id,
            reason=reason,
            raised_by=principal.user_id,
            on=today(),
            email=self.email,
        )
        log.info("panel_escalation", child_id=child_id, item_id=item_id, new=raised.created)
        return raised

    def escalate_drift(
        self,
        principal: Principal,
        reason: str,
        *,
        item_id: int | None = None,
        child_id: int | None = None,
    ) -> DriftEscalation:
        """The chair escalates drift on an agenda item, or on a child, with a reason
        (403 for anyone else; 422 without a reason; 404 for an unknown item or child)."""
        require(principal, ESCALATE_DRIFT)
        reason = (reason or "").strip()
        if not reason:
            raise PanelInvalid("Give the reason for escalating: what is drifting and why.")
        if len(reason) > REASON_CHARS:
            raise PanelInvalid(f"The reason must be {REASON_CHARS:,} characters or fewer.")
        if (item_id is None) == (child_id is None):
            raise PanelInvalid("Escalate either an agenda item or a child.")
        with write_connection(self.engine) as conn:
            journey_id: int | None = None
            meeting_id: int | None = None
            if item_id is not None:
                item: Any = conn.execute(select(I).where(I.c.id == item_id)).one_or_none()
                if item is None:
                    raise NotFound(f"There is no agenda item {item_id}.")
                meeting_id = self._meeting(conn, item.meeting_id).id
                child_id, journey_id = item.child_id, item.journey_id
            elif conn.execute(select(C.c.id).where(C.c.id == child_id)).one_or_none() is None:
                raise NotFound(f"There is no child {child_id}.")
            assert child_id is not None
            self._check_child(conn, principal, child_id, write=False)
            raised = self._raise_drift(
                conn,
                principal,
                child_id=child_id,
                journey_id=journey_id,
                meeting_id=meeting_id,
                item_id=item_id,
                decision_id=None,
                reason=reason,
            )
            return _result(raised)
