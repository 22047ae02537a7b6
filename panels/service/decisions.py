"""Decisions on agenda items and the actions they set."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import Connection, and_, insert, select, update

from panels.errors import PanelConflict, PanelForbidden, PanelInvalid
from panels.funding import FundingRequest, refusals
from panels.models import ACTIONS as ACT
from panels.models import CASES as PC
from panels.models import DECISIONS as DEC
from panels.models import ITEMS as I
from panels.models import REFERRALS as R
from panels.permissions import COMPLETE_ACTION, decision_rule, require
from panels.results import Action, Decision, ListedAction, fields_of
from panels.service.common import ACTION, TRACKING_OUTCOMES, PanelBase, action_of, log
from services.access import Principal
from services.clock import now_utc, today
from services.db import insert_id, read_connection, write_connection
from services.journeys import NotFound
from services.models import CHILDREN as C
from states.roles import (
    SOCIAL_WORKER,
)


class DecisionsMixin(PanelBase):
    """Decisions and actions: decide an item, complete and list actions."""

    def _event_roles(self, journey_type: str | None, event: str | None) -> tuple[str, ...]:
        if not journey_type or not event:
            return ()
        jm = self.registry.current(journey_type)
        ev = jm.definition.event(event) if jm else None
        return ev.roles if ev else ()

    def decide(self, item_id: int, principal: Principal, body: dict[str, Any]) -> Decision:
        """Record the decision or recommendation on an item, firing its journey event in the
        same transaction; actions become deadlines; the chair's review frequency is set."""
        with write_connection(self.engine) as conn:
            item = conn.execute(select(I).where(I.c.id == item_id)).one_or_none()
            if item is None:
                raise NotFound(f"There is no agenda item {item_id}.")
            meeting = self._meeting(conn, item.meeting_id)
            if item.status == "rolled":
                raise PanelConflict("The item was rolled to the next meeting; decide it there.")
            outcome_key = str(body.get("outcome") or "")
            ref = None
            dt = None
            event: str | None = None
            defers = False
            if item.referral_id is not None:
                ref = conn.execute(select(R).where(R.c.id == item.referral_id)).one()
                dt = self.config.decision_type(ref.decision_type)
                assert dt is not None
                outcome = next((o for o in dt.outcomes if o.key == outcome_key), None)
                if outcome is None:
                    raise PanelInvalid(
                        f"{dt.title} has no outcome {outcome_key!r}.",
                        outcomes=[o.key for o in dt.outcomes],
                    )
                event, defers, label = outcome.event, outcome.defers, outcome.label
            else:
                if outcome_key not in TRACKING_OUTCOMES:
                    raise PanelInvalid(
                        f"No tracking outcome {outcome_key!r}.", outcomes=list(TRACKING_OUTCOMES)
                    )
                label = TRACKING_OUTCOMES[outcome_key]
            journey = self._journey(conn, item.journey_id) if item.journey_id else None
            roles = self._event_roles(journey.type if journey else None, event)
            # The chair records decisions; a decision whose event belongs to another role
            # (the ADM's approval, a sign-off under the scheme of delegation) is recorded by
            # that role. A social worker never records the panel's decision.
            require(principal, decision_rule(roles))
            funding_check: dict[str, Any] = {}
            if (
                dt is not None
                and dt.funding_scheme
                and not defers
                and (event == "sign_off" or outcome_key.startswith("agree"))
            ):
                scheme = self.config.funding_scheme(dt.funding_scheme)
                assert scheme is not None and ref is not None
                form = FundingRequest.model_validate(ref.funding)
                reasons = refusals(
                    form,
                    scheme,
                    principal.roles,
                    exception_reason=str(body.get("exception_reason") or ""),
                )
                if reasons:
                    role_bound = any("scheme of delegation" in r for r in reasons)
                    error = PanelForbidden if role_bound else PanelInvalid
                    raise error(
                        "The funding cannot be agreed: " + " ".join(reasons), reasons=reasons
                    )
                band = scheme.band_for(float(form.annual_cost))
                funding_check = {
                    "annual_cost": str(form.annual_cost),
                    "total_cost": str(form.total_cost),
                    "band_roles": band.roles,
                    "quotes": len(form.quotes),
                    "by_exception": band.by_exception,
                }
            actions = list(body.get("actions") or [])
            if actions and journey is None:
                raise PanelInvalid("Actions need a journey to hang off.")
            self._hold(conn, principal, meeting.id)
            version = None
            if event is not None and journey is not None:
                data = dict(body.get("event_data") or {})
                jm = self.registry.current(journey.type)
                ev = jm.definition.event(event) if jm else None
                if ev is not None and any(f.name == "reason" for f in ev.fields):
                    data.setdefault("reason", body.get("notes") or label)
                if ev is not None and any(f.name == "recommendation" for f in ev.fields):
                    data.setdefault("recommendation", body.get("notes") or label)
                view = self.journeys.fire(
                    journey.id,
                    event=event,
                    expected_version=int(body.get("expected_version") or journey.version),
                    occurred_on=meeting.meeting_date,
                    data=data,
                    principal=principal,
                    conn=conn,
                )
                version = view.version
            meets = body.get("meets_needs")
            if meets not in (None, "will", "will_not"):
                raise PanelInvalid("meets_needs is will or will_not.")
            stamp = now_utc()
            decision_id = int(
                insert_id(
                    conn.execute(
                        insert(DEC).values(
                            item_id=item_id,
                            meeting_id=meeting.id,
                            child_id=item.child_id,
                            journey_id=item.journey_id,
                            outcome=outcome_key,
                            event=event,
                            journey_version=version,
                            meets_needs=meets,
                            resources_child=str(body.get("resources_child") or ""),
                            resources_carers=str(body.get("resources_carers") or ""),
                            notes=str(body.get("notes") or ""),
                            funding=funding_check,
                            recorded_by=principal.user_id,
                            recorded_at=stamp,
                        )
                    )
                )
            )
            review_weeks = body.get("review_weeks")
            part = self.config.part(item.part)
            if review_weeks is None and part is not None:
                review_weeks = part.review_weeks
            conn.execute(
                update(I)
                .where(I.c.id == item_id)
                .values(status="decided", review_weeks=review_weeks, updated_at=stamp)
            )
            if ref is not None:
                conn.execute(
                    update(R)
                    .where(R.c.id == ref.id)
                    .values(status="deferred" if defers else "decided", updated_at=stamp)
                )
            next_review = (
                meeting.meeting_date + timedelta(weeks=int(review_weeks)) if review_weeks else None
            )
            self._upsert_case(conn, item, meeting.id, outcome_key, review_weeks, next_review)
            for a in actions:
                self._add_action(conn, principal, meeting, item, journey, a)
            self._audit(
                conn,
                principal,
                "panel_decision",
                "panel_item",
                item_id,
                decision_id=decision_id,
                outcome=outcome_key,
                event=event,
            )
            log.info(
                "panel_decision",
                meeting_id=meeting.id,
                journey_id=item.journey_id,
                event_name=event,
            )
            return self._decision(conn, decision_id)

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
            return [
                ListedAction(**fields_of(action_of(a)), child_reference=a.reference)
                for a in conn.execute(query)
            ]
