"""Running a panel: meetings, referrals and packs, agendas, decisions, actions and minutes.

Every write is one transaction (``write_connection``). Deadlines the panel creates are
ordinary ``deadline`` rows, so the reminder sweep treats them like any other:

* ``panel_pack`` (ref = referral id): on the referred journey, owned by the referring social
  worker, due the pack lead time before the meeting; it hangs off the meeting
  (``meeting_id``), so moving the meeting moves it.
* ``panel_action`` (ref = action id): on the item's journey, owned by the action's owner.
* ``panel_minutes`` (ref = meeting id): the meeting's own deadline, with no journey or
  child, owned by the panel administrator role, due N working days after the meeting.

Each time one of them is opened, moved, met or cancelled the audit trail records why, in
the same transaction as the change.

One module per area, each a mixin composed here: ``meetings``, ``referrals``,
``agenda_items``, ``invitations`` (publishing the agenda), ``decisions``, ``quorum``
(ratifying decisions made below quorum), ``minutes``,
``record`` (the child's record), ``tracker`` and ``reports``; ``common`` holds what they share.
"""

from __future__ import annotations

from panels.errors import PanelConflict, PanelForbidden, PanelInvalid
from panels.service.agenda_items import AgendaItemsMixin
from panels.service.common import ACTION, MINUTES, PACK, TRACKING_OUTCOMES
from panels.service.invitations import InvitationsMixin
from panels.service.meetings import MeetingsMixin
from panels.service.minutes import MinutesMixin
from panels.service.quorum import QuorumMixin
from panels.service.record import RecordMixin
from panels.service.referrals import ReferralsMixin
from panels.service.reports import ReportsMixin
from panels.service.tracker import TrackerMixin

__all__ = [
    "ACTION",
    "MINUTES",
    "PACK",
    "TRACKING_OUTCOMES",
    "PanelConflict",
    "PanelForbidden",
    "PanelInvalid",
    "PanelService",
]


class PanelService(
    MeetingsMixin,
    ReferralsMixin,
    AgendaItemsMixin,
    InvitationsMixin,
    QuorumMixin,
    MinutesMixin,
    RecordMixin,
    TrackerMixin,
    ReportsMixin,
):
    """One local authority's panel, run on the service's database."""
