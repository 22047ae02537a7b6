"""The child's record (issue 14 item 3): approving minutes writes one entry per child on the
agenda, with the decision, its reasons, the actions with owners and due dates and the next
review date; each entry exports as a one-page PDF and a DOCX that hold them; each leaves
through the outbox as a signed webhook to a real HTTP server on loopback, retried after a
500 and sent once however often delivery runs; a correction writes the next version."""

from __future__ import annotations

import hmac
import io
import json
from datetime import date, timedelta

from docx import Document
from pypdf import PdfReader
from sqlalchemy import Engine, select

from notifications.channels import DELIVERY_HEADER, SIGNATURE_HEADER, signature
from notifications.dispatcher import dispatch
from notifications.models import OUTBOX as O
from notifications.models import RECORD_WEBHOOK
from panels.models import RECORD_ENTRIES as RE
from services.clock import now_utc
from services.models import AUDIT_LOG as AL
from tests.conftest import UserFactory
from tests.panel_record_support import ACTION, REASONS, approve, decided_meeting
from tests.panel_support import held_meeting_with_referrals, iso, ok, people
from tests.panels.conftest import SECRET, Hook, record_dispatch_config

NAME = ("Ottoline", "Brackenbury")


def test_approving_minutes_puts_an_entry_on_each_childs_record(
    make_user: UserFactory, engine: Engine
) -> None:
    cast = people(make_user)
    meeting, items, due = decided_meeting(cast)
    decided, undecided = items
    held = date.fromisoformat(meeting["meeting_date"])
    approved = approve(cast, meeting["id"])
    assert approved["children_recorded"] == 2

    (entry,) = ok(cast.sw.get(f"/panel/children/{decided['child_id']}/record"))
    assert entry["child_reference"] == decided["child_reference"]
    assert (entry["meeting_id"], entry["held_on"]) == (meeting["id"], iso(held))
    assert (entry["minutes_version"], entry["current"]) == (1, True)
    (decision,) = entry["decisions"]
    assert decision["outcome"] == "recommend" and decision["reasons"] == REASONS
    assert decision["outcome_label"] != "recommend"  # in words, from the preset
    (action,) = entry["actions"]
    assert (action["description"], action["due_on"]) == (ACTION, iso(due))
    assert action["owner_id"] == cast.sw.user_id and action["owner_name"] == "sw.north"
    assert entry["next_review_on"] == iso(held + timedelta(weeks=6))
    assert entry["journey_title"] == "Long-term fostering match"
    # The other child's entry says nothing was decided; no names in either.
    (other,) = ok(cast.sw.get(f"/panel/children/{undecided['child_id']}/record"))
    assert other["decisions"] == [] and other["next_review_on"] is None
    assert "given_name" not in json.dumps(entry)

    # Another team's social worker may not read it; the read was audited.
    south = make_user("sw.south", "social_worker", team="south")
    assert south.get(f"/panel/children/{decided['child_id']}/record").status_code == 403
    assert south.get(f"/panel/record-entries/{entry['id']}?format=pdf").status_code == 403
    assert cast.sw.get("/panel/record-entries/999999").status_code == 404
    with engine.connect() as conn:
        reads = conn.execute(
            select(AL.c.action, AL.c.details).where(AL.c.action.like("read.panel_record%"))
        ).all()
    assert {r.action for r in reads} == {"read.panel_record"}

    # A second approval is refused and writes nothing.
    again = cast.admin.post(f"/panel/meetings/{meeting['id']}/minutes/approve", {})
    assert again.status_code == 409
    with engine.connect() as conn:
        assert len(conn.execute(select(RE.c.id)).all()) == 2
        # No webhook configured: nothing queued for the case system.
        assert conn.execute(select(O.c.id).where(O.c.channel == RECORD_WEBHOOK)).all() == []


