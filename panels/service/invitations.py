"""Publishing an agenda and the invitations it sends (issue 14 item 2).

Publishing is the administrator's step after building the agenda. It invites, for each
child's item, the child's allocated social worker, the team's managers, and the IRO and
supervising social worker recorded for the child (``panel_case``), to that item's slot; and
it tells each seat's holder of the meeting. Each invitation is an inbox notice and an email
carrying a calendar invitation (``notifications.calendar``).

Once published, every change that moves a slot re-sends only what changed, in the same
transaction as the change: a rebuild, the chair's order or pin, moving the meeting (same
uid, higher sequence: the calendar moves the event) and cancelling it or dropping an item
(``METHOD:CANCEL``). ``panel_invitation`` holds what each invitation last announced, so the
comparison is with what was sent, not with the previous agenda. Each send's notice is keyed
by (invitation, sequence) and its email by the notice: a retried request sends nothing
twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Connection, and_, delete, insert, select, update

from notifications.calendar import calendar_payload
from notifications.notify import notify
from notifications.render import long_date, panel_meeting
from panels.errors import PanelConflict, PanelForbidden, PanelInvalid
from panels.models import ATTENDANCE as A
from panels.models import CASES as PC
from panels.models import INVITATIONS as INV
from panels.models import MEETINGS as M
from panels.models import SEATS as S
from panels.permissions import (
    ASSIGN_SEATS,
    PUBLISH_AGENDA,
    RECORD_INVITEES,
    allows,
    require,
)
from panels.results import Invitation, InvitationDetail, Publication
from panels.service.common import PanelBase, item_rows, log
from services.access import Principal
from services.clock import now_utc, today
from services.db import insert_id, read_connection, write_connection
from services.journeys import NotFound
from services.models import CHILDREN as C
from services.models import USERS as U
from services.users import person_name
from states.roles import IRO, SOCIAL_WORKER, TEAM_MANAGER

# Items that keep a slot on a published agenda (a rolled item has none).
_ON_AGENDA = ("listed", "decided")
_WHAT = {"new": "Invitation", "changed": "Invitation changed", "cancelled": "Invitation cancelled"}


@dataclass(frozen=True)
class _Wanted:
    """An invitation the agenda as it stands calls for."""

    kind: str
    item_key: str
    member_key: str | None
    child_id: int | None
    recipient_id: int
    role: str
    part: str | None
    slot_date: date
    slot_time: str
    slot_minutes: int

    @property
    def slot(self) -> tuple[Any, ...]:
        return (self.part, self.slot_date, self.slot_time, self.slot_minutes)


def _slot_of(row: Any) -> tuple[Any, ...]:
    return (row.part, row.slot_date, row.slot_time, row.slot_minutes)


class InvitationsMixin(PanelBase):
    """Publishing the agenda, its invitations, apologies and representatives."""

    # -- publishing ---------------------------------------------------------------------

    def publish_agenda(
        self, meeting_id: int, principal: Principal, *, on: date | None = None
    ) -> Publication:
        """Publish the built agenda: invite each item's people to its slot and the members
        to the meeting. Publishing again tells only those whose slot changed."""
        require(principal, PUBLISH_AGENDA)
        on = on or today()
        with write_connection(self.engine) as conn:
            meeting = self._meeting(conn, meeting_id)
            if meeting.status != "scheduled":
                raise PanelConflict(f"The agenda of a {meeting.status} meeting is not published.")
            if not any(r.status in _ON_AGENDA for r in item_rows(conn, meeting_id)):
                raise PanelConflict("Build the agenda before publishing it: it has no items.")
            stamp = now_utc()
            conn.execute(
                update(M)
                .where(M.c.id == meeting_id)
                .values(agenda_published_at=stamp, agenda_published_by=principal.user_id)
            )
            result = self._sync_invitations(conn, principal, meeting_id, on)
            self._audit(
                conn,
                principal,
                "panel_agenda_published",
                "panel_meeting",
                meeting_id,
                invited=len(result.invited),
                updated=len(result.updated),
                cancelled=len(result.cancelled),
            )
            log.info("panel_agenda_published", meeting_id=meeting_id, panel=self.key)
            return result

    def _republish(self, conn: Connection, principal: Principal, meeting_id: int) -> None:
        """After a change to a published meeting or its agenda: send what it changed."""
        meeting = self._meeting(conn, meeting_id)
        if meeting.agenda_published_at is None:
            return
        result = self._sync_invitations(conn, principal, meeting_id, today())
        if result.invited or result.updated or result.cancelled:
            self._audit(
                conn,
                principal,
                "panel_agenda_republished",
                "panel_meeting",
                meeting_id,
                invited=len(result.invited),
                updated=len(result.updated),
                cancelled=len(result.cancelled),
            )

    def _sync_invitations(
        self, conn: Connection, principal: Principal, meeting_id: int, on: date
    ) -> Publication:
        """Bring the sent invitations in line with the meeting as it stands."""
        del principal  # the audit row is the caller's
        meeting = self._meeting(conn, meeting_id)
        wanted = self._wanted(conn, meeting) if meeting.status == "scheduled" else {}
        existing = {
            (r.item_key, r.recipient_id): r
            for r in conn.execute(select(INV).where(INV.c.meeting_id == meeting_id))
        }
        references = self._references(
            conn, {w.child_id for w in wanted.values()} | {r.child_id for r in existing.values()}
        )
        stamp = now_utc()
        invited: list[int] = []
        updated: list[int] = []
        cancelled: list[int] = []
        unchanged = 0
        for key, w in wanted.items():
            old = existing.get(key)
            values = {
                "part": w.part,
                "slot_date": w.slot_date,
                "slot_time": w.slot_time,
                "slot_minutes": w.slot_minutes,
                "status": "active",
                "updated_at": stamp,
            }
            if old is None:
                inv_id = int(
                    insert_id(
                        conn.execute(
                            insert(INV).values(
                                panel=self.key,
                                meeting_id=meeting_id,
                                kind=w.kind,
                                item_key=w.item_key,
                                member_key=w.member_key,
                                child_id=w.child_id,
                                recipient_id=w.recipient_id,
                                role=w.role,
                                uid=self._uid(meeting_id, w.item_key, w.recipient_id),
                                sequence=0,
                                created_at=stamp,
                                **values,
                            )
                        )
                    )
                )
                invited.append(inv_id)
                change = "new"
            elif old.status == "cancelled" or _slot_of(old) != w.slot:
                conn.execute(
                    update(INV)
                    .where(INV.c.id == old.id)
                    .values(sequence=INV.c.sequence + 1, **values)
                )
                inv_id = old.id
                updated.append(inv_id)
                change = "changed"
            else:
                unchanged += 1
                continue
            row = conn.execute(select(INV).where(INV.c.id == inv_id)).one()
            self._send(conn, meeting, row, change, references.get(row.child_id), on)
        for key, old in existing.items():
            if key in wanted or old.status != "active":
                continue
            conn.execute(
                update(INV)
                .where(INV.c.id == old.id)
                .values(sequence=INV.c.sequence + 1, status="cancelled", updated_at=stamp)
            )
            cancelled.append(old.id)
            row = conn.execute(select(INV).where(INV.c.id == old.id)).one()
            self._send(conn, meeting, row, "cancelled", references.get(row.child_id), on)
        published = self._meeting(conn, meeting_id).agenda_published_at or stamp
        return Publication(
            meeting_id=meeting_id,
            published_at=published,
            invited=invited,
            updated=updated,
            cancelled=cancelled,
            unchanged=unchanged,
        )

    def _uid(self, meeting_id: int, item_key: str, recipient_id: int) -> str:
        """One uid per person and item for the invitation's whole life."""
        item = item_key.replace(":", "-")
        return f"panel-{self.key}-{meeting_id}-{item}-user{recipient_id}@permanence"

    @staticmethod
    def _references(conn: Connection, child_ids: set[int | None]) -> dict[int, str]:
        ids = sorted(i for i in child_ids if i is not None)
        if not ids:
            return {}
        rows = conn.execute(select(C.c.id, C.c.reference).where(C.c.id.in_(ids)))
        return {r.id: r.reference for r in rows}

    def _wanted(self, conn: Connection, meeting: Any) -> dict[tuple[str, int], _Wanted]:
        """Every invitation the meeting and its agenda call for, by (item key, person).

        A part starts where the parts before it end (their whole capacity, so one part's
        changes never move another's slots); an item starts after the items before it."""
        attendees = set(self.config.invitations.item_attendees)
        rows = [
            r
            for r in item_rows(conn, meeting.id, C.c.team, C.c.allocated_social_worker_id)
            if r.status in _ON_AGENDA
        ]
        child_ids = sorted({r.child_id for r in rows})
        contacts = {
            r.child_id: r
            for r in conn.execute(
                select(PC.c.child_id, PC.c.iro_id, PC.c.supervising_social_worker_id).where(
                    and_(PC.c.panel == self.key, PC.c.child_id.in_(child_ids))
                )
            )
        }
        users = list(conn.execute(select(U.c.id, U.c.roles, U.c.team).where(U.c.active.is_(True))))
        managers: dict[str, list[int]] = {}
        for u in users:
            if u.team and TEAM_MANAGER in (u.roles or ()):
                managers.setdefault(u.team, []).append(u.id)
        start = datetime.combine(meeting.meeting_date, time.fromisoformat(meeting.start_time))
        out: dict[tuple[str, int], _Wanted] = {}
        offset = 0
        for part in self.config.parts:
            at = offset
            for r in sorted((r for r in rows if r.part == part.key), key=lambda r: r.position):
                slot = start + timedelta(minutes=at)
                at += r.minutes
                if r.referral_id is not None:
                    item_key = f"referral:{r.referral_id}"
                else:
                    item_key = f"child:{r.child_id}:{part.key}"
                people: list[tuple[str, int | None]] = []
                if "social_worker" in attendees:
                    people.append(("social_worker", r.allocated_social_worker_id))
                if "team_manager" in attendees:
                    people.extend(("team_manager", m) for m in managers.get(r.team, []))
                contact = contacts.get(r.child_id)
                if contact is not None and "iro" in attendees:
                    people.append(("iro", contact.iro_id))
                if contact is not None and "supervising_social_worker" in attendees:
                    people.append(
                        ("supervising_social_worker", contact.supervising_social_worker_id)
                    )
                for role, person in people:
                    if person is None or (item_key, person) in out:
                        continue
                    out[(item_key, person)] = _Wanted(
                        kind="item",
                        item_key=item_key,
                        member_key=None,
                        child_id=r.child_id,
                        recipient_id=person,
                        role=role,
                        part=part.key,
                        slot_date=slot.date(),
                        slot_time=slot.strftime("%H:%M"),
                        slot_minutes=r.minutes,
                    )
            offset += part.capacity.total_minutes
        if self.config.invitations.members:
            for member_key, person in self._holders(conn, users).items():
                out[(f"member:{member_key}", person)] = _Wanted(
                    kind="member",
                    item_key=f"member:{member_key}",
                    member_key=member_key,
                    child_id=None,
                    recipient_id=person,
                    role="member",
                    part=None,
                    slot_date=meeting.meeting_date,
                    slot_time=meeting.start_time,
                    slot_minutes=meeting.length_minutes,
                )
        return out

    def _holders(self, conn: Connection, users: list[Any]) -> dict[str, int]:
        """Who holds each seat expected at every meeting: the person the administrator named
        for it, or else the only active user holding the role of a seat that is the only one
        of its role (the chair, an IRO service of one). A seat needed only "when required"
        is invited case by case."""
        named = {
            r.member_key: r.user_id
            for r in conn.execute(select(S.c.member_key, S.c.user_id).where(S.c.panel == self.key))
        }
        active = {u.id for u in users}
        seats_of_role: dict[str | None, int] = {}
        for seat in self.config.members:
            seats_of_role[seat.role] = seats_of_role.get(seat.role, 0) + 1
        out: dict[str, int] = {}
        for seat in self.config.members:
            if seat.when_required:
                continue
            person = named.get(seat.key)
            # Only a role with one seat: four team-manager seats are not all one person's.
            if person is None and seat.role and seats_of_role[seat.role] == 1:
                holders = [u.id for u in users if seat.role in (u.roles or ())]
                person = holders[0] if len(holders) == 1 else None
            if person is not None and person in active:
                out[seat.key] = person
        return out

    def _send(
        self,
        conn: Connection,
        meeting: Any,
        row: Any,
        change: str,
        reference: str | None,
        on: date,
    ) -> None:
        """The notice and the email with its .ics for one invitation's new sequence."""
        panel = self.config.panel.name
        when = long_date(row.slot_date)
        if row.kind == "item":
            part = self.config.part(row.part)
            part_title = part.title if part else str(row.part)
            template = "notify_invitation.txt"
            values = {
                "what": _WHAT[change],
                "panel": panel,
                "meeting_date_long": when,
                "slot_time": row.slot_time,
                "part": part_title,
                "child_reference": reference or "",
            }
            link = f"/panel/meetings/{meeting.id}"
            summary = f"{panel}: {part_title}, child reference {reference}"
        else:
            seat = next((m for m in self.config.members if m.key == row.member_key), None)
            seat_title = seat.title if seat else str(row.member_key)
            template = "notify_meeting_invitation.txt"
            values = {
                "what": _WHAT[change],
                "panel": panel,
                "meeting_date_long": when,
                "slot_time": row.slot_time,
                "seat": seat_title,
            }
            link = f"/panel/invitations/{row.id}"
            summary = f"{panel_meeting(panel)} ({seat_title})"
        calendar = calendar_payload(
            method="CANCEL" if change == "cancelled" else "REQUEST",
            uid=row.uid,
            sequence=row.sequence,
            day=row.slot_date,
            start_time=row.slot_time,
            minutes=row.slot_minutes,
            summary=summary,
            link=link,
            stamp=now_utc(),
        )
        notify(
            conn,
            # Once per invitation and sequence: a retry of the same change sends nothing.
            event_key=f"panel:{self.key}:invitation:{row.id}:{row.sequence}",
            event="panel_invitation",
            recipients=[row.recipient_id],
            template=template,
            values=values,
            link=link,
            on=on,
            email=self.email,
            email_payload={"calendar": calendar},
        )

    # -- reading invitations ------------------------------------------------------------

    def meeting_invitations(self, meeting_id: int, principal: Principal) -> list[Invitation]:
        """Every invitation a meeting's publishing sent (the administrator's view)."""
        require(principal, PUBLISH_AGENDA)
        with read_connection(self.engine) as conn:
            self._meeting(conn, meeting_id)
            rows = conn.execute(
                select(INV, C.c.reference)
                .select_from(INV.outerjoin(C, C.c.id == INV.c.child_id))
                .where(INV.c.meeting_id == meeting_id)
                .order_by(INV.c.id)
            ).all()
        return [self._invitation(r, r.reference) for r in rows]

    @staticmethod
    def _invitation(r: Any, reference: str | None) -> Invitation:
        return Invitation(
            id=r.id,
            meeting_id=r.meeting_id,
            kind=r.kind,
            role=r.role,
            recipient_id=r.recipient_id,
            member_key=r.member_key,
            child_id=r.child_id,
            child_reference=reference,
            part=r.part,
            slot_date=r.slot_date,
            slot_time=r.slot_time,
            slot_minutes=r.slot_minutes,
            uid=r.uid,
            sequence=r.sequence,
            status=r.status,
        )

    def _own_member_invitation(
        self, conn: Connection, invitation_id: int, principal: Principal
    ) -> Any:
        row = conn.execute(
            select(INV).where(and_(INV.c.id == invitation_id, INV.c.panel == self.key))
        ).one_or_none()
        if row is None:
            raise NotFound(f"There is no invitation {invitation_id}.")
        if row.recipient_id != principal.user_id and not allows(principal, PUBLISH_AGENDA):
            raise PanelForbidden("This invitation was sent to someone else.")
        if row.kind != "member":
            raise NotFound(f"There is no member's invitation {invitation_id}.")
        return row

    def invitation_detail(self, invitation_id: int, principal: Principal) -> InvitationDetail:
        """A member's invitation: the meeting, the seat and what attendance records for it
        (the invited member's own, or the administrator's)."""
        with read_connection(self.engine) as conn:
            row = self._own_member_invitation(conn, invitation_id, principal)
            return self._detail(conn, row)

    def _detail(self, conn: Connection, row: Any) -> InvitationDetail:
        meeting = self._meeting(conn, row.meeting_id)
        seat = next((m for m in self.config.members if m.key == row.member_key), None)
        att = conn.execute(
            select(A).where(
                and_(A.c.meeting_id == row.meeting_id, A.c.member_key == row.member_key)
            )
        ).one_or_none()
        return InvitationDetail(
            invitation=self._invitation(row, None),
            panel_name=self.config.panel.name,
            meeting_date=meeting.meeting_date,
            start_time=meeting.start_time,
            meeting_status=meeting.status,
            seat_title=seat.title if seat else None,
            attendance_status=att.status if att else None,
            note=att.note if att else None,
            representative=att.representative if att else None,
        )

    # -- apologies and representatives --------------------------------------------------

    def _open_for_apologies(self, conn: Connection, row: Any, principal: Principal) -> Any:
        if row.recipient_id != principal.user_id:
            raise PanelForbidden("Only the member invited sends apologies from an invitation.")
        meeting = self._meeting(conn, row.meeting_id)
        if row.status != "active" or meeting.status != "scheduled":
            raise PanelConflict(f"The invitation is {row.status}; the meeting is {meeting.status}.")
        return meeting

    def send_apologies(
        self, invitation_id: int, principal: Principal, *, note: str = ""
    ) -> InvitationDetail:
        """The invited member sends apologies (with an optional note), recorded on the
        meeting's attendance for the seat; the member is then asked for a representative."""
        note = note.strip()
        if len(note) > 500:
            raise PanelInvalid("The note is too long.", errors=["note: at most 500 characters"])
        with write_connection(self.engine) as conn:
            row = self._own_member_invitation(conn, invitation_id, principal)
            meeting = self._open_for_apologies(conn, row, principal)
            before = _seat_attendance(conn, meeting.id, row.member_key)
            person = conn.execute(
                select(person_name(U)).where(U.c.id == principal.user_id)
            ).scalar_one()
            conn.execute(
                delete(A).where(
                    and_(A.c.meeting_id == meeting.id, A.c.member_key == row.member_key)
                )
            )
            conn.execute(
                insert(A).values(
                    meeting_id=meeting.id,
                    member_key=row.member_key,
                    user_id=principal.user_id,
                    person=person,
                    status="apologies",
                    # Apologies sent again keep the representative already named.
                    representative=before.representative
                    if before is not None and before.status == "apologies"
                    else None,
                    note=note or None,
                    recorded_at=now_utc(),
                )
            )
            seat = next((m for m in self.config.members if m.key == row.member_key), None)
            notify(
                conn,
                event_key=f"panel:{self.key}:representative:{row.id}",
                event="panel_representative",
                recipients=[principal.user_id],
                template="notify_representative.txt",
                values={
                    "panel": self.config.panel.name,
                    "panel_meeting": panel_meeting(self.config.panel.name),
                    "meeting_date_long": long_date(meeting.meeting_date),
                    "seat": seat.title if seat else str(row.member_key),
                },
                link=f"/panel/invitations/{row.id}",
                on=today(),
                email=self.email,
            )
            self._audit(
                conn,
                principal,
                "panel_apologies",
                "panel_meeting",
                meeting.id,
                member_key=row.member_key,
                invitation_id=row.id,
                note=bool(note),
            )
            return self._detail(conn, row)

    def name_representative(
        self, invitation_id: int, principal: Principal, *, representative: str
    ) -> InvitationDetail:
        """The member who sent apologies names who represents the seat (recorded on the
        attendance)."""
        name = representative.strip()
        if not name or len(name) > 200:
            raise PanelInvalid(
                "Name the representative.", errors=["representative: 1 to 200 characters"]
            )
        with write_connection(self.engine) as conn:
            row = self._own_member_invitation(conn, invitation_id, principal)
            meeting = self._open_for_apologies(conn, row, principal)
            seat_row = _seat_attendance(conn, meeting.id, row.member_key)
            if seat_row is None or seat_row.status != "apologies":
                raise PanelConflict("Send apologies before naming a representative.")
            conn.execute(update(A).where(A.c.id == seat_row.id).values(representative=name))
            self._audit(
                conn,
                principal,
                "panel_representative",
                "panel_meeting",
                meeting.id,
                member_key=row.member_key,
                invitation_id=row.id,
                representative=name,
            )
            return self._detail(conn, row)

    # -- who is invited -----------------------------------------------------------------

    def assign_seat(self, principal: Principal, *, member_key: str, user_id: int) -> dict[str, int]:
        """Name who holds a seat (told of each meeting from the next publishing on); the
        seats and their holders are answered."""
        require(principal, ASSIGN_SEATS)
        if member_key not in {m.key for m in self.config.members}:
            raise PanelInvalid(
                "There is no such seat.",
                errors=[f"member_key: one of {', '.join(m.key for m in self.config.members)}"],
            )
        with write_connection(self.engine) as conn:
            self._active_user(conn, user_id, "user_id")
            conn.execute(delete(S).where(and_(S.c.panel == self.key, S.c.member_key == member_key)))
            conn.execute(
                insert(S).values(
                    panel=self.key, member_key=member_key, user_id=user_id, updated_at=now_utc()
                )
            )
            self._audit(
                conn,
                principal,
                "panel_seat_assigned",
                "panel_seat",
                None,
                panel=self.key,
                member_key=member_key,
                user_id=user_id,
            )
            return {
                r.member_key: r.user_id
                for r in conn.execute(
                    select(S.c.member_key, S.c.user_id).where(S.c.panel == self.key)
                )
            }

    @staticmethod
    def _active_user(conn: Connection, user_id: int, field: str, role: str | None = None) -> None:
        row = conn.execute(
            select(U.c.roles).where(and_(U.c.id == user_id, U.c.active.is_(True)))
        ).one_or_none()
        if row is None:
            raise PanelInvalid("No such user.", errors=[f"{field}: no active user {user_id}"])
        if role is not None and role not in (row.roles or ()):
            raise PanelInvalid("Wrong role.", errors=[f"{field}: user {user_id} is not an {role}"])

    def record_invitees(
        self,
        child_id: int,
        principal: Principal,
        *,
        iro_id: int | None,
        supervising_social_worker_id: int | None,
    ) -> dict[str, int | None]:
        """Record the child's IRO and supervising social worker, whom a published agenda
        invites to the child's slot (None clears one)."""
        require(principal, RECORD_INVITEES)
        with write_connection(self.engine) as conn:
            self._check_child(conn, principal, child_id, write=True)
            if iro_id is not None:
                self._active_user(conn, iro_id, "iro_id", IRO)
            if supervising_social_worker_id is not None:
                self._active_user(
                    conn, supervising_social_worker_id, "supervising_social_worker_id"
                )
            values = {
                "iro_id": iro_id,
                "supervising_social_worker_id": supervising_social_worker_id,
                "updated_at": now_utc(),
            }
            done = conn.execute(
                update(PC)
                .where(and_(PC.c.panel == self.key, PC.c.child_id == child_id))
                .values(**values)
            )
            if done.rowcount == 0:
                conn.execute(insert(PC).values(panel=self.key, child_id=child_id, **values))
            self._audit(
                conn,
                principal,
                "panel_invitees_recorded",
                "child",
                child_id,
                panel=self.key,
                iro_id=iro_id,
                supervising_social_worker_id=supervising_social_worker_id,
            )
        return {"iro_id": iro_id, "supervising_social_worker_id": supervising_social_worker_id}

    # -- the pages' reads for the two forms above -----------------------------------------

    def _people(self, conn: Connection) -> list[Any]:
        """Every active user with the name people read, by that name."""
        return list(
            conn.execute(
                select(U.c.id, U.c.roles, person_name(U).label("name"))
                .where(U.c.active.is_(True))
                .order_by(person_name(U), U.c.id)
            )
        )

    def seat_board(self, principal: Principal) -> dict[str, Any]:
        """The panel's seats with who holds each (named, or the only holder of the seat's
        role) and the people who may be named: the administrator's seats page."""
        require(principal, ASSIGN_SEATS)
        with read_connection(self.engine) as conn:
            people = self._people(conn)
            named = {
                r.member_key: r.user_id
                for r in conn.execute(
                    select(S.c.member_key, S.c.user_id).where(S.c.panel == self.key)
                )
            }
            holders = self._holders(conn, people)
        names = {u.id: u.name for u in people}
        seats = [
            {
                "key": m.key,
                "title": m.title,
                "role": m.role,
                "named_id": named.get(m.key),
                "holder_id": holders.get(m.key),
                "holder": names.get(holders.get(m.key) or 0),
                "when_required": m.when_required,
            }
            for m in self.config.members
        ]
        return {"seats": seats, "people": [(u.id, u.name) for u in people]}

    def child_invitees(self, child_id: int, principal: Principal) -> dict[str, Any]:
        """The child's recorded IRO and supervising social worker, with the people each may
        be (active IROs; active social workers and team managers)."""
        require(principal, RECORD_INVITEES)
        with read_connection(self.engine) as conn:
            self._check_child(conn, principal, child_id, write=True)
            row = conn.execute(
                select(PC.c.iro_id, PC.c.supervising_social_worker_id).where(
                    and_(PC.c.panel == self.key, PC.c.child_id == child_id)
                )
            ).one_or_none()
            people = self._people(conn)
        return {
            "iro_id": row.iro_id if row else None,
            "supervising_social_worker_id": row.supervising_social_worker_id if row else None,
            "iros": [(u.id, u.name) for u in people if IRO in (u.roles or ())],
            "workers": [
                (u.id, u.name) for u in people if {SOCIAL_WORKER, TEAM_MANAGER} & set(u.roles or ())
            ],
        }


def _seat_attendance(conn: Connection, meeting_id: int, member_key: str) -> Any:
    """The meeting's attendance row for a seat, or None."""
    return conn.execute(
        select(A).where(and_(A.c.meeting_id == meeting_id, A.c.member_key == member_key))
    ).one_or_none()
