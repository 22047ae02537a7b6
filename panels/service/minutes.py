"""Minutes: drafting and approving them, showing them, and a child's panel history."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import Any

from sqlalchemy import Connection, and_, select, update

from notifications.notify import notify
from notifications.render import long_date, panel_meeting
from panels.errors import PanelConflict
from panels.models import ACTIONS as ACT
from panels.models import ATTENDANCE as A
from panels.models import DECISIONS as DEC
from panels.models import ITEMS as I
from panels.models import MEETINGS as M
from panels.models import REFERRALS as R
from panels.permissions import APPROVE_MINUTES, DRAFT_MINUTES, READ_MINUTES, require
from panels.results import (
    Apology,
    ChildRecordEntry,
    Minutes,
    MinutesApproval,
    MinutesDecision,
    MinutesEntry,
    MinutesPart,
    MinutesRecord,
    MinutesRolled,
    NotifiedOnApproval,
    Present,
    stored_minutes,
    to_json,
)
from panels.service.common import (
    MINUTES,
    PanelBase,
    action_of,
    age_on,
    item_rows,
    log,
    quorum_words,
)
from services import audit
from services.access import Principal
from services.clock import now_utc, today
from services.db import read_connection, write_connection
from services.models import CHILDREN as C


class MinutesMixin(PanelBase):
    """Minutes: draft, approve and show them; a child's panel history."""

    def draft_minutes(self, meeting_id: int, principal: Principal) -> Minutes:
        """Draft the minutes from the recorded attendance, items, decisions and actions."""
        require(principal, DRAFT_MINUTES)
        with write_connection(self.engine) as conn:
            meeting = self._meeting(conn, meeting_id)
            if meeting.minutes_status == "approved":
                raise PanelConflict("The minutes are approved; they cannot be redrafted.")
            self._hold(conn, principal, meeting_id)
            minutes = self._compose_minutes(conn, meeting)
            conn.execute(
                update(M)
                .where(M.c.id == meeting_id)
                .values(minutes=to_json(minutes), minutes_status="draft", updated_at=now_utc())
            )
            self._audit(conn, principal, "panel_minutes_drafted", "panel_meeting", meeting_id)
            return minutes

    def _compose_minutes(self, conn: Connection, meeting: Any) -> Minutes:
        members = {m.key: m for m in self.config.members}
        attendance = conn.execute(
            select(A).where(A.c.meeting_id == meeting.id).order_by(A.c.id)
        ).all()
        present = [
            Present(
                seat=members[a.member_key].title if a.member_key in members else a.member_key,
                person=a.person,
            )
            for a in attendance
            if a.status == "present"
        ]
        apologies = [
            Apology(
                seat=members[a.member_key].title if a.member_key in members else a.member_key,
                person=a.person,
                representative=a.representative,
            )
            for a in attendance
            if a.status == "apologies"
        ]
        note_taker = next(
            (
                a.person
                for a in attendance
                if a.member_key in members and members[a.member_key].administrator
            ),
            "",
        )
        items = item_rows(conn, meeting.id, C.c.given_name, C.c.family_name, C.c.date_of_birth)
        decisions: dict[int, list[Any]] = defaultdict(list)
        rows = conn.execute(
            select(DEC).where(DEC.c.meeting_id == meeting.id).order_by(DEC.c.id)
        ).all()
        for d in rows:
            decisions[d.item_id].append(d)
        quorum = quorum_words(conn, rows)
        actions: dict[int, list[Any]] = defaultdict(list)
        for a in conn.execute(select(ACT).where(ACT.c.meeting_id == meeting.id).order_by(ACT.c.id)):
            actions[a.item_id].append(a)
        parts = []
        for part in self.config.parts:
            entries = []
            for it in items:
                if it.part != part.key or it.status == "rolled":
                    continue
                age = age_on(meeting.meeting_date, it.date_of_birth)
                entries.append(
                    MinutesEntry(
                        item_id=it.id,
                        child_id=it.child_id,
                        child_reference=it.reference,
                        # The Panel Decisions template names the child; the minutes are read by
                        # panel members only, and never logged.
                        child_name=f"{it.given_name} {it.family_name}",
                        age=age,
                        journey_type=it.journey_type,
                        journey_state=it.journey_state,
                        source=it.source,
                        cohorts=it.cohorts,
                        review_weeks=it.review_weeks,
                        decisions=[
                            MinutesDecision(
                                outcome=d.outcome,
                                event=d.event,
                                meets_needs=d.meets_needs,
                                resources_child=d.resources_child,
                                resources_carers=d.resources_carers,
                                notes=d.notes,
                                funding=d.funding,
                                quorum_status=quorum[d.id],
                            )
                            for d in decisions.get(it.id, [])
                        ],
                        actions=[action_of(a) for a in actions.get(it.id, [])],
                    )
                )
            parts.append(MinutesPart(key=part.key, title=part.title, items=entries))
        rolled = [
            MinutesRolled(child_reference=it.reference, part=it.part, reason=it.reason)
            for it in items
            if it.status == "rolled"
        ]
        return Minutes(
            panel=self.config.panel.name,
            meeting_id=meeting.id,
            held_on=meeting.meeting_date,
            start_time=meeting.start_time,
            present=present,
            apologies=apologies,
            note_taker=note_taker,
            parts=parts,
            rolled=rolled,
            minutes_due_on=self.minutes_due(meeting.meeting_date),
        )

    def approve_minutes(
        self, meeting_id: int, principal: Principal, approved_on: date | None = None
    ) -> MinutesApproval:
        """Approve the minutes: the minutes deadline is met, each child's entry is written to
        the child's record (a new version after a correction: ``reopen_minutes``) and queued
        for the case management system, and the tracker's circulation to team managers and
        social workers is recorded (and notified where a notification service exists)."""
        require(principal, APPROVE_MINUTES)
        approved_on = approved_on or today()
        with write_connection(self.engine) as conn:
            meeting = self._meeting(conn, meeting_id)
            if meeting.minutes_status == "none":
                raise PanelConflict("Draft the minutes first.")
            if meeting.minutes_status == "approved":
                raise PanelConflict("The minutes are already approved.")
            minutes = self._compose_minutes(conn, meeting)
            conn.execute(
                update(M)
                .where(M.c.id == meeting_id)
                .values(
                    minutes=to_json(minutes),
                    minutes_status="approved",
                    minutes_approved_at=now_utc(),
                    minutes_approved_by=principal.user_id,
                    updated_at=now_utc(),
                )
            )
            self._close_deadlines(
                conn,
                principal,
                MINUTES,
                str(meeting_id),
                met_on=approved_on,
                why="Minutes approved",
            )
            children = minutes.children()
            if self.config.minutes.record_to_child:
                for part in minutes.parts:
                    for entry in part.items:
                        # The child's record gets the entry without the name and age.
                        record = {
                            k: v
                            for k, v in to_json(entry).items()
                            if k not in ("child_name", "age")
                        }
                        self._audit(
                            conn,
                            principal,
                            "panel_minutes_entry",
                            "child",
                            entry.child_id,
                            panel=self.key,
                            meeting_id=meeting_id,
                            held_on=minutes.held_on.isoformat(),
                            part=part.key,
                            entry=record,
                        )
                # The child's record proper (panels.record): one entry per child and minutes
                # version, and its message to the case management system.
                self._write_record_entries(
                    conn, principal, meeting, minutes, approved_on, webhook=self.record_webhook
                )
            told = self._notify_minutes_approved(conn, meeting, approved_on)
            # Keyed on the day it is sent, not the approval date: a back-dated approval and
            # a circulation later that day tell nobody twice (issue 14 item 6).
            circulated = self._circulate(conn, principal, meeting, children, today())
            log.info("panel_minutes_approved", meeting_id=meeting_id, count=len(set(children)))
        return MinutesApproval(
            meeting_id=meeting_id,
            minutes_status="approved",
            children_recorded=len(set(children)) if self.config.minutes.record_to_child else 0,
            circulated_to=circulated.recipients + circulated.already,
            notified=NotifiedOnApproval(
                tracker_circulated=circulated.recipients, minutes_approved=told
            ),
        )

    def _notify_minutes_approved(self, conn: Connection, meeting: Any, on: date) -> list[int]:
        """Each child referred to the meeting and decided: its referring social worker and
        its allocated one hear that the minutes are approved (reference only, no name)."""
        rows = conn.execute(
            select(I.c.child_id, C.c.reference, C.c.allocated_social_worker_id, R.c.referred_by)
            .select_from(I.join(R, R.c.id == I.c.referral_id).join(C, C.c.id == I.c.child_id))
            .where(and_(I.c.meeting_id == meeting.id, I.c.status == "decided"))
            .order_by(I.c.child_id)
        ).all()
        told: set[int] = set()
        for r in rows:
            people = {r.referred_by, r.allocated_social_worker_id} - {None}
            done = notify(
                conn,
                # Once ever per meeting, child and person: minutes are approved once.
                event_key=f"panel:{self.key}:minutes_approved:{meeting.id}:child:{r.child_id}",
                event="panel_minutes_approved",
                recipients=[p for p in people if p is not None],
                template="notify_minutes_approved.txt",
                values={
                    "child_reference": r.reference,
                    "panel": self.config.panel.name,
                    "panel_meeting": panel_meeting(self.config.panel.name),
                    "meeting_date_long": long_date(meeting.meeting_date),
                },
                link=f"/panel/meetings/{meeting.id}",
                on=on,
                email=self.email,
            )
            told.update(done.recipients)
        return sorted(told)

    def minutes(
        self, meeting_id: int, principal: Principal, *, export: str | None = None
    ) -> MinutesRecord:
        """The meeting's minutes (draft or approved); panel staff and the ADM only, since
        they name children. The read is audited with the ids of the children on the
        meeting's agenda, as an export when ``export`` names its format ("html", "pdf")."""
        require(principal, READ_MINUTES)
        with read_connection(self.engine) as conn:
            meeting = self._meeting(conn, meeting_id)
            if meeting.minutes_status == "none":
                raise PanelConflict("No minutes are drafted yet.")
            record = stored_minutes(meeting.minutes, meeting.minutes_status)
            named = conn.execute(select(I.c.child_id).where(I.c.meeting_id == meeting_id))
            child_ids = [int(r.child_id) for r in named]
        audit.audit_read(
            self.engine,
            principal,
            "minutes_export" if export else "minutes",
            child_ids,
            rule=READ_MINUTES.key,
            details={"panel": self.key, "meeting_id": meeting_id, "format": export or "json"},
        )
        return record

    def agenda_names(
        self, meeting_id: int, principal: Principal, *, rolled_limit: int | None = None
    ) -> dict[int, tuple[str, int]]:
        """Each agenda item's child by name and age on the meeting's day, for those who read
        the minutes (the ToR's agenda template names the child; others see the reference);
        ``rolled_limit`` as :meth:`get_meeting`'s, so only the names shown are read."""
        require(principal, READ_MINUTES)
        with read_connection(self.engine) as conn:
            meeting = self._meeting(conn, meeting_id)
            rows = item_rows(
                conn,
                meeting.id,
                C.c.given_name,
                C.c.family_name,
                C.c.date_of_birth,
                rolled_limit=rolled_limit,
            )
        audit.audit_read(
            self.engine,
            principal,
            "agenda_names",
            (r.child_id for r in rows),
            rule=READ_MINUTES.key,
            details={"panel": self.key, "meeting_id": meeting_id},
        )
        return {
            r.id: (f"{r.given_name} {r.family_name}", age_on(meeting.meeting_date, r.date_of_birth))
            for r in rows
        }

    def child_history(self, child_id: int, principal: Principal) -> list[ChildRecordEntry]:
        """The panel entries written to a child's record."""
        from services.models import AUDIT_LOG as AL

        with read_connection(self.engine) as conn:
            self._check_child(conn, principal, child_id, write=False)
            rows = conn.execute(
                select(AL)
                .where(
                    and_(
                        AL.c.entity == "child",
                        AL.c.entity_id == child_id,
                        AL.c.action == "panel_minutes_entry",
                    )
                )
                .order_by(AL.c.id)
            ).all()
        audit.audit_read(
            self.engine, principal, "panel_history", [child_id], details={"panel": self.key}
        )
        return [
            ChildRecordEntry(
                at=r.at,
                panel=r.details["panel"],
                meeting_id=r.details["meeting_id"],
                held_on=date.fromisoformat(r.details["held_on"]),
                part=r.details["part"],
                entry=r.details["entry"],
            )
            for r in rows
        ]
