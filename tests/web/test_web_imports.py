"""The import page: upload, the dry run's report, the choice of authority, apply exactly what
was dry-run (queued, then run by the scheduler's job: the queued import's page shows it
queued, then done with its report), previous imports; only for the system administrator."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select, update

from services.access import Principal
from services.care_record.models import (
    CARE_CHILDREN,
    CARE_IMPORTS,
    PENDING_IMPORT_FILES,
    PENDING_IMPORTS,
)
from services.care_record.pending import (
    UploadChanged,
    UploadGone,
    apply_upload,
    dry_run_upload,
    stage_upload,
)
from services.care_record.queue import run_import_queue
from services.db import read_connection, write_connection
from tests.conftest import Api, UserFactory
from tests.record_support import timeline_return
from tests.services.care_record.support import EPISODES, HEADER, episode, header, write_csv
from tests.web_support import WebUser


def _count(engine: Engine, table: object) -> int:
    with read_connection(engine) as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())  # type: ignore[arg-type]


def _files(paths: list[Path]) -> list[tuple[str, tuple[str, bytes, str]]]:
    return [
        ("allocation" if p.stem == "allocation" else "files", (p.name, p.read_bytes(), "text/csv"))
        for p in paths
    ]


def _token(html: str) -> str:
    match = re.search(r'name="token" value="([^"]+)"', html)
    assert match, "no token on the page"
    return match.group(1)


@pytest.fixture
def admin(make_user: UserFactory, web_as: Callable[[Api], WebUser]) -> WebUser:
    make_user("sw.north", "social_worker", team="north")
    return web_as(make_user("sysadmin", "sysadmin"))


def test_dry_run_then_apply(admin: WebUser, engine: Engine, tmp_path: Path) -> None:
    paths = timeline_return(tmp_path).write()

    dry = admin.post("/admin/imports", files=_files(paths))

    assert dry.status_code == 200, dry.text
    assert "Check the import before applying it" in dry.text
    assert "Dry run: nothing was written" in dry.text
    assert re.search(r"Children created</dt>\s*<dd[^>]*>2<", dry.text)
    assert "allocation.csv" in dry.text and "header.csv" in dry.text
    assert _count(engine, CARE_CHILDREN) == 0 and _count(engine, CARE_IMPORTS) == 0
    # The files wait in the database, under the SHA-256 of the page's token.
    assert _count(engine, PENDING_IMPORTS) == 1
    assert _count(engine, PENDING_IMPORT_FILES) == len(paths)

    applied = admin.post("/admin/imports/apply", {"token": _token(dry.text), "action": "apply"})

    assert applied.status_code == 303, applied.text
    queued = applied.headers["location"]
    assert re.fullmatch(r"/admin/imports/queue/\d+", queued)
    # Queued, not run in the request: nothing imported yet; the kept upload moved to the queue.
    assert _count(engine, CARE_CHILDREN) == 0
    assert _count(engine, PENDING_IMPORTS) == 0 and _count(engine, PENDING_IMPORT_FILES) == 0
    waiting = admin.get(queued)
    assert waiting.status_code == 200 and "Queued" in waiting.text
    assert "/static/app/refresh.js" in waiting.text  # the page checks again by itself
    assert run_import_queue(engine) == 1
    assert _count(engine, CARE_CHILDREN) == 2
    done = admin.get(queued)
    assert "Done" in done.text and "/static/app/refresh.js" not in done.text
    assert "2 children created, 0 updated, 0 unchanged, 0 rejected" in done.text
    link = re.search(r'href="(/admin/imports/\d+)"', done.text)
    assert link
    page = admin.get(link.group(1))
    assert page.status_code == 200
    for p in paths:
        assert hashlib.sha256(p.read_bytes()).hexdigest() in page.text
    listing = admin.get("/admin/imports")
    assert 'id="imports"' in listing.text and "sysadmin" in listing.text
    assert "2 created, 0 updated, 0 unchanged, 0 rejected" in listing.text
    # The same token again: the files are gone, nothing is imported twice.
    again = admin.post("/admin/imports/apply", {"token": _token(dry.text), "action": "apply"})
    assert again.status_code == 409 and "no longer kept" in again.text
    assert _count(engine, CARE_IMPORTS) == 1


def test_every_rejected_row_is_shown_by_child_id(
    admin: WebUser, engine: Engine, tmp_path: Path
) -> None:
    headers = write_csv(
        tmp_path / "header.csv",
        HEADER,
        [header("A1"), header("B1")],
    )
    episodes = write_csv(
        tmp_path / "episodes.csv",
        EPISODES,
        [episode("A1", "01/06/2020"), episode("B1", "01/06/2020", LS="ZZ")],
    )

    dry = admin.post("/admin/imports", files=_files([headers, episodes]))

    assert dry.status_code == 200, dry.text
    table = re.search(r'id="import-rejections".*?</table>', dry.text, re.S)
    assert table
    cells = re.findall(r'<td class="govuk-table__cell">([^<]*)</td>', table.group(0))
    assert cells[:4] == ["episodes.csv", "3", "LS", "ZZ"] and cells[5] == "B1"
    assert "01/06/2012" not in dry.text and "A123456789012" not in dry.text  # no DOB, no UPN
    applied = admin.post("/admin/imports/apply", {"token": _token(dry.text), "action": "apply"})
    assert applied.status_code == 303
    assert run_import_queue(engine) == 1
    with read_connection(engine) as conn:
        ids = set(conn.execute(select(CARE_CHILDREN.c.return_child_id)).scalars())
    assert ids == {"A1"}


def test_a_regional_file_asks_which_authority(
    admin: WebUser, engine: Engine, tmp_path: Path
) -> None:
    headers = write_csv(
        tmp_path / "header.csv",
        ("LA", *HEADER),
        [{**header("A1"), "LA": "Sefton"}, {**header("B1"), "LA": "Wirral"}],
    )

    asked = admin.post("/admin/imports", files=_files([headers]))

    assert asked.status_code == 200, asked.text
    assert "Choose the authority to import" in asked.text
    assert 'value="Sefton"' in asked.text and 'value="Wirral"' in asked.text
    token = _token(asked.text)
    unchosen = admin.post("/admin/imports/dry-run", {"token": token})
    assert unchosen.status_code == 422 and "Select the authority to import" in unchosen.text

    dry = admin.post("/admin/imports/dry-run", {"token": token, "la": "Wirral"})

    assert dry.status_code == 200, dry.text
    assert "Dry run: Wirral" in dry.text
    applied = admin.post("/admin/imports/apply", {"token": _token(dry.text), "action": "apply"})
    assert applied.status_code == 303
    assert run_import_queue(engine) == 1
    with read_connection(engine) as conn:
        ids = set(conn.execute(select(CARE_CHILDREN.c.return_child_id)).scalars())
        la = conn.execute(select(CARE_IMPORTS.c.la)).scalar_one()
    assert ids == {"B1"} and la == "Wirral"


def test_files_that_are_no_return_are_refused_on_the_form(
    admin: WebUser, engine: Engine, tmp_path: Path
) -> None:
    odd = tmp_path / "notes.csv"
    odd.write_text("NAME,COLOUR\nx,y\n")

    refused = admin.post("/admin/imports", files=_files([odd]))

    assert refused.status_code == 422
    assert (
        "There is a problem" in refused.text and "notes.csv: its columns match no" in refused.text
    )
    assert _count(engine, PENDING_IMPORTS) == 0
    empty = admin.post("/admin/imports", {})
    assert empty.status_code == 422 and "Select one or more CSV files" in empty.text


def test_discarding_forgets_the_files(admin: WebUser, engine: Engine, tmp_path: Path) -> None:
    dry = admin.post("/admin/imports", files=_files(timeline_return(tmp_path).write()))

    gone = admin.post("/admin/imports/apply", {"token": _token(dry.text), "action": "discard"})

    assert gone.status_code == 303 and gone.headers["location"] == "/admin/imports?done=discarded"
    assert _count(engine, PENDING_IMPORTS) == 0 and _count(engine, CARE_CHILDREN) == 0


def test_another_session_cannot_apply_the_upload(
    admin: WebUser, engine: Engine, tmp_path: Path, web_as: Callable[[Api], WebUser]
) -> None:
    dry = admin.post("/admin/imports", files=_files(timeline_return(tmp_path).write()))
    other = WebUser(admin.client.app, "sysadmin")  # type: ignore[arg-type]

    refused = other.post("/admin/imports/apply", {"token": _token(dry.text), "action": "apply"})

    assert refused.status_code == 409 and "no longer kept" in refused.text
    assert _count(engine, CARE_CHILDREN) == 0


def test_only_the_system_administrator(
    make_user: UserFactory, web_as: Callable[[Api], WebUser], tmp_path: Path
) -> None:
    for user in (
        make_user("sm", "service_manager"),
        make_user("sw.north", "social_worker", team="north"),
    ):
        web = web_as(user)
        assert web.get("/admin/imports").status_code == 403
        posted = web.post("/admin/imports", files=_files(timeline_return(tmp_path).write()))
        assert posted.status_code == 403


def test_apply_needs_a_dry_run_and_the_same_bytes(
    make_user: UserFactory, principal_of: Callable[[int], Principal], engine: Engine, tmp_path: Path
) -> None:
    admin = make_user("sysadmin", "sysadmin")
    principal = principal_of(admin.user_id)
    files = [(p.name, p.read_bytes()) for p in timeline_return(tmp_path).write()]
    staged = stage_upload(engine, principal, 7, files)

    with pytest.raises(UploadGone):
        apply_upload(engine, principal, 7, staged.token)
    dry_run_upload(engine, principal, 7, staged.token, la=None)
    with pytest.raises(UploadGone):  # another session's token
        apply_upload(engine, principal, 8, staged.token)
    with write_connection(engine) as conn:
        first = conn.execute(select(func.min(PENDING_IMPORT_FILES.c.id))).scalar_one()
        conn.execute(
            update(PENDING_IMPORT_FILES)
            .where(PENDING_IMPORT_FILES.c.id == first)
            .values(content=b"CHILD,SEX,DOB,ETHNIC\nZ9,1,01/01/2012,WBRI\n")
        )

    with pytest.raises(UploadChanged):
        apply_upload(engine, principal, 7, staged.token)
    assert _count(engine, CARE_CHILDREN) == 0
