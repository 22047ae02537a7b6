"""Decisions on agenda items and the actions they set."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Connection, and_, insert, select, update

from panels.config import DecisionType, Outcome
from panels.errors import PanelConflict, PanelForbidden, PanelInvalid
from panels.funding import FundingRequest, refusals
from panels.models import ACTIONS as ACT
from panels.models import CASES as PC
from panels.models import DECISIONS as DEC
from panels.models import ITEMS as I
from panels.models import MEETINGS as M
from panels.models import REFERRALS as R
from panels.permissions import COMPLETE_ACTION, decision_rule, require
from panels.quorum import PENDING, status_words
from panels.results import Action, Decision, ListedAction, fields_of
from panels.service.common import ACTION, TRACKING_OUTCOMES, action_of, log
from panels.service.escalations import EscalationsMixin
from services import audit
from services.access import Principal
from services.clock import now_utc, today
from services.db import insert_id, read_connection, write_connection
from services.journeys import NotFound
from services.models import CHILDREN as C
from states.roles import SOCIAL_WORKER


@dataclass(frozen=True)
class _Outcome:
    """The outcome being recorded: its key and label, the journey event it fires and
    whether it defers, with the referral and decision type (None for a tracked child)."""

    key: str
    label: str
    event: str | None
    defers: bool
    referral: Any
    decision_type: DecisionType | None


ESCALATE = "escalate"  # the outcome that escalates the child's drift to the director


class DecisionsMixin(EscalationsMixin):
    """Decisions and actions: decide an item, complete and list actions; a decision
    ``escalate`` escalates the child's drift (``EscalationsMixin``)."""

    def _event_roles(self, journey_type: str | None, event: str | None) -> tuple[str, ...]:
        if not journey_type or not event:
            return ()
        jm = self.registry.current(journey_type)
        ev = jm.definition.event(event) if jm else None
        return self.journeys.policy.roles_of(ev) if ev else ()

    def outcome_roles(self, dt: DecisionType, outcome: Outcome) -> tuple[str, ...] | None:
        """Who may record ``outcome`` of ``dt`` besides the chair: its journey event's roles
        as this panel's policy gives them, or, for a funding outcome that fires no event
        (Leicestershire's therapeutic support), the roles of the funding scheme's bands
        (the scheme's check then takes the band for the amount); None: the chair's alone."""
        if outcome.event is not None:
            return self._event_roles(dt.journey_type, outcome.event)
        scheme = self.config.funding_scheme(dt.funding_scheme) if dt.funding_scheme else None
        if scheme is not None and not outcome.defers and outcome.key.startswith("agree"):
            roles: list[str] = []
            for band in scheme.bands:
                roles.extend(r for r in band.roles if r not in roles)
            return tuple(roles)
        return None

    def decide(self, item_id: int, principal: Principal, body: dict[str, Any]) -> Decision:
        """Record the decision or recommendation on an item, firing its journey event in the
        same transaction; actions become deadlines; the chair's review frequency is set."""
        with write_connection(self.engine) as conn:
            item, meeting = self._item_to_decide(conn, item_id)
            outcome = self._outcome(conn, item, str(body.get("outcome") or ""))
            journey = self._journey(conn, item.journey_id) if item.journey_id else None
            if outcome.decision_type is not None:
                config_outcome = next(
                    o for o in outcome.decision_type.outcomes if o.key == outcome.key
                )
                roles = self.outcome_roles(outcome.decision_type, config_outcome) or ()
            else:
                roles = self._event_roles(journey.type if journey else None, outcome.event)
            require(principal, decision_rule(roles))
            funding_check = self._funding_check(principal, outcome, body)
            actions = list(body.get("actions") or [])
            if actions and journey is None:
                raise PanelInvalid("Actions need a journey to hang off.")
            self._hold(conn, principal, meeting.id)
            # Below quorum the decision is recorded but its journey event waits for the
            # chair's ratifying at a later quorate meeting (panels.service.quorum).
            quorate = self._quorum_state(conn, meeting.id).quorate
            event_data = self._event_data(journey, outcome, body, funding_check)
            version = (
                self._fire_outcome(conn, principal, journey, meeting, outcome, event_data, body)
                if quorate
                else None
            )
            meets = body.get("meets_needs")
            if meets not in (None, "will", "will_not"):
                raise PanelInvalid("meets_needs is will or will_not.")
            decision_id = self._insert_decision(
                conn, principal, item, outcome, version, meets, funding_check, body
            )
            if not quorate:
                conn.execute(
                    update(DEC)
                    .where(DEC.c.id == decision_id)
                    .values(
                        quorate=False,
                        ratification=PENDING,
                        event_data=event_data if outcome.event and journey is not None else None,
                    )
                )
            self._conclude_item(conn, item, meeting, outcome, body.get("review_weeks"))
            for a in actions:
                self._add_action(conn, principal, meeting, item, journey, a)
            if outcome.key == ESCALATE:
                self._raise_drift(
                    conn,
                    principal,
                    child_id=item.child_id,
                    journey_id=item.journey_id,
                    meeting_id=meeting.id,
                    item_id=item.id,
                    decision_id=decision_id,
                    reason=str(body.get("notes") or "").strip() or outcome.label,
                )
            self._audit(
                conn,
                principal,
                "panel_decision",
                "panel_item",
                item_id,
                decision_id=decision_id,
                outcome=outcome.key,
                event=outcome.event,
                quorate=quorate,
            )
            log.info(
                "panel_decision",
                meeting_id=meeting.id,
                journey_id=item.journey_id,
                event_name=outcome.event,
            )
            return self._decision(conn, decision_id)

    def _item_to_decide(self, conn: Connection, item_id: int) -> tuple[Any, Any]:
        """The agenda item and its meeting; a rolled item is decided at the next meeting."""
        item = conn.execute(select(I).where(I.c.id == item_id)).one_or_none()
        if item is None:
            raise NotFound(f"There is no agenda item {item_id}.")
        meeting = self._meeting(conn, item.meeting_id)
        if item.status == "rolled":
            raise PanelConflict("The item was rolled to the next meeting; decide it there.")
        return item, meeting

    def _outcome(self, conn: Connection, item: Any, key: str) -> _Outcome:
        """The outcome ``key`` of the item's decision type (a referral), or one of the
        tracking outcomes (a child from a tracked cohort); 422 listing them otherwise."""
        if item.referral_id is None:
            if key not in TRACKING_OUTCOMES:
                raise PanelInvalid(
                    f"No tracking outcome {key!r}.", outcomes=list(TRACKING_OUTCOMES)
                )
            return _Outcome(key, TRACKING_OUTCOMES[key], None, False, None, None)
        ref = conn.execute(select(R).where(R.c.id == item.referral_id)).one()
        dt = self.config.decision_type(ref.decision_type)
        assert dt is not None  # a referral's decision type is the panel's own
        outcome = next((o for o in dt.outcomes if o.key == key), None)
        if outcome is None:
            raise PanelInvalid(
                f"{dt.title} has no outcome {key!r}.", outcomes=[o.key for o in dt.outcomes]
            )
        return _Outcome(key, outcome.label, outcome.event, outcome.defers, ref, dt)

    def _funding_check(
        self, principal: Principal, outcome: _Outcome, body: dict[str, Any]
    ) -> dict[str, Any]:
        """Agreeing a funding decision (a sign-off, or an ``agree...`` outcome) needs the
        principal within the scheme of delegation (403 otherwise) and the request's quotes
        or an exceptional reason (422): what was checked, for the record ({} when nothing
        is agreed)."""
        dt, ref = outcome.decision_type, outcome.referral
        if (
            dt is None
            or not dt.funding_scheme
            or outcome.defers
            or not (outcome.event == "sign_off" or outcome.key.startswith("agree"))
        ):
            return {}
        scheme = self.config.funding_scheme(dt.funding_scheme)
        assert scheme is not None and ref is not None
        form = FundingRequest.model_validate(ref.funding)
        reasons = refusals(
            form, scheme, principal.roles, exception_reason=str(body.get("exception_reason") or "")
        )
        if reasons:
            role_bound = any("scheme of delegation" in r for r in reasons)
            error = PanelForbidden if role_bound else PanelInvalid
            raise error("The funding cannot be agreed: " + " ".join(reasons), reasons=reasons)
        band = scheme.band_for(float(form.annual_cost))
        return {
            "annual_cost": str(form.annual_cost),
            "total_cost": str(form.total_cost),
            "band_roles": band.roles,
            "quotes": len(form.quotes),
            "commissioned_placement": scheme.commissioned_exempt and form.commissioned_placement,
            "by_exception": band.by_exception,
        }

    def _event_data(
        self,
        journey: Any,
        outcome: _Outcome,
        body: dict[str, Any],
        funding_check: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """The data the outcome's journey event fires with."""
        data = dict(body.get("event_data") or {})
        if outcome.event is None or journey is None:
            return data
        jm = self.registry.current(journey.type)
        ev = jm.definition.event(outcome.event) if jm else None
        fields = {f.name for f in ev.fields} if ev is not None else set()
        if funding_check and "quotes_received" in fields:
            # One source of truth for the quotes: the pack's funding form, checked above.
            # The journey's guard reads the form's count, not a second entry on the plan.
            data["quotes_received"] = funding_check["quotes"]
            if "commissioned_placement" in fields:
                data["commissioned_placement"] = funding_check["commissioned_placement"]
        # The decision's notes (or the outcome's label) are the event's reason or
        # recommendation, so the form does not ask for them twice.
        if ev is not None and any(f.name == "reason" for f in ev.fields):
            data.setdefault("reason", body.get("notes") or outcome.label)
        if ev is not None and any(f.name == "recommendation" for f in ev.fields):
            data.setdefault("recommendation", body.get("notes") or outcome.label)
        return data

    def _fire_outcome(
        self,
        conn: Connection,
        principal: Principal,
        journey: Any,
        meeting: Any,
        outcome: _Outcome,
        data: dict[str, Any],
        body: dict[str, Any],
    ) -> int | None:
        """Fire the outcome's journey event, dated the day of the meeting, in this
        transaction; the journey's version after it (None: no event)."""
        if outcome.event is None or journey is None:
            return None
        view = self.journeys.fire(
            journey.id,
            event=outcome.event,
            expected_version=int(body.get("expected_version") or journey.version),
            occurred_on=meeting.meeting_date,
            data=data,
            principal=principal,
            conn=conn,
        )
        return view.version

    @staticmethod
    def _insert_decision(
        conn: Connection,
        principal: Principal,
        item: Any,
        outcome: _Outcome,
        version: int | None,
        meets: Any,
        funding_check: dict[str, Any],
        body: dict[str, Any],
    ) -> int:
        """Write the decision (the Panel Decisions template's fields); its id."""
        return int(
            insert_id(
                conn.execute(
                    insert(DEC).values(
                        item_id=item.id,
                        meeting_id=item.meeting_id,
                        child_id=item.child_id,
                        journey_id=item.journey_id,
                        outcome=outcome.key,
                        event=outcome.event,
                        journey_version=version,
                        meets_needs=meets,
                        resources_child=str(body.get("resources_child") or ""),
                        resources_carers=str(body.get("resources_carers") or ""),
                        notes=str(body.get("notes") or ""),
                        funding=funding_check,
                        recorded_by=principal.user_id,
                        recorded_at=now_utc(),
                    )
                )
            )
        )

    def _conclude_item(
        self, conn: Connection, item: Any, meeting: Any, outcome: _Outcome, review_weeks: Any
    ) -> None:
        """The item is decided (its referral decided, or deferred), and the case comes back
        after the chair's review weeks (or the part's)."""
        part = self.config.part(item.part)
        if review_weeks is None and part is not None:
            review_weeks = part.review_weeks
        stamp = now_utc()
        conn.execute(
            update(I)
            .where(I.c.id == item.id)
            .values(status="decided", review_weeks=review_weeks, updated_at=stamp)
        )
        if outcome.referral is not None:
            conn.execute(
                update(R)
                .where(R.c.id == outcome.referral.id)
                .values(status="deferred" if outcome.defers else "decided", updated_at=stamp)
            )
        next_review = (
            meeting.meeting_date + timedelta(weeks=int(review_weeks)) if review_weeks else None
        )
        self._upsert_case(conn, item, meeting.id, outcome.key, review_weeks, next_review)

    def _upsert_case(
        self,
        conn: Connection,
        item: Any,
        meeting_id: int,
        outcome: str,
        review_weeks: int | None,
        next_review: date | None,
    ) -> None:
        values = {
            "journey_id": item.journey_id,
            "review_weeks": review_weeks,
            "next_review_on": next_review,
            "last_meeting_id": meeting_id,
            "last_outcome": outcome,
            "updated_at": now_utc(),
        }
        updated = conn.execute(
            update(PC)
            .where(and_(PC.c.panel == self.key, PC.c.child_id == item.child_id))
            .values(**values)
        )
        if updated.rowcount == 0:
            conn.execute(insert(PC).values(panel=self.key, child_id=item.child_id, **values))

    def _add_action(
        self,
        conn: Connection,
        principal: Principal,
        meeting: Any,
        item: Any,
        journey: Any,
        a: dict[str, Any],
    ) -> None:
        try:
            due_on = date.fromisoformat(str(a["due_on"]))
            description = str(a["description"]).strip()
        except (KeyError, ValueError) as exc:
            raise PanelInvalid(
                "An action needs a description and a due_on date.", errors=[str(exc)]
            ) from None
        if not description:
            raise PanelInvalid("An action needs a description.")
        owner_id = a.get("owner_id")
        owner_role = str(a.get("owner_role") or SOCIAL_WORKER)
        if owner_id is None and owner_role == SOCIAL_WORKER:
            owner_id = journey.allocated_social_worker_id
        stamp = now_utc()
        action_id = int(
            insert_id(
                conn.execute(
                    insert(ACT).values(
                        meeting_id=meeting.id,
                        item_id=item.id,
                        child_id=item.child_id,
                        journey_id=journey.id,
                        description=description,
                        owner_id=owner_id,
                        owner_role=owner_role,
                        due_on=due_on,
                        status="open",
                        created_by=principal.user_id,
                        created_at=stamp,
                        updated_at=stamp,
                    )
                )
            )
        )
        self._open_deadline(
            conn,
            principal,
            kind=ACTION,
            ref=str(action_id),
            due_on=due_on,
            journey_id=journey.id,
            child_id=item.child_id,
            meeting_id=meeting.id,
            owner_id=owner_id,
            owner_role=owner_role,
            why=f"Action agreed at the panel on {meeting.meeting_date.isoformat()}",
        )

    @staticmethod
    def _decision(conn: Connection, decision_id: int) -> Decision:
        d = conn.execute(select(DEC).where(DEC.c.id == decision_id)).one()
        actions = conn.execute(select(ACT).where(ACT.c.item_id == d.item_id)).all()
        ratified_on = (
            conn.execute(
                select(M.c.meeting_date).where(M.c.id == d.ratified_meeting_id)
            ).scalar_one()
            if d.ratified_meeting_id is not None
            else None
        )
        return Decision(
            id=d.id,
            item_id=d.item_id,
            meeting_id=d.meeting_id,
            child_id=d.child_id,
            journey_id=d.journey_id,
            outcome=d.outcome,
            event=d.event,
            journey_version=d.journey_version,
            meets_needs=d.meets_needs,
            resources_child=d.resources_child,
            resources_carers=d.resources_carers,
            notes=d.notes,
            funding=d.funding,
            actions=[action_of(a) for a in actions],
            quorate=d.quorate,
            ratification=d.ratification,
            ratified_meeting_id=d.ratified_meeting_id,
            ratification_reason=d.ratification_reason,
            quorum_status=status_words(
                d.quorate, d.ratification, d.ratification_reason, ratified_on
            ),
        )

    def complete_action(
        self, action_id: int, principal: Principal, done_on: date | None = None
    ) -> Action:
        """Mark an action done; its deadline is met."""
        done_on = done_on or today()
        with write_connection(self.engine) as conn:
            a = conn.execute(select(ACT).where(ACT.c.id == action_id)).one_or_none()
            if a is None:
                raise NotFound(f"There is no action {action_id}.")
            self._check_child(conn, principal, a.child_id, write=True)
            if principal.user_id != a.owner_id:
                require(principal, COMPLETE_ACTION.plus(a.owner_role))
            conn.execute(
                update(ACT)
                .where(ACT.c.id == action_id)
                .values(status="done", done_on=done_on, updated_at=now_utc())
            )
            self._close_deadlines(
                conn, principal, ACTION, str(action_id), met_on=done_on, why="Action completed"
            )
            return action_of(conn.execute(select(ACT).where(ACT.c.id == action_id)).one())

    def list_actions(
        self, principal: Principal, status: str | None = "open", meeting_id: int | None = None
    ) -> list[ListedAction]:
        """Actions across meetings (or of ``meeting_id``), for the children the principal
        may see."""
        teams = principal.visible_teams()
        query = (
            select(ACT, C.c.reference, C.c.team)
            .select_from(ACT.join(C, C.c.id == ACT.c.child_id))
            .order_by(ACT.c.due_on, ACT.c.id)
        )
        if status:
            query = query.where(ACT.c.status == status)
        if meeting_id is not None:
            query = query.where(ACT.c.meeting_id == meeting_id)
        if teams is not None:
            query = query.where(C.c.team.in_(teams))
        with read_connection(self.engine) as conn:
            listed = [
                ListedAction(**fields_of(action_of(a)), child_reference=a.reference, team=a.team)
                for a in conn.execute(query)
            ]
        # Each action names a child by reference and says what is being done for them.
        audit.audit_read(
            self.engine,
            principal,
            "panel_actions",
            (a.child_id for a in listed),
            details={"panel": self.key, "status": status, "meeting_id": meeting_id},
        )
        return listed