def test_entry_pdf_and_docx_hold_the_decision_and_actions(
    make_user: UserFactory, engine: Engine
) -> None:
    cast = people(make_user)
    meeting, items, due = decided_meeting(cast)
    approve(cast, meeting["id"])
    (entry,) = ok(cast.sw.get(f"/panel/children/{items[0]['child_id']}/record"))
    label = entry["decisions"][0]["outcome_label"]

    pdf = cast.sw.get(f"/panel/record-entries/{entry['id']}?format=pdf")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    reader = PdfReader(io.BytesIO(pdf.content))
    assert len(reader.pages) == 1
    text = " ".join(reader.pages[0].extract_text().split())
    for expected in (label, REASONS, ACTION, entry["child_reference"], due.strftime("%B %Y")):
        assert expected in text, expected

    docx = cast.sw.get(f"/panel/record-entries/{entry['id']}?format=docx")
    assert docx.status_code == 200
    document = Document(io.BytesIO(docx.content))
    cells = [c.text for t in document.tables for row in t.rows for c in row.cells]
    assert "Decision" in cells and label in cells and "Reasons" in cells
    assert any(ACTION in c and "Due" in c for c in cells)
    assert entry["child_reference"] in document.paragraphs[0].text

    # The minutes as a whole as DOCX (they name the child: panel staff only).
    minutes = cast.admin.get(f"/panel/meetings/{meeting['id']}/minutes?format=docx")
    assert minutes.status_code == 200
    whole = Document(io.BytesIO(minutes.content))
    texts = [p.text for p in whole.paragraphs] + [
        c.text for t in whole.tables for row in t.rows for c in row.cells
    ]
    assert any(ACTION in t for t in texts) and any(REASONS in t for t in texts)
    assert cast.sw.get(f"/panel/meetings/{meeting['id']}/minutes?format=docx").status_code == 403
    with engine.connect() as conn:
        exports = conn.execute(
            select(AL.c.details).where(AL.c.action == "read.panel_record_export")
        ).all()
    assert sorted(e.details["format"] for e in exports) == ["docx", "pdf"]


def test_webhook_delivered_once_signed_retried_after_a_500(
    hook: Hook, make_user: UserFactory, engine: Engine
) -> None:
    cast = people(make_user)
    meeting, items, _due = decided_meeting(cast)
    approve(cast, meeting["id"])
    with engine.connect() as conn:
        queued = conn.execute(select(O).where(O.c.channel == RECORD_WEBHOOK)).all()
    assert len(queued) == 2  # one per child
    config = record_dispatch_config(hook)
    start = now_utc()

    first = dispatch(engine, config, now=start)
    assert (first.sent, first.retrying) == (1, 1)  # the first post got a 500
    assert hook.answered == [500, 200]
    later = dispatch(engine, config, now=start + timedelta(seconds=5))
    assert later.sent == 1
    # Delivery running again sends nothing.
    assert dispatch(engine, config, now=start + timedelta(minutes=10)).sent == 0
    assert hook.answered == [500, 200, 200]

    answers = zip(hook.received, hook.answered, strict=True)
    delivered = [(h, b) for (h, b), status in answers if status == 200]
    deliveries = sorted(h[DELIVERY_HEADER] for h, _ in delivered)
    assert len(set(deliveries)) == 2  # each entry once
    # The retry is the message refused with a 500, under the same delivery id and body.
    assert hook.received[2][0][DELIVERY_HEADER] == hook.received[0][0][DELIVERY_HEADER]
    assert hook.received[2][1] == hook.received[0][1]
    for headers, body in delivered:
        expected = signature(SECRET, body)
        assert hmac.compare_digest(headers[SIGNATURE_HEADER], expected)
        assert hmac.compare_digest(
            headers[SIGNATURE_HEADER],
            "sha256=" + hmac.new(SECRET.encode(), body, "sha256").hexdigest(),
        )
    bodies = {json.loads(b)["child"]["id"]: json.loads(b) for _, b in delivered}
    message = bodies[items[0]["child_id"]]
    assert message["child"] == {
        "id": items[0]["child_id"],
        "reference": items[0]["child_reference"],
    }
    assert message["decisions"][0]["reasons"] == REASONS
    assert message["actions"][0]["description"] == ACTION
    assert REASONS in message["text"] and ACTION in message["text"]
    assert message["delivery_id"] == f"record:{message['entry_id']}"
    with engine.connect() as conn:
        statuses = conn.execute(select(O.c.status).where(O.c.channel == RECORD_WEBHOOK)).all()
    assert [s.status for s in statuses] == ["sent", "sent"]


