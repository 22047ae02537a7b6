"""Meetings: planning them, listing and showing them, moving and cancelling them, and attendance."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import Connection, and_, delete, func, insert, select, update

from panels import schedule as planner
from panels.errors import PanelConflict, PanelInvalid
from panels.models import ATTENDANCE as A
from panels.models import ITEMS as I
from panels.models import MEETINGS as M
from panels.models import REFERRALS as R
from panels.permissions import RECORD_ATTENDANCE, SCHEDULE_MEETINGS, require, require_reader
from panels.results import Attendance, Meeting, MeetingCounts, MeetingDeadline, MeetingDetail, Seat
from panels.service.common import MINUTES, PACK, WAITING_STATUSES, PanelBase, log
from services import audit
from services.access import Principal
from services.clock import now_utc, today
from services.db import insert_id, read_connection, write_connection
from services.models import DEADLINES as D


class PastDateUnconfirmed(PanelInvalid):
    """A move to a past date asked without its confirmation (422)."""

    code = "past_date_unconfirmed"


class MeetingsMixin(PanelBase):
    """Meetings: the planner, the meeting views, moves, cancellations and attendance."""

    def _generate(self, conn: Connection, start: date, months: int | None) -> list[int]:
        schedule = self.config.schedule
        existing = {
            r.scheduled_for
            for r in conn.execute(select(M.c.scheduled_for).where(M.c.panel == self.key))
        }
        stamp = now_utc()
        created = []
        for slot in planner.plan(schedule, start, months):
            if slot.scheduled_for in existing:
                continue  # a meeting already planned (perhaps moved) keeps its place
            new_id = insert_id(
                conn.execute(
                    insert(M).values(
                        panel=self.key,
                        scheduled_for=slot.scheduled_for,
                        meeting_date=slot.meeting_date,
                        start_time=schedule.start_time.strftime("%H:%M"),
                        length_minutes=schedule.length_minutes,
                        status="scheduled",
                        minutes_status="none",
                        minutes={},
                        version=1,
                        created_at=stamp,
                        updated_at=stamp,
                    )
                )
            )
            created.append(int(new_id))
        return created

    def generate(
        self, principal: Principal, start: date | None = None, months: int | None = None
    ) -> list[Meeting]:
        """Plan meetings from ``start`` (default today) for the forward planner's months."""
        require(principal, SCHEDULE_MEETINGS)
        start = start or today()
        with write_connection(self.engine) as conn:
            created = self._generate(conn, start, months)
            self._audit(
                conn,
                principal,
                "panel_planner_generated",
                "panel_meeting",
                None,
                panel=self.key,
                start=start.isoformat(),
                created=len(created),
            )
        end = start + timedelta(days=31 * (months or self.config.schedule.planner_months))
        return self.list_meetings(principal, start, end)

    def list_meetings(
        self, principal: Principal, start: date | None = None, end: date | None = None
    ) -> list[Meeting]:
        """The forward planner: meetings between two dates, each with its pack due date."""
        require_reader(principal)
        query = select(M).where(M.c.panel == self.key).order_by(M.c.meeting_date, M.c.id)
        if start:
            query = query.where(M.c.meeting_date >= start)
        if end:
            query = query.where(M.c.meeting_date <= end)
        with read_connection(self.engine) as conn:
            return [Meeting(**self._meeting_values(r)) for r in conn.execute(query)]

    def meeting_counts(
        self, principal: Principal, meeting_ids: list[int]
    ) -> dict[int, MeetingCounts]:
        """Per meeting: items on its agenda (not rolled) and referrals still waiting for it.
        Two grouped queries for a whole planner, not one per meeting; numbers only, so no
        child data is read."""
        require_reader(principal)
        items: dict[int, int] = {}
        waiting: dict[int, int] = {}
        if meeting_ids:
            with read_connection(self.engine) as conn:
                for meeting_id, n in conn.execute(
                    select(I.c.meeting_id, func.count())
                    .where(and_(I.c.meeting_id.in_(meeting_ids), I.c.status != "rolled"))
                    .group_by(I.c.meeting_id)
                ):
                    items[meeting_id] = n
                for meeting_id, n in conn.execute(
                    select(R.c.meeting_id, func.count())
                    .where(
                        and_(
                            R.c.meeting_id.in_(meeting_ids),
                            R.c.status.in_(WAITING_STATUSES),
                        )
                    )
                    .group_by(R.c.meeting_id)
                ):
                    waiting[meeting_id] = n
        return {
            m: MeetingCounts(items=items.get(m, 0), waiting=waiting.get(m, 0)) for m in meeting_ids
        }

    def _meeting_values(self, row: Any) -> dict[str, Any]:
        """A meeting row as the fields of ``Meeting``, with its pack and minutes due dates."""
        return {
            "id": row.id,
            "panel": row.panel,
            "scheduled_for": row.scheduled_for,
            "meeting_date": row.meeting_date,
            "start_time": row.start_time,
            "length_minutes": row.length_minutes,
            "status": row.status,
            "reason": row.reason,
            "pack_due_on": self.pack_due(row.meeting_date),
            "minutes_due_on": self.minutes_due(row.meeting_date),
            "minutes_status": row.minutes_status,
            "version": row.version,
            "agenda_published_at": row.agenda_published_at,
        }

    def get_meeting(
        self, meeting_id: int, principal: Principal, *, rolled_limit: int | None = None
    ) -> MeetingDetail:
        """A meeting with its attendance, agenda, referrals and deadlines; ``rolled_limit``
        caps the items rolled forward that the agenda lists (the rest counted)."""
        require_reader(principal)
        with read_connection(self.engine) as conn:
            row = self._meeting(conn, meeting_id)
            attendance = [
                Attendance(r.member_key, r.person, r.status, r.representative, r.user_id, r.note)
                for r in conn.execute(
                    select(
                        A.c.member_key,
                        A.c.person,
                        A.c.status,
                        A.c.representative,
                        A.c.user_id,
                        A.c.note,
                    )
                    .where(A.c.meeting_id == meeting_id)
                    .order_by(A.c.id)
                )
            ]
            quorum = self._quorum_state(conn, meeting_id)
            titles = {m.key: m.title for m in self.config.members}
            detail = MeetingDetail(
                **self._meeting_values(row),
                attendance=attendance,
                members=self._seats(attendance),
                agenda=self._agenda(conn, row, principal, rolled_limit=rolled_limit),
                deadlines=[
                    MeetingDeadline(d.id, d.kind, d.ref, d.due_on, d.status, d.journey_id)
                    for d in conn.execute(
                        select(D).where(D.c.meeting_id == meeting_id).order_by(D.c.id)
                    )
                ],
                quorate=quorum.quorate,
                quorum=quorum.description,
                quorum_missing=[titles.get(k, k) for k in quorum.missing],
                to_ratify=self._to_ratify(conn, row),
            )
        # The agenda names the children of the principal's teams listed on it.
        audit.audit_read(
            self.engine,
            principal,
            "agenda",
            (i.child_id for i in detail.agenda.all_items()),
            details={"panel": self.key, "meeting_id": meeting_id},
        )
        return detail

    def _seats(self, attendance: list[Attendance]) -> list[Seat]:
        """Every seat of the panel with who is expected for which parts and what was recorded:
        a seat needed for no part of the meeting, or only "when required", is not chased."""
        recorded = {a.member_key: a for a in attendance}
        part_keys = [p.key for p in self.config.parts]
        out = []
        for m in self.config.members:
            a = recorded.get(m.key)
            if a is not None:
                status = a.status
            else:
                status = "not_recorded" if not m.when_required else "not_invited"
            out.append(
                Seat(
                    key=m.key,
                    title=m.title,
                    role=m.role,
                    parts=m.parts or part_keys,
                    expected=not m.when_required,
                    status=status,
                    representative=a.representative if a else None,
                )
            )
        return out

    def _next_meeting(self, conn: Connection, after: date, *, pack_by: date | None = None) -> Any:
        """The first scheduled meeting after ``after`` (whose pack deadline is not before
        ``pack_by``), planning further ahead if the planner has run out."""
        for attempt in range(2):
            rows = conn.execute(
                select(M)
                .where(
                    and_(M.c.panel == self.key, M.c.status == "scheduled", M.c.meeting_date > after)
                )
                .order_by(M.c.meeting_date, M.c.id)
            ).all()
            for row in rows:
                if pack_by is None or self.pack_due(row.meeting_date) >= pack_by:
                    return row
            if attempt == 0:
                self._generate(conn, max(after, pack_by or after) + timedelta(days=1), None)
        raise PanelConflict("No later meeting could be planned.")

    def move_meeting(
        self,
        meeting_id: int,
        principal: Principal,
        *,
        new_date: date,
        reason: str,
        confirm_past: bool = False,
    ) -> MeetingDetail:
        """Move a meeting; every pack deadline (and the minutes deadline) hanging off it moves
        with it, each move recorded with the reason. A move to a date already past is
        refused unless ``confirm_past`` confirms it (422 ``past_date_unconfirmed``)."""
        require(principal, SCHEDULE_MEETINGS)
        if not reason.strip():
            raise PanelInvalid("Say why the meeting moves.", errors=["reason: required"])
        past = new_date < today()
        if past and not confirm_past:
            raise PastDateUnconfirmed(
                f"{new_date.isoformat()} is in the past: confirm the move (confirm_past) "
                "and say why in the reason.",
                errors=["confirm_past: required to move a meeting to a past date"],
            )
        with write_connection(self.engine) as conn:
            row = self._meeting(conn, meeting_id)
            if row.status != "scheduled":
                raise PanelConflict(f"A {row.status} meeting cannot be moved.")
            clash = conn.execute(
                select(M.c.id).where(
                    and_(
                        M.c.panel == self.key,
                        M.c.meeting_date == new_date,
                        M.c.status != "cancelled",
                        M.c.id != meeting_id,
                    )
                )
            ).first()
            if clash is not None:
                raise PanelConflict(f"Meeting {clash.id} is already on {new_date.isoformat()}.")
            conn.execute(
                update(M)
                .where(M.c.id == meeting_id)
                .values(
                    meeting_date=new_date,
                    reason=reason,
                    version=M.c.version + 1,
                    updated_at=now_utc(),
                )
            )
            why = (
                f"Meeting moved from {row.meeting_date.isoformat()} to "
                f"{new_date.isoformat()}: {reason}"
            )
            for d in conn.execute(
                select(D).where(and_(D.c.meeting_id == meeting_id, D.c.status == "open"))
            ).all():
                if d.kind == PACK:
                    due = self.pack_due(new_date)
                    conn.execute(
                        update(R)
                        .where(R.c.id == int(d.ref))
                        .values(pack_due_on=due, updated_at=now_utc())
                    )
                elif d.kind == MINUTES:
                    due = self.minutes_due(new_date)
                else:
                    continue  # an action's due date is its own, not the meeting's
                self._move_deadline(conn, principal, d, due, meeting_id, why)
            # Accepted packs are already in: their due date moves for the record.
            conn.execute(
                update(R)
                .where(and_(R.c.meeting_id == meeting_id, R.c.status != "awaiting_pack"))
                .values(pack_due_on=self.pack_due(new_date))
            )
            self._audit(
                conn,
                principal,
                "panel_meeting_moved",
                "panel_meeting",
                meeting_id,
                from_date=row.meeting_date.isoformat(),
                to_date=new_date.isoformat(),
                reason=reason,
                past_date_confirmed=past,
            )
            # Published invitations move with the meeting (same uid, higher sequence).
            self._republish(conn, principal, meeting_id)
            log.info("panel_meeting_moved", meeting_id=meeting_id, panel=self.key)
        return self.get_meeting(meeting_id, principal)

    def cancel_meeting(
        self, meeting_id: int, principal: Principal, *, reason: str
    ) -> MeetingDetail:
        """Cancel a meeting; its referrals are offered the next meeting, their pack deadlines
        moving with them."""
        require(principal, SCHEDULE_MEETINGS)
        if not reason.strip():
            raise PanelInvalid("Say why the meeting is cancelled.", errors=["reason: required"])
        with write_connection(self.engine) as conn:
            row = self._meeting(conn, meeting_id)
            if row.status != "scheduled":
                raise PanelConflict(f"A {row.status} meeting cannot be cancelled.")
            conn.execute(
                update(M)
                .where(M.c.id == meeting_id)
                .values(
                    status="cancelled", reason=reason, version=M.c.version + 1, updated_at=now_utc()
                )
            )
            nxt = self._next_meeting(conn, row.meeting_date)
            for ref in conn.execute(
                select(R).where(
                    and_(
                        R.c.meeting_id == meeting_id, R.c.status.in_(("awaiting_pack", "accepted"))
                    )
                )
            ).all():
                self._offer(
                    conn,
                    principal,
                    ref,
                    nxt,
                    f"The meeting on {row.meeting_date.isoformat()} was cancelled: {reason}",
                    code="cancelled",
                )
            conn.execute(
                delete(I).where(and_(I.c.meeting_id == meeting_id, I.c.status != "decided"))
            )
            self._close_deadlines(
                conn,
                principal,
                MINUTES,
                str(meeting_id),
                met_on=None,
                why=f"Meeting cancelled: {reason}",
            )
            self._audit(
                conn,
                principal,
                "panel_meeting_cancelled",
                "panel_meeting",
                meeting_id,
                reason=reason,
                next_meeting_id=nxt.id,
            )
            # Every invitation it sent is cancelled (METHOD:CANCEL).
            self._republish(conn, principal, meeting_id)
        return self.get_meeting(meeting_id, principal)

    def record_attendance(
        self, meeting_id: int, principal: Principal, entries: list[dict[str, Any]]
    ) -> MeetingDetail:
        """Who came, who sent apologies and who represented them (one row per seat)."""
        require(principal, RECORD_ATTENDANCE)
        members = {m.key: m for m in self.config.members}
        errors = []
        for e in entries:
            if e.get("member_key") not in members:
                errors.append(
                    f"member_key: no seat {e.get('member_key')!r} (one of {', '.join(members)})"
                )
            if e.get("status") not in ("present", "apologies", "absent"):
                errors.append(f"{e.get('member_key')}: status must be present, apologies or absent")
        if errors:
            raise PanelInvalid("The attendance is not valid.", errors=errors)
        with write_connection(self.engine) as conn:
            self._meeting(conn, meeting_id)
            for e in entries:
                conn.execute(
                    delete(A).where(
                        and_(A.c.meeting_id == meeting_id, A.c.member_key == e["member_key"])
                    )
                )
                conn.execute(
                    insert(A).values(
                        meeting_id=meeting_id,
                        member_key=e["member_key"],
                        user_id=e.get("user_id"),
                        person=e.get("person") or "",
                        status=e["status"],
                        representative=e.get("representative"),
                        recorded_at=now_utc(),
                    )
                )
            self._hold(conn, principal, meeting_id)
            self._audit(
                conn, principal, "panel_attendance", "panel_meeting", meeting_id, seats=len(entries)
            )
        return self.get_meeting(meeting_id, principal)

    def _hold(self, conn: Connection, principal: Principal, meeting_id: int) -> None:
        """Mark the meeting held (once it has happened) and open its minutes deadline."""
        row = self._meeting(conn, meeting_id)
        if row.status == "cancelled":
            raise PanelConflict("The meeting was cancelled.")
        if row.meeting_date > today():
            raise PanelConflict(
                f"The meeting on {row.meeting_date.isoformat()} has not happened yet."
            )
        if row.status == "held":
            return
        conn.execute(
            update(M)
            .where(M.c.id == meeting_id)
            .values(status="held", version=M.c.version + 1, updated_at=now_utc())
        )
        self._open_deadline(
            conn,
            principal,
            kind=MINUTES,
            ref=str(meeting_id),
            due_on=self.minutes_due(row.meeting_date),
            journey_id=None,
            child_id=None,
            meeting_id=meeting_id,
            owner_id=None,
            owner_role=self.config.minutes.owner_role,
            why=(
                f"Minutes of the meeting on {row.meeting_date.isoformat()} are due "
                f"{self.config.minutes.due_working_days} working days after it"
            ),
        )
