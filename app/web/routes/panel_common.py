"""What the panel pages share: the panel service, refusing a page by a panel rule
(``panels.permissions``), success messages after a post (post/redirect/get) and turning a
service refusal into a form error."""

from __future__ import annotations

import re
from dataclasses import dataclass

from fastapi.responses import RedirectResponse

from app.api.panel import Panel
from app.web.deps import require_page_roles
from app.web.forms import FormErrors
from app.web.session import WebSession
from app.web.templating import govuk_date, humanise
from panels.config import COHORTS
from panels.permissions import Rule
from workflow.errors import EngineError
from workflow.machines import Registry

__all__ = ["Panel"]

# ?done=<code> after a successful post: the banner the page shows. Never child data.
DONE: dict[str, str] = {
    "generated": "Meetings planned",
    "moved": "Meeting moved",
    "cancelled": "Meeting cancelled",
    "agenda": "Agenda built",
    "published": "Agenda published: the invitations are sent",
    "order": "Agenda order saved",
    "pinned": "Item pinned to this meeting",
    "unpinned": "Item unpinned",
    "attendance": "Attendance recorded",
    "decision": "Decision recorded",
    "ratified": "Decision ratified: its outcome now takes effect",
    "not_ratified": "Decision not ratified: the reason is recorded",
    "escalated": "Drift escalated to the service director",
    "already_escalated": "This child's drift is already escalated and waiting for an answer",
    "action_done": "Action marked as done",
    "minutes_drafted": "Minutes drafted",
    "minutes_approved": "Minutes approved and tracker circulated",
    "minutes_reopened": "Minutes reopened for a correction: redraft and approve them again",
    "circulated": "Tracker circulated",
    "referred": "Referral made",
    "pack_accepted": "Pack accepted for the meeting",
    "withdrawn": "Referral withdrawn",
}
# Outcomes of a pack that are not a success: shown as an important banner with the reason.
PACK_NOT_LISTED: dict[str, str] = {
    "pack_late": "The pack was late: it cannot be listed for decision at that meeting",
    "pack_incomplete": "The pack is incomplete: it cannot be listed for decision",
}


def done_redirect(path: str, code: str, anchor: str = "") -> RedirectResponse:
    """303 to a page after a successful post, naming what was done (post/redirect/get)."""
    return RedirectResponse(f"{path}?done={code}{anchor}", status_code=303)


def banner(done: str | None) -> dict[str, str | None]:
    """The success or important message for ``?done=``, if it is one of ours."""
    return {
        "done_message": DONE.get(done or ""),
        "not_listed_message": PACK_NOT_LISTED.get(done or ""),
    }


def refusal(errors: FormErrors, field_id: str, exc: EngineError) -> None:
    """A service refusal as an error against ``field_id``, with the listed problems."""
    details = exc.details.get("errors") or []
    extra = [str(d) for d in details if str(d) not in exc.message]
    errors.add(field_id, readable(" ".join([exc.message, *extra])))


_ISO_DATE = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")


def _long_date(match: re.Match[str]) -> str:
    try:
        return govuk_date(match.group(0))
    except ValueError:
        return match.group(0)


def readable(message: str | None, wording: dict[str, str] | None = None) -> str:
    """A service's message as a page shows it: its ISO dates as GOV.UK writes dates, and
    checklist item keys (``wording``: key to item text) in the checklist's own words."""
    if not message:
        return ""
    out = _ISO_DATE.sub(_long_date, message)
    if wording:
        texts: dict[str, str] = wording
        keys = re.compile(r"\b(" + "|".join(map(re.escape, texts)) + r")\b")
        out = keys.sub(lambda m: f"\u2018{texts[m.group(1)]}\u2019", out)
    return out


def require_rule(session: WebSession, rule: Rule) -> None:
    """A 403 page unless the signed-in user may do what ``rule`` names (the service checks
    the same rule again on every post)."""
    require_page_roles(session, *rule.roles)


def source_label(source: str | None, cohorts: list[str] | None = None) -> str:
    """Why a child is on the agenda: a referral, or the tracked cohort it belongs to."""
    if source == "referral":
        return "Referred for a decision"
    for key in [source or "", *(cohorts or [])]:
        if key in COHORTS:
            return COHORTS[key]
    return (source or "").replace("_", " ").capitalize()


@dataclass(frozen=True)
class JourneyWords:
    """Journey types and states in the words the definitions give them ("Recommended by
    panel", not ``panel_recommended``); unknown keys are humanised."""

    titles: dict[str, str]
    labels: dict[tuple[str, str], str]

    def title(self, journey_type: str | None) -> str:
        """A journey type's title."""
        return self.titles.get(journey_type or "") or humanise(journey_type)

    def state(self, journey_type: str | None, state: str | None) -> str:
        """A state's label."""
        return self.labels.get((journey_type or "", state or "")) or humanise(state)


def journey_words(registry: Registry) -> JourneyWords:
    """The current definitions' titles and state labels (a dictionary look-up per row)."""
    titles, labels = {}, {}
    for journey_type in registry.types():
        jm = registry.current(journey_type)
        if jm is None:
            continue
        titles[journey_type] = jm.definition.title
        labels.update({(journey_type, s.name): s.label for s in jm.definition.states})
    return JourneyWords(titles, labels)
