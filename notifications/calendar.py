"""Calendar invitations: the .ics an invitation's email carries (RFC 5545 / iTIP RFC 5546),
built with the ``icalendar`` package.

What an invitation says is fixed when it is queued (the outbox row's ``calendar`` payload:
method, uid, sequence, the slot in London time, a summary with references only); the
addresses and the link's host are added when it is sent. An update keeps the uid and raises
the sequence, a cancellation is ``METHOD:CANCEL`` with the same uid, so a calendar moves or
removes the event it already has. Times are Europe/London with the zone's VTIMEZONE, so a
slot stays at 09:30 on either side of a clock change.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event, vCalAddress, vText

LONDON = ZoneInfo("Europe/London")
PRODID = "-//Permanence panels//Invitations//EN"
METHODS = ("REQUEST", "CANCEL")


def calendar_payload(
    *,
    method: str,
    uid: str,
    sequence: int,
    day: date,
    start_time: str,
    minutes: int,
    summary: str,
    link: str,
    stamp: datetime,
) -> dict[str, Any]:
    """What an invitation's .ics will say, as the outbox row's JSON payload (``calendar``).
    ``start_time`` is "HH:MM" in London; ``link`` a path under the base URL; ``summary``
    references only (it is shown by every calendar the email reaches)."""
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}")
    return {
        "method": method,
        "uid": uid,
        "sequence": sequence,
        "start": f"{day.isoformat()}T{start_time}",
        "minutes": minutes,
        "summary": summary,
        "link": link,
        "stamp": stamp.astimezone(UTC).isoformat(),
    }


def invitation_ics(
    payload: Mapping[str, Any], *, base_url: str, organizer: str, attendee: str
) -> bytes:
    """The .ics of a queued invitation (``calendar_payload``) for one attendee."""
    method = str(payload["method"])
    start = datetime.fromisoformat(str(payload["start"])).replace(tzinfo=LONDON)
    end = start + timedelta(minutes=int(payload["minutes"]))
    link = f"{base_url.rstrip('/')}{payload['link']}"
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("method", method)
    event = Event()
    event.add("uid", str(payload["uid"]))
    event.add("sequence", int(payload["sequence"]))
    event.add("dtstamp", datetime.fromisoformat(str(payload["stamp"])))
    event.add("dtstart", start)
    event.add("dtend", end)
    event.add("summary", str(payload["summary"]))
    event.add("description", f"{payload['summary']}\n{link}")
    event.add("url", link)
    event.add("status", "CANCELLED" if method == "CANCEL" else "CONFIRMED")
    event["organizer"] = vCalAddress(f"mailto:{organizer}")
    person = vCalAddress(f"mailto:{attendee}")
    person.params["role"] = vText("REQ-PARTICIPANT")
    person.params["rsvp"] = vText("FALSE")
    event.add("attendee", person, encode=False)
    cal.add_component(event)
    # Only the zone's rules for the years around the slot, not the whole of 1970-2038.
    cal.add_missing_timezones(
        first_date=date(start.year - 1, 1, 1), last_date=date(start.year + 2, 1, 1)
    )
    return bytes(cal.to_ical())
