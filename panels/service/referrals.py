"""Referrals and packs: referring a journey, the pack and withdrawing a referral."""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import ValidationError
from sqlalchemy import Connection, and_, insert, select, update

from panels.config import Checklist, DecisionType
from panels.errors import PanelConflict, PanelInvalid
from panels.funding import FundingRequest
from panels.models import MEETINGS as M
from panels.models import REFERRALS as R
from panels.permissions import REFER_CASE, WITHDRAW_REFERRAL, require, require_reader
from panels.results import ChecklistQuestion, ReferableJourney, Referral, WaitingReferral
from panels.service.common import PACK, WAITING_STATUSES, PanelBase
from services import audit
from services.access import Principal, child_refusal
from services.clock import now_utc, today
from services.db import insert_id, read_connection, write_connection
from services.journeys import AccessDenied, NotFound
from services.models import CHILDREN as C
from services.models import JOURNEYS as J
from states.checklists import COMPLETE_IN_WORDS, either
from states.roles import SOCIAL_WORKER
from workflow.fields import CHECKLIST_ANSWERS


class ReferralsMixin(PanelBase):
    """Referrals: refer, show, submit the pack, withdraw, and offering another meeting."""

    def refer(
        self,
        principal: Principal,
        *,
        journey_id: int,
        decision_type: str,
        meeting_id: int | None = None,
        referred_on: date | None = None,
        documents: list[str] | None = None,
    ) -> Referral:
        """Refer a journey to a meeting for a decision; the pack deadline opens."""
        require(principal, REFER_CASE)
        dt = self._referable_type(decision_type)
        referred_on = referred_on or today()
        if referred_on > today():
            raise PanelInvalid("A referral cannot be future-dated.")
        with write_connection(self.engine) as conn:
            j = self._journey(conn, journey_id)
            self._check_referable(principal, j, dt)
            meeting = self._meeting_to_refer_to(conn, meeting_id, referred_on)
            self._refuse_second_referral(conn, journey_id, decision_type)
            ref_id = self._insert_referral(
                conn, principal, j, dt, meeting, referred_on, list(documents or [])
            )
            self._open_pack_deadline(conn, principal, j, dt, meeting, ref_id)
            self._audit(
                conn,
                principal,
                "panel_referred",
                "panel_referral",
                ref_id,
                journey_id=journey_id,
                decision_type=decision_type,
                meeting_id=meeting.id,
            )
            return self._referral(conn, ref_id)

    def _referable_type(self, decision_type: str) -> DecisionType:
        """The panel's decision type called ``decision_type``, or 422 listing them."""
        dt = self.config.decision_type(decision_type)
        if dt is None:
            raise PanelInvalid(
                f"The {self.key} panel has no decision type {decision_type!r}.",
                decision_types=[d.key for d in self.config.decision_types],
            )
        return dt

    @staticmethod
    def _check_referable(principal: Principal, j: Any, dt: DecisionType) -> None:
        """The principal may write to the journey's child, and the journey is one the
        decision type takes: of its type, active, in a state it allows (422 with every
        reason)."""
        refusal = child_refusal(principal, j.team, write=True)
        if refusal:
            raise AccessDenied(refusal)
        problems = []
        if j.type != dt.journey_type:
            problems.append(f"{dt.title} is for a {dt.journey_type} journey, not {j.type}.")
        if j.status != "active":
            problems.append("The journey is closed.")
        elif not dt.in_state(j.state):
            problems.append(
                f"{dt.title} can be referred in state {' or '.join(dt.states)}; "
                f"the journey is {j.state}."
            )
        if problems:
            raise PanelInvalid(
                "The journey cannot be referred: " + " ".join(problems), reasons=problems
            )

    def _meeting_to_refer_to(
        self, conn: Connection, meeting_id: int | None, referred_on: date
    ) -> Any:
        """The meeting asked for (it must be scheduled), or the next one whose pack deadline
        has not passed on ``referred_on``."""
        if meeting_id is None:
            return self._next_meeting(conn, referred_on, pack_by=referred_on)
        meeting = self._meeting(conn, meeting_id)
        if meeting.status != "scheduled":
            raise PanelConflict(f"The meeting is {meeting.status}.")
        return meeting

    @staticmethod
    def _refuse_second_referral(conn: Connection, journey_id: int, decision_type: str) -> None:
        """409 if the journey is already referred for this decision and not yet decided."""
        open_ref = conn.execute(
            select(R.c.id).where(
                and_(
                    R.c.journey_id == journey_id,
                    R.c.decision_type == decision_type,
                    R.c.status.in_(("awaiting_pack", "accepted", "listed")),
                )
            )
        ).first()
        if open_ref is not None:
            raise PanelConflict(
                "The journey is already referred for this decision.", referral_id=open_ref.id
            )

    def _insert_referral(
        self,
        conn: Connection,
        principal: Principal,
        j: Any,
        dt: DecisionType,
        meeting: Any,
        referred_on: date,
        documents: list[str],
    ) -> int:
        """Write the referral, awaiting its pack; its id."""
        stamp = now_utc()
        return int(
            insert_id(
                conn.execute(
                    insert(R).values(
                        panel=self.key,
                        meeting_id=meeting.id,
                        journey_id=j.id,
                        child_id=j.child_id,
                        decision_type=dt.key,
                        status="awaiting_pack",
                        referred_by=principal.user_id,
                        referred_on=referred_on,
                        pack_due_on=self.pack_due(meeting.meeting_date),
                        checklist={},
                        documents=documents,
                        funding={},
                        reason=None,
                        history=[
                            {
                                "on": referred_on.isoformat(),
                                "meeting_id": meeting.id,
                                "note": "referred",
                            }
                        ],
                        created_at=stamp,
                        updated_at=stamp,
                    )
                )
            )
        )

    def _open_pack_deadline(
        self,
        conn: Connection,
        principal: Principal,
        j: Any,
        dt: DecisionType,
        meeting: Any,
        ref_id: int,
    ) -> None:
        """The pack deadline: the referring social worker's (or, when someone else refers,
        the child's allocated one's), hanging off the meeting."""
        owner = (
            principal.user_id if SOCIAL_WORKER in principal.roles else j.allocated_social_worker_id
        )
        self._open_deadline(
            conn,
            principal,
            kind=PACK,
            ref=str(ref_id),
            due_on=self.pack_due(meeting.meeting_date),
            journey_id=j.id,
            child_id=j.child_id,
            meeting_id=meeting.id,
            owner_id=owner,
            owner_role=SOCIAL_WORKER,
            why=f"Pack for {dt.title} at the meeting on {meeting.meeting_date.isoformat()}",
        )

    def referable_journeys(self, principal: Principal, limit: int) -> list[ReferableJourney]:
        """The active journeys of the children the principal may see that this panel takes a
        referral for, in a state a decision type allows, by child reference (at most
        ``limit``). One query; team scoping by ``Principal.visible_teams``."""
        teams = principal.visible_teams()
        query = (
            select(J.c.id, J.c.type, J.c.state, C.c.reference)
            .select_from(J.join(C, C.c.id == J.c.child_id))
            .where(and_(J.c.status == "active", J.c.type.in_(sorted(self.config.referable_types))))
            .order_by(C.c.reference, J.c.id)
        )
        if teams is not None:
            query = query.where(C.c.team.in_(sorted(teams)))
        with read_connection(self.engine) as conn:
            rows = conn.execute(query).all()
        out = []
        for r in rows:
            if self.config.decision_types_for(r.type, r.state):
                out.append(
                    ReferableJourney(id=r.id, reference=r.reference, type=r.type, state=r.state)
                )
                if len(out) == limit:
                    break
        return out

    def _referral(self, conn: Connection, referral_id: int) -> Referral:
        r = conn.execute(
            select(R, M.c.meeting_date)
            .select_from(R.join(M, M.c.id == R.c.meeting_id))
            .where(R.c.id == referral_id)
        ).one_or_none()
        if r is None:
            raise NotFound(f"There is no referral {referral_id}.")
        dt = self.config.decision_type(r.decision_type)
        checklist = self.config.checklist(dt.checklist) if dt and dt.checklist else None
        return Referral(
            id=r.id,
            meeting_id=r.meeting_id,
            meeting_date=r.meeting_date,
            journey_id=r.journey_id,
            child_id=r.child_id,
            decision_type=r.decision_type,
            status=r.status,
            listable=r.status == "accepted",
            referred_on=r.referred_on,
            pack_due_on=r.pack_due_on,
            pack_submitted_on=r.pack_submitted_on,
            checklist=r.checklist,
            checklist_items=[ChecklistQuestion(i.key, i.text) for i in checklist.items]
            if checklist
            else [],
            documents=r.documents,
            documents_expected=dt.documents if dt else [],
            funding=r.funding,
            reason=r.reason,
            history=r.history,
        )

    def waiting_referrals(self, meeting_id: int, principal: Principal) -> list[WaitingReferral]:
        """The referrals waiting for the meeting (the planner's "Referrals waiting"), pack
        due date first, for the children the principal may see."""
        require_reader(principal)
        # Only the columns shown: not each referral's pack, JSON decoded for nothing (500
        # referrals waiting: a sixth of the meeting page at national size, issue 12 item 4).
        query = (
            select(
                R.c.id,
                R.c.child_id,
                R.c.decision_type,
                R.c.status,
                R.c.pack_due_on,
                R.c.pack_submitted_on,
                C.c.reference,
            )
            .select_from(R.join(C, C.c.id == R.c.child_id))
            .where(and_(R.c.meeting_id == meeting_id, R.c.status.in_(WAITING_STATUSES)))
            .order_by(R.c.pack_due_on, R.c.id)
        )
        teams = principal.visible_teams()
        if teams is not None:
            query = query.where(C.c.team.in_(sorted(teams)))
        with read_connection(self.engine) as conn:
            waiting = [
                WaitingReferral(
                    id=r.id,
                    child_id=r.child_id,
                    child_reference=r.reference,
                    decision_type=r.decision_type,
                    status=r.status,
                    pack_due_on=r.pack_due_on,
                    pack_submitted_on=r.pack_submitted_on,
                )
                for r in conn.execute(query)
            ]
        audit.audit_read(
            self.engine,
            principal,
            "waiting_referrals",
            (w.child_id for w in waiting),
            details={"panel": self.key, "meeting_id": meeting_id},
        )
        return waiting

    def get_referral(self, referral_id: int, principal: Principal) -> Referral:
        """A referral the principal may see."""
        with read_connection(self.engine) as conn:
            out = self._referral(conn, referral_id)
            self._check_child(conn, principal, out.child_id, write=False)
        # The referral carries its pack: checklist answers, documents, funding form.
        audit.audit_read(
            self.engine,
            principal,
            "referral",
            [out.child_id],
            details={"panel": self.key, "referral_id": referral_id},
        )
        return out

    def _offer(
        self,
        conn: Connection,
        principal: Principal,
        ref: Any,
        meeting: Any,
        reason: str,
        *,
        code: str,
        status: str | None = None,
    ) -> str:
        """Offer a referral the given meeting instead, with the reason shown on it.

        ``code`` classifies the reason for reports: late, incomplete, no_pack, full,
        cancelled or pinned.
        """
        shown = f"{reason} Offered the meeting on {meeting.meeting_date.isoformat()}."
        history = [
            *ref.history,
            {
                "on": today().isoformat(),
                "from_meeting_id": ref.meeting_id,
                "meeting_id": meeting.id,
                "code": code,
                "note": shown,
            },
        ]
        due = self.pack_due(meeting.meeting_date)
        conn.execute(
            update(R)
            .where(R.c.id == ref.id)
            .values(
                meeting_id=meeting.id,
                pack_due_on=due,
                reason=shown,
                history=history,
                status=status or ref.status,
                updated_at=now_utc(),
            )
        )
        for d in self._open_rows(conn, PACK, str(ref.id)):
            self._move_deadline(conn, principal, d, due, meeting.id, shown)
        return shown

    def submit_pack(
        self,
        principal: Principal,
        referral_id: int,
        *,
        checklist: dict[str, str],
        documents: list[str] | None = None,
        funding: dict[str, Any] | None = None,
        submitted_on: date | None = None,
    ) -> Referral:
        """Submit the pack. Complete and on time: accepted for the meeting. Late or incomplete:
        it cannot be listed for decision and is offered the next meeting, saying why."""
        require(principal, REFER_CASE)
        submitted_on = submitted_on or today()
        if submitted_on > today():
            raise PanelInvalid("A pack cannot be future-dated.")
        with write_connection(self.engine) as conn:
            ref = self._awaiting_pack(conn, principal, referral_id)
            dt = self.config.decision_type(ref.decision_type)
            assert dt is not None  # a referral's decision type is the panel's own
            cl = self.config.checklist(dt.checklist) if dt.checklist else None
            form = self._check_pack(dt, cl, checklist, funding)
            meeting = self._meeting(conn, ref.meeting_id)
            ref = self._store_pack(conn, ref, checklist, documents, form, submitted_on)
            missing = cl.missing(checklist) if cl is not None else []
            unanswered = form.unanswered() if form is not None else []
            if missing or unanswered:
                self._refuse_incomplete_pack(
                    conn, principal, ref, meeting, cl, missing, unanswered, submitted_on
                )
            else:
                self._accept_pack(conn, principal, ref, dt, meeting, checklist, submitted_on)
            return self._referral(conn, referral_id)

    def _awaiting_pack(self, conn: Connection, principal: Principal, referral_id: int) -> Any:
        """The referral of this panel, if the principal may write to its child and a pack is
        awaited."""
        ref = conn.execute(
            select(R).where(and_(R.c.id == referral_id, R.c.panel == self.key))
        ).one_or_none()
        if ref is None:
            raise NotFound(f"There is no referral {referral_id}.")
        self._check_child(conn, principal, ref.child_id, write=True)
        if ref.status != "awaiting_pack":
            raise PanelConflict(f"The referral is {ref.status}; no pack is awaited.")
        return ref

    @staticmethod
    def _check_pack(
        dt: DecisionType,
        cl: Checklist | None,
        checklist: dict[str, str],
        funding: dict[str, Any] | None,
    ) -> FundingRequest | None:
        """The pack's answers are answers and its items the checklist's; a funding decision's
        request is a valid form (its form, else None). 422 with every error."""
        errors = [
            f"checklist.{k}: answer {either(CHECKLIST_ANSWERS)}"
            for k, v in checklist.items()
            if v not in CHECKLIST_ANSWERS
        ]
        if cl is not None:
            known = {i.key for i in cl.items}
            errors += [
                f"checklist.{k}: checklist {cl.key} has no such item"
                for k in checklist
                if k not in known
            ]
        form: FundingRequest | None = None
        if dt.funding_scheme is not None:
            try:
                form = FundingRequest.model_validate(funding or {})
            except ValidationError as exc:
                errors += [
                    f"funding.{'.'.join(str(p) for p in e['loc'])}: {e['msg']}"
                    for e in exc.errors()
                ]
        if errors:
            raise PanelInvalid("The pack is not valid.", errors=errors)
        return form

    @staticmethod
    def _store_pack(
        conn: Connection,
        ref: Any,
        checklist: dict[str, str],
        documents: list[str] | None,
        form: FundingRequest | None,
        submitted_on: date,
    ) -> Any:
        """Record the pack on the referral (whatever becomes of it); the referral as now."""
        conn.execute(
            update(R)
            .where(R.c.id == ref.id)
            .values(
                checklist=checklist,
                documents=list(documents or ref.documents),
                funding=form.model_dump(mode="json") if form else {},
                pack_submitted_on=submitted_on,
                updated_at=now_utc(),
            )
        )
        return conn.execute(select(R).where(R.c.id == ref.id)).one()

    def _refuse_incomplete_pack(
        self,
        conn: Connection,
        principal: Principal,
        ref: Any,
        meeting: Any,
        cl: Checklist | None,
        missing: list[str],
        unanswered: list[str],
        submitted_on: date,
    ) -> None:
        """An incomplete pack cannot be listed: the referral is offered the next meeting
        whose pack deadline has not passed, saying what is missing."""
        parts = []
        if missing:
            parts.append(
                f"checklist {cl.key if cl else ''} is incomplete "
                f"({', '.join(missing)} not answered {COMPLETE_IN_WORDS})"
            )
        if unanswered:
            parts.append(f"the funding request form leaves {', '.join(unanswered)} unanswered")
        on = meeting.meeting_date.isoformat()
        reason = f"The pack cannot be listed for decision on {on}: {'; '.join(parts)}."
        nxt = self._next_meeting(conn, meeting.meeting_date, pack_by=max(submitted_on, today()))
        self._offer(conn, principal, ref, nxt, reason, code="incomplete")
        self._audit(
            conn,
            principal,
            "panel_pack_incomplete",
            "panel_referral",
            ref.id,
            missing=missing,
            unanswered=unanswered,
        )

    def _accept_pack(
        self,
        conn: Connection,
        principal: Principal,
        ref: Any,
        dt: DecisionType,
        meeting: Any,
        checklist: dict[str, str],
        submitted_on: date,
    ) -> None:
        """A complete pack is accepted: for its meeting if on time, else for the next one
        whose deadline it meets; the pack deadline is met and the decision type's pack event
        fires on the journey."""
        if submitted_on > ref.pack_due_on:
            meeting = self._offer_late_pack(conn, principal, ref, meeting, submitted_on)
        conn.execute(update(R).where(R.c.id == ref.id).values(status="accepted"))
        self._close_deadlines(
            conn,
            principal,
            PACK,
            str(ref.id),
            met_on=submitted_on,
            why="Pack received complete",
        )
        if dt.on_pack_event:
            j = self._journey(conn, ref.journey_id)
            self.journeys.fire(
                ref.journey_id,
                event=dt.on_pack_event,
                expected_version=j.version,
                occurred_on=submitted_on,
                data={"panel_date": meeting.meeting_date.isoformat(), "checklist": checklist},
                principal=principal,
                conn=conn,
            )
        self._audit(
            conn,
            principal,
            "panel_pack_accepted",
            "panel_referral",
            ref.id,
            meeting_id=meeting.id,
        )

    def _offer_late_pack(
        self, conn: Connection, principal: Principal, ref: Any, meeting: Any, submitted_on: date
    ) -> Any:
        """A late pack cannot be listed at its meeting: the referral is offered the next
        meeting whose deadline it meets (returned), saying why."""
        reason = (
            f"The pack arrived on {submitted_on.isoformat()}, after the "
            f"deadline {ref.pack_due_on.isoformat()} for the meeting on "
            f"{meeting.meeting_date.isoformat()}; a late pack cannot be listed for decision."
        )
        later = self._next_meeting(conn, meeting.meeting_date, pack_by=submitted_on)
        self._offer(conn, principal, ref, later, reason, code="late")
        self._audit(
            conn,
            principal,
            "panel_pack_late",
            "panel_referral",
            ref.id,
            due_on=ref.pack_due_on.isoformat(),
        )
        return later

    def withdraw_referral(self, principal: Principal, referral_id: int, reason: str) -> Referral:
        """Withdraw a referral; its pack deadline is cancelled."""
        require(principal, WITHDRAW_REFERRAL)
        with write_connection(self.engine) as conn:
            ref = conn.execute(select(R).where(R.c.id == referral_id)).one_or_none()
            if ref is None:
                raise NotFound(f"There is no referral {referral_id}.")
            # WITHDRAW_REFERRAL says who may; the panel administrator, who may, has no write
            # access to children's records, so only sight of the child is checked here.
            self._check_child(conn, principal, ref.child_id, write=False)
            conn.execute(
                update(R)
                .where(R.c.id == referral_id)
                .values(status="withdrawn", reason=reason, updated_at=now_utc())
            )
            self._close_deadlines(
                conn,
                principal,
                PACK,
                str(referral_id),
                met_on=None,
                why=f"Referral withdrawn: {reason}",
            )
            return self._referral(conn, referral_id)
