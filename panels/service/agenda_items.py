"""A meeting's agenda items: building the agenda, reordering and pinning items.

The placement algorithm itself is ``panels.agenda``; this is the part that reads and writes the
database."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import Any

from sqlalchemy import Connection, and_, delete, insert, select, update

from panels import agenda as agenda_builder
from panels import cohorts as cohort_rules
from panels.errors import PanelConflict, PanelInvalid
from panels.models import CASES as PC
from panels.models import ITEMS as I
from panels.models import MEETINGS as M
from panels.models import REFERRALS as R
from panels.permissions import ARRANGE_AGENDA, BUILD_AGENDA, require
from panels.results import Agenda, AgendaItem, AgendaPart, NotListed
from panels.service.common import PanelBase, item_rows, rolled_count
from services.access import Principal
from services.clock import now_utc, today
from services.db import write_connection
from services.journeys import NotFound
from services.models import CHILDREN as C


class AgendaItemsMixin(PanelBase):
    """Agenda items: build a meeting's agenda, reorder it, pin items."""

    def _roll_late(self, conn: Connection, principal: Principal, meeting: Any, as_of: date) -> None:
        """Referrals still without a complete pack after their deadline go to the next meeting."""
        for ref in conn.execute(
            select(R).where(
                and_(
                    R.c.meeting_id == meeting.id,
                    R.c.status == "awaiting_pack",
                    R.c.pack_due_on < as_of,
                )
            )
        ).all():
            nxt = self._next_meeting(conn, meeting.meeting_date, pack_by=as_of)
            self._offer(
                conn,
                principal,
                ref,
                nxt,
                f"No complete pack by {ref.pack_due_on.isoformat()}: it cannot be "
                f"listed for decision on {meeting.meeting_date.isoformat()}.",
                code="no_pack",
            )

    def build_agenda(
        self, meeting_id: int, principal: Principal, *, as_of: date | None = None
    ) -> Agenda:
        """Build (or rebuild) the agenda: accepted referrals and the tracked cohorts, each part
        within its capacity; the rest rolls to the next meeting with the reason. Pinned and
        decided items stay where the chair put them."""
        require(principal, BUILD_AGENDA)
        as_of = as_of or today()
        with write_connection(self.engine) as conn:
            meeting = self._meeting(conn, meeting_id)
            if meeting.status == "cancelled":
                raise PanelConflict("The meeting was cancelled.")
            self._roll_late(conn, principal, meeting, min(as_of, meeting.meeting_date))
            candidates = self._candidates(conn, meeting)
            # Pins were read into the candidates above; undecided items are placed afresh.
            conn.execute(
                delete(I).where(and_(I.c.meeting_id == meeting_id, I.c.status != "decided"))
            )
            built = agenda_builder.build_agenda(self.config.parts, candidates)
            stamp = now_utc()
            rows = []
            for pa in built.parts:
                for placed in pa.items:
                    rows.append(
                        self._item_row(
                            meeting_id,
                            pa.key,
                            placed.position,
                            placed.candidate,
                            placed.minutes,
                            "listed",
                            None,
                            stamp,
                        )
                    )
            nxt = None
            for n, rolled in enumerate(built.rolled, start=1):
                c = rolled.candidate
                row = self._item_row(
                    meeting_id, c.part, 1000 + n, c, rolled.minutes, "rolled", rolled.reason, stamp
                )
                row["rolled_since"] = c.rolled_since or meeting.meeting_date
                rows.append(row)
                if c.referral_id is not None:
                    nxt = nxt or self._next_meeting(conn, meeting.meeting_date)
                    ref = conn.execute(select(R).where(R.c.id == c.referral_id)).one()
                    self._offer(conn, principal, ref, nxt, rolled.reason, code="full")
            if rows:
                conn.execute(insert(I), rows)
            listed = (
                conn.execute(
                    select(I.c.referral_id).where(
                        and_(
                            I.c.meeting_id == meeting_id,
                            I.c.status == "listed",
                            I.c.referral_id.is_not(None),
                        )
                    )
                )
                .scalars()
                .all()
            )
            if listed:
                conn.execute(update(R).where(R.c.id.in_(listed)).values(status="listed"))
            self._audit(
                conn,
                principal,
                "panel_agenda_built",
                "panel_meeting",
                meeting_id,
                listed=sum(len(p.items) for p in built.parts),
                rolled=len(built.rolled),
            )
            # A published agenda is republished: only the slots that changed are told.
            self._republish(conn, principal, meeting_id)
            return self._agenda(conn, meeting, principal)

    @staticmethod
    def _item_row(
        meeting_id: int,
        part: str,
        position: int,
        c: agenda_builder.Candidate,
        minutes: int,
        status: str,
        reason: str | None,
        stamp: Any,
    ) -> dict[str, Any]:
        return {
            "meeting_id": meeting_id,
            "part": part,
            "position": position,
            "source": "referral" if c.referral_id is not None else c.source,
            "cohorts": list(c.cohorts),
            "child_id": c.child_id,
            "journey_id": c.journey_id,
            "referral_id": c.referral_id,
            "minutes": minutes,
            "pinned": c.pinned_position is not None,
            "status": status,
            "reason": reason,
            "rolled_since": None,
            "review_weeks": None,
            "created_at": stamp,
            "updated_at": stamp,
        }

    def _candidates(self, conn: Connection, meeting: Any) -> list[agenda_builder.Candidate]:
        """Everything that could go on this meeting's agenda."""
        on = meeting.meeting_date
        out: list[agenda_builder.Candidate] = []
        kept = conn.execute(
            select(I).where(
                and_(I.c.meeting_id == meeting.id, I.c.pinned.is_(True), I.c.status != "decided")
            )
        ).all()
        pinned = {
            (r.part, r.referral_id if r.referral_id is not None else -r.child_id): r.position
            for r in kept
        }
        decided = {
            (r.part, r.child_id, r.referral_id)
            for r in conn.execute(
                select(I.c.part, I.c.child_id, I.c.referral_id).where(
                    and_(I.c.meeting_id == meeting.id, I.c.status == "decided")
                )
            )
        }
        # When each (child, part) was first rolled since it was last on an agenda.
        rolled_since: dict[tuple[int, str], date] = {}
        previous = conn.execute(
            select(M.c.id)
            .where(and_(M.c.panel == self.key, M.c.meeting_date < on, M.c.status != "cancelled"))
            .order_by(M.c.meeting_date.desc())
            .limit(1)
        ).first()
        if previous is not None:
            # Each rolled row carries the date it was first rolled, so one meeting back is
            # enough to know how long an item has been waiting.
            for h in conn.execute(
                select(I.c.child_id, I.c.part, I.c.rolled_since).where(
                    and_(I.c.meeting_id == previous.id, I.c.status == "rolled")
                )
            ):
                if h.rolled_since is not None:
                    rolled_since[(h.child_id, h.part)] = h.rolled_since
        next_due = cohort_rules.load_next_due(conn)
        for ref in conn.execute(
            select(R).where(
                and_(R.c.meeting_id == meeting.id, R.c.status.in_(("accepted", "listed")))
            )
        ).all():
            dt = self.config.decision_type(ref.decision_type)
            if dt is None or (dt.part, ref.child_id, ref.id) in decided:
                continue
            first_rolled = next(
                (
                    date.fromisoformat(h["on"])
                    for h in ref.history
                    if h.get("from_meeting_id") and h.get("code") == "full"
                ),
                None,
            )
            out.append(
                agenda_builder.Candidate(
                    part=dt.part,
                    source="referral",
                    child_id=ref.child_id,
                    journey_id=ref.journey_id,
                    referral_id=ref.id,
                    minutes=dt.minutes,
                    pinned_position=pinned.get((dt.part, ref.id)),
                    rolled_since=first_rolled,
                    next_due=next_due.get(ref.child_id),
                    order=ref.id,
                )
            )
        cohort_parts: dict[str, list[str]] = defaultdict(list)
        for part in self.config.parts:
            for source in part.takes:
                if source != "referrals":
                    cohort_parts[source].append(part.key)
        if cohort_parts:
            reviews = {
                r.child_id: r.next_review_on
                for r in conn.execute(
                    select(PC.c.child_id, PC.c.next_review_on).where(PC.c.panel == self.key)
                )
            }
            for m in cohort_rules.members(conn, cohort_parts, on, next_due):
                review = reviews.get(m.child_id)
                if review is not None and review > on:
                    continue  # the chair wants this case back later
                for part_key in cohort_parts[m.cohort]:
                    if (part_key, m.child_id, None) in decided:
                        continue
                    out.append(
                        agenda_builder.Candidate(
                            part=part_key,
                            source=m.cohort,
                            child_id=m.child_id,
                            journey_id=m.journey_id,
                            cohorts=[m.cohort],
                            pinned_position=pinned.get((part_key, -m.child_id)),
                            rolled_since=rolled_since.get((m.child_id, part_key)),
                            next_due=m.next_due,
                            order=m.child_id,
                        )
                    )
        return out

    def _agenda(
        self,
        conn: Connection,
        meeting: Any,
        principal: Principal,
        *,
        rolled_limit: int | None = None,
    ) -> Agenda:
        """The meeting's agenda as the principal may see it (their teams' children);
        ``rolled_limit``: at most that many of the items rolled forward (a page's cap; the
        agenda's ``rolled_more`` says how many more there are)."""
        rows = item_rows(conn, meeting.id, C.c.team, rolled_limit=rolled_limit)
        teams = principal.visible_teams()
        parts = []
        for part in self.config.parts:
            items = [
                self._agenda_item(r)
                for r in rows
                if r.part == part.key
                and r.status != "rolled"
                and (teams is None or r.team in teams)
            ]
            parts.append(
                AgendaPart(
                    key=part.key,
                    title=part.title,
                    capacity=part.capacity.describe(),
                    capacity_minutes=part.capacity.total_minutes,
                    used_minutes=sum(i.minutes for i in items),
                    items=items,
                )
            )
        rolled = [
            self._agenda_item(r)
            for r in rows
            if r.status == "rolled" and (teams is None or r.team in teams)
        ]
        not_listed: list[NotListed] = []
        # A referral offered away from this meeting always goes to a later one. Only the
        # columns used: each referral's pack (checklist, documents, funding) is JSON that
        # the agenda does not show, and decoding 500 referrals' was a fifth of the meeting
        # page at national size (issue 12, item 4).
        for ref in conn.execute(
            select(
                R.c.id,
                R.c.meeting_id,
                R.c.status,
                R.c.decision_type,
                R.c.pack_due_on,
                R.c.history,
                C.c.reference,
                C.c.team,
            )
            .select_from(R.join(C, C.c.id == R.c.child_id).join(M, M.c.id == R.c.meeting_id))
            .where(and_(R.c.panel == self.key, M.c.meeting_date >= meeting.meeting_date))
        ).all():
            if teams is not None and ref.team not in teams:
                continue
            for h in ref.history:
                if h.get("from_meeting_id") == meeting.id and h.get("code") not in (
                    "full",
                    "pinned",
                ):
                    not_listed.append(
                        NotListed(
                            referral_id=ref.id,
                            child_reference=ref.reference,
                            decision_type=ref.decision_type,
                            reason=h["note"],
                            offered_meeting_id=h["meeting_id"],
                        )
                    )
            if ref.meeting_id == meeting.id and ref.status == "awaiting_pack":
                not_listed.append(
                    NotListed(
                        referral_id=ref.id,
                        child_reference=ref.reference,
                        decision_type=ref.decision_type,
                        reason=f"Awaiting the pack (due {ref.pack_due_on.isoformat()}).",
                        offered_meeting_id=None,
                    )
                )
        more = 0
        if rolled_limit is not None and len(rolled) >= rolled_limit:
            more = rolled_count(conn, meeting.id, teams) - len(rolled)
        return Agenda(
            meeting_id=meeting.id,
            meeting_date=meeting.meeting_date,
            parts=parts,
            rolled=rolled,
            not_listed=not_listed,
            rolled_more=max(0, more),
        )

    @staticmethod
    def _agenda_item(r: Any) -> AgendaItem:
        return AgendaItem(
            id=r.id,
            part=r.part,
            position=r.position,
            source=r.source,
            cohorts=r.cohorts,
            child_id=r.child_id,
            child_reference=r.reference,
            journey_id=r.journey_id,
            journey_type=r.journey_type,
            journey_state=r.journey_state,
            referral_id=r.referral_id,
            minutes=r.minutes,
            pinned=r.pinned,
            status=r.status,
            reason=r.reason,
            review_weeks=r.review_weeks,
        )

    def reorder(
        self, meeting_id: int, principal: Principal, *, part: str, item_ids: list[int]
    ) -> Agenda:
        """The chair's order for a part's items (listed items only; the rest follow)."""
        require(principal, ARRANGE_AGENDA)
        with write_connection(self.engine) as conn:
            meeting = self._meeting(conn, meeting_id)
            current = [
                r.id
                for r in conn.execute(
                    select(I.c.id)
                    .where(
                        and_(I.c.meeting_id == meeting_id, I.c.part == part, I.c.status != "rolled")
                    )
                    .order_by(I.c.position)
                )
            ]
            unknown = [i for i in item_ids if i not in current]
            if unknown:
                raise PanelInvalid("Items not on this part of the agenda.", item_ids=unknown)
            order = list(item_ids) + [i for i in current if i not in item_ids]
            for position, item_id in enumerate(order, start=1):
                conn.execute(
                    update(I)
                    .where(I.c.id == item_id)
                    .values(position=position, updated_at=now_utc())
                )
            self._audit(
                conn,
                principal,
                "panel_agenda_reordered",
                "panel_meeting",
                meeting_id,
                part=part,
                order=order,
            )
            self._republish(conn, principal, meeting_id)
            return self._agenda(conn, meeting, principal)

    def pin(self, item_id: int, principal: Principal, *, pinned: bool) -> Agenda:
        """Pin an item (it stays on the agenda through rebuilds, even over capacity)."""
        require(principal, ARRANGE_AGENDA)
        with write_connection(self.engine) as conn:
            item = conn.execute(select(I).where(I.c.id == item_id)).one_or_none()
            if item is None:
                raise NotFound(f"There is no agenda item {item_id}.")
            meeting = self._meeting(conn, item.meeting_id)
            values: dict[str, Any] = {"pinned": pinned, "updated_at": now_utc()}
            if pinned and item.status == "rolled":
                values.update(status="listed", reason=None)
                if item.referral_id is not None:
                    ref = conn.execute(select(R).where(R.c.id == item.referral_id)).one()
                    self._offer(
                        conn,
                        principal,
                        ref,
                        meeting,
                        "Pinned by the chair.",
                        code="pinned",
                        status="listed",
                    )
            conn.execute(update(I).where(I.c.id == item_id).values(**values))
            self._audit(conn, principal, "panel_item_pinned", "panel_item", item_id, pinned=pinned)
            self._republish(conn, principal, meeting.id)
            return self._agenda(conn, meeting, principal)