def test_no_name_or_date_of_birth_leaves_in_the_message(
    hook: Hook, make_user: UserFactory, engine: Engine
) -> None:
    hook.fail_first = 0
    cast = people(make_user)
    ready = held_meeting_with_referrals(cast, 1)
    child = ok(cast.sw.get(f"/children/{ready.referrals[0]['child_id']}"))
    ok(
        cast.sw.patch(
            f"/children/{child['id']}",
            {"given_name": NAME[0], "family_name": NAME[1], "expected_version": child["version"]},
        )
    )
    ok(cast.admin.post(f"/panel/meetings/{ready.meeting['id']}/agenda", {}))
    approve(cast, ready.meeting["id"])
    assert dispatch(engine, record_dispatch_config(hook)).sent == 1
    ((_, body),) = hook.received
    text = body.decode()
    assert NAME[0] not in text and NAME[1] not in text
    assert child["date_of_birth"] not in text


def test_a_correction_writes_the_next_version_and_sends_it_once(
    hook: Hook, make_user: UserFactory, engine: Engine
) -> None:
    hook.fail_first = 0
    cast = people(make_user)
    meeting, items, _due = decided_meeting(cast)
    approve(cast, meeting["id"])
    assert dispatch(engine, record_dispatch_config(hook)).sent == 2
    v1 = ok(cast.sw.get(f"/panel/children/{items[0]['child_id']}/record"))[0]

    # Only approved minutes reopen; a reason is needed; a social worker may not.
    assert (
        cast.sw.post(f"/panel/meetings/{meeting['id']}/minutes/reopen", {"reason": "x"})
    ).status_code == 403
    assert (
        cast.admin.post(f"/panel/meetings/{meeting['id']}/minutes/reopen", {"reason": " "})
    ).status_code == 422
    reopened = ok(
        cast.chair.post(
            f"/panel/meetings/{meeting['id']}/minutes/reopen",
            {"reason": "The second child's decision was left out"},
        )
    )
    assert reopened == {
        "meeting_id": meeting["id"],
        "minutes_status": "draft",
        "next_version": 2,
        "reason": "The second child's decision was left out",
    }
    ok(cast.chair.post(f"/panel/items/{items[1]['id']}/decision", {"outcome": "defer"}), 201)
    approve(cast, meeting["id"])

    entries = ok(cast.sw.get(f"/panel/children/{items[1]['child_id']}/record"))
    assert [(e["minutes_version"], e["current"]) for e in entries] == [(1, False), (2, True)]
    assert entries[0]["decisions"] == [] and entries[1]["decisions"][0]["outcome"] == "defer"
    # Version 1 is kept as it was sent.
    assert ok(cast.sw.get(f"/panel/record-entries/{v1['id']}")) == {**v1, "current": False}

    assert dispatch(engine, record_dispatch_config(hook)).sent == 2
    assert dispatch(engine, record_dispatch_config(hook)).sent == 0
    sent = [json.loads(b) for _, b in hook.received]
    assert [m["minutes_version"] for m in sent] == [1, 1, 2, 2]
    replaced = {m["entry_id"] for m in sent[:2]}
    assert {m["replaces_entry_id"] for m in sent[2:]} == replaced
    with engine.connect() as conn:
        assert len(conn.execute(select(RE.c.id)).all()) == 4
