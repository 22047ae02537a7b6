"""The child's record (issue 14, item 3): approving minutes writes one entry per child on
the agenda, in the approval's transaction, and queues its message to the case management
system; approved minutes can be reopened for a correction, whose approval writes the next
version.

Versions, not updates: each approval of a meeting's minutes is a version (1, 2...) and
writes a new row per item, so an entry sent to the case system is never rewritten here;
the newest version is the one in force and its message names the one it replaces. The
unique key (item, version) and the outbox's (``record:<entry id>``) make writing or queuing
one version twice impossible.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import Connection, and_, func, insert, select, update

from notifications.models import pending_record_webhook
from panels import exports
from panels.errors import PanelConflict, PanelInvalid
from panels.models import ACTIONS as ACT
from panels.models import DECISIONS as DEC
from panels.models import ITEMS as I
from panels.models import MEETINGS as M
from panels.models import RECORD_ENTRIES as RE
from panels.models import REFERRALS as R
from panels.permissions import CORRECT_MINUTES, require
from panels.record import WEBHOOK_TYPE, entry_of
from panels.results import Minutes, MinutesReopened, to_json
from panels.service.common import TRACKING_OUTCOMES, PanelBase, quorum_words
from services.access import Principal
from services.clock import now_utc
from services.db import insert_id, write_connection
from services.models import CHILDREN as C
from services.models import USERS as U
from services.users import person_name

MAX_REASON = 2000


def next_review_on(held_on: date, review_weeks: int | None) -> date | None:
    """When the chair wants the case back: ``review_weeks`` after the meeting."""
    return held_on + timedelta(weeks=int(review_weeks)) if review_weeks else None


class RecordMixin(PanelBase):
    """Entries on the children's records from approved minutes; reopening minutes."""

    def _minutes_version(self, conn: Connection, meeting_id: int) -> int:
        """The version the next approval of the meeting's minutes is: one more than the
        entries written so far."""
        latest = conn.execute(
            select(func.max(RE.c.minutes_version)).where(RE.c.meeting_id == meeting_id)
        ).scalar_one_or_none()
        return int(latest or 0) + 1

    def _item_facts(
        self, conn: Connection, meeting_id: int
    ) -> dict[int, tuple[int | None, dict[str, str]]]:
        """Per agenda item, its journey and its outcomes' labels: its referral's decision
        type's, or the tracking outcomes for a child from a tracked cohort."""
        rows = conn.execute(
            select(I.c.id, I.c.journey_id, R.c.decision_type)
            .select_from(I.outerjoin(R, R.c.id == I.c.referral_id))
            .where(I.c.meeting_id == meeting_id)
        ).all()
        facts: dict[int, tuple[int | None, dict[str, str]]] = {}
        for r in rows:
            dt = self.config.decision_type(r.decision_type) if r.decision_type else None
            labels = {o.key: o.label for o in dt.outcomes} if dt else dict(TRACKING_OUTCOMES)
            facts[r.id] = (r.journey_id, labels)
        return facts

    def _write_record_entries(
        self,
        conn: Connection,
        principal: Principal,
        meeting: Any,
        minutes: Minutes,
        approved_on: date,
        *,
        webhook: bool,
    ) -> list[int]:
        """One entry per child on the approved minutes' agenda (rolled items have none),
        and, when the record webhook is configured, its message in the outbox. Returns the
        entries' ids."""
        version = self._minutes_version(conn, meeting.id)
        facts = self._item_facts(conn, meeting.id)
        decisions: dict[int, list[Any]] = {}
        rows = conn.execute(
            select(DEC).where(DEC.c.meeting_id == meeting.id).order_by(DEC.c.id)
        ).all()
        for d in rows:
            decisions.setdefault(d.item_id, []).append(d)
        quorum = quorum_words(conn, rows)
        actions: dict[int, list[Any]] = {}
        owners = person_name(U).label("owner_name")
        for a in conn.execute(
            select(ACT, owners)
            .select_from(ACT.outerjoin(U, U.c.id == ACT.c.owner_id))
            .where(ACT.c.meeting_id == meeting.id)
            .order_by(ACT.c.id)
        ):
            actions.setdefault(a.item_id, []).append(a)
        previous = {
            int(r.item_id): int(r.id)
            for r in conn.execute(
                select(RE.c.item_id, RE.c.id).where(
                    and_(RE.c.meeting_id == meeting.id, RE.c.minutes_version == version - 1)
                )
            )
        }
        stamp = now_utc()
        written: list[int] = []
        for part in minutes.parts:
            for item in part.items:
                jm = self.registry.current(item.journey_type) if item.journey_type else None
                journey_id, outcome_words = facts.get(item.item_id, (None, {}))
                entry = {
                    "panel_name": self.config.panel.name,
                    "part_title": part.title,
                    "journey_type": item.journey_type,
                    "journey_title": jm.definition.title if jm else None,
                    "review_weeks": item.review_weeks,
                    "decisions": [
                        {
                            "outcome": d.outcome,
                            "outcome_label": outcome_words.get(d.outcome)
                            or d.outcome.replace("_", " ").capitalize(),
                            "event": d.event,
                            "reasons": d.notes,
                            "meets_needs": d.meets_needs,
                            "resources_child": d.resources_child,
                            "resources_carers": d.resources_carers,
                            "quorum_status": quorum[d.id],
                        }
                        for d in decisions.get(item.item_id, [])
                    ],
                    "actions": [
                        {
                            "description": a.description,
                            "owner_id": a.owner_id,
                            "owner_role": a.owner_role,
                            "owner_name": a.owner_name,
                            "due_on": a.due_on.isoformat(),
                            "status": a.status,
                        }
                        for a in actions.get(item.item_id, [])
                    ],
                }
                entry_id = insert_id(
                    conn.execute(
                        insert(RE).values(
                            child_id=item.child_id,
                            panel=self.key,
                            meeting_id=meeting.id,
                            item_id=item.item_id,
                            journey_id=journey_id,
                            minutes_version=version,
                            held_on=minutes.held_on,
                            part=part.key,
                            entry=entry,
                            next_review_on=next_review_on(minutes.held_on, item.review_weeks),
                            approved_on=approved_on,
                            approved_by=principal.user_id,
                            created_at=stamp,
                        )
                    )
                )
                written.append(entry_id)
                self._audit(
                    conn,
                    principal,
                    "panel_record_entry",
                    "child",
                    item.child_id,
                    panel=self.key,
                    meeting_id=meeting.id,
                    entry_id=entry_id,
                    minutes_version=version,
                )
                if webhook:
                    row = conn.execute(
                        select(RE, C.c.reference)
                        .select_from(RE.join(C, C.c.id == RE.c.child_id))
                        .where(RE.c.id == entry_id)
                    ).one()
                    payload = record_payload(
                        entry_of(row, version), replaces=previous.get(item.item_id)
                    )
                    conn.execute(pending_record_webhook(entry_id, payload, stamp))
        return written

    def reopen_minutes(self, meeting_id: int, principal: Principal, reason: str) -> MinutesReopened:
        """Reopen approved minutes for a correction (with the reason, audited): they are a
        draft again, to be redrafted and approved as the next version, whose entries
        replace this version's on each child's record."""
        require(principal, CORRECT_MINUTES)
        reason = (reason or "").strip()
        if not reason:
            raise PanelInvalid("Give the reason for the correction.")
        if len(reason) > MAX_REASON:
            raise PanelInvalid(f"The reason is at most {MAX_REASON} characters.")
        with write_connection(self.engine) as conn:
            meeting = self._meeting(conn, meeting_id)
            if meeting.minutes_status != "approved":
                raise PanelConflict("Only approved minutes are reopened for a correction.")
            self._hold(conn, principal, meeting_id)
            conn.execute(
                update(M)
                .where(M.c.id == meeting_id)
                .values(minutes_status="draft", updated_at=now_utc())
            )
            version = self._minutes_version(conn, meeting_id)
            self._audit(
                conn,
                principal,
                "panel_minutes_reopened",
                "panel_meeting",
                meeting_id,
                reason=reason,
                next_version=version,
            )
        return MinutesReopened(
            meeting_id=meeting_id, minutes_status="draft", next_version=version, reason=reason
        )


def record_payload(entry: Any, *, replaces: int | None) -> dict[str, Any]:
    """The case management system's message for an entry: the child by id and reference
    only (no name, no date of birth), the entry's text and its parts, owners by role."""
    body = to_json(entry)
    return {
        "type": WEBHOOK_TYPE,
        "delivery_id": f"record:{entry.id}",
        "entry_id": entry.id,
        "minutes_version": entry.minutes_version,
        "replaces_entry_id": replaces,
        "child": {"id": entry.child_id, "reference": entry.child_reference},
        "panel": entry.panel,
        "meeting_id": entry.meeting_id,
        "held_on": body["held_on"],
        "approved_on": body["approved_on"],
        "journey_id": entry.journey_id,
        "journey_type": entry.journey_type,
        "text": exports.record_entry_text(entry, owner_names=False),
        "decisions": [
            {
                **{k: d[k] for k in ("outcome", "outcome_label", "reasons")},
                "quorum_status": d.get("quorum_status", ""),
            }
            for d in body["decisions"]
        ],
        "actions": [
            {k: a[k] for k in ("description", "owner_role", "due_on", "status")}
            for a in body["actions"]
        ],
        "next_review_on": body["next_review_on"],
    }
