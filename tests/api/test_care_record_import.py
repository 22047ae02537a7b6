"""POST /api/v1/care-record/imports: the system administrator uploads the SSDA903 tables;
the dry run answers in the request, the import is queued (202) and run by the scheduler's
job (``run_import_queue``), its report (or error) read at its link."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func, select

from services.care_record.models import CARE_CHILDREN, CARE_EPISODES, CARE_IMPORTS
from services.care_record.queue import QUEUE_FILES, run_import_queue
from services.db import read_connection
from tests.conftest import Api, UserFactory
from tests.services.care_record.support import (
    EPISODES,
    HEADER,
    episode,
    fake_data_folder,
    header,
    write_csv,
)

URL = "/care-record/imports"


def _count(engine: Engine, table: object) -> int:
    with read_connection(engine) as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())  # type: ignore[arg-type]


def _uploads(paths: list[Path]) -> list[tuple[str, tuple[str, bytes, str]]]:
    return [("files", (p.name, p.read_bytes(), "text/csv")) for p in paths]


def _queued_then_run(admin: Api, engine: Engine, response: Any) -> dict[str, Any]:
    """A 202 answer's queued import, after the scheduler's job ran the queue."""
    assert response.status_code == 202, response.text
    link = response.json()["link"]
    assert response.headers["location"] == link
    assert response.json()["status"] == "queued"
    waiting = admin.client.get(link, headers=admin.headers)
    assert waiting.status_code == 200 and waiting.json()["status"] == "queued"
    assert run_import_queue(engine) == 1
    done = admin.client.get(link, headers=admin.headers)
    assert done.status_code == 200, done.text
    assert _count(engine, QUEUE_FILES) == 0  # the bytes go once the import has run
    return dict(done.json())


def test_dry_run_then_import_of_the_fake_return(make_user: UserFactory, engine: Engine) -> None:
    admin = make_user("sysadmin", "sysadmin")
    files = sorted(fake_data_folder().glob("*.csv"))

    dry = admin.post(URL, files=_uploads(files), data={"dry_run": "true"})

    assert dry.status_code == 200, dry.text
    planned = dry.json()
    assert planned["dry_run"] is True and planned["import_id"] is None
    assert planned["children"]["created"] > 1000
    # The report names the files as uploaded, not where the server kept them.
    assert [f["file"] for f in planned["files"]] == [p.name for p in files]
    assert {r["file"] for r in planned["rejections"]} <= {p.name for p in files}
    assert _count(engine, CARE_CHILDREN) == 0

    real = admin.post(URL, files=_uploads(files))
    assert _count(engine, CARE_CHILDREN) == 0  # nothing imported in the request
    queued = _queued_then_run(admin, engine, real)
    assert queued["status"] == "done" and queued["error"] is None
    assert [f["sha256"] for f in queued["files"]] == [f["sha256"] for f in planned["files"]]
    done = queued["report"]
    assert done["children"] == planned["children"]
    assert queued["import_id"] == done["import_id"]
    assert done["import_id"] is not None
    assert _count(engine, CARE_CHILDREN) == done["children"]["created"]
    with read_connection(engine) as conn:
        run = conn.execute(select(CARE_IMPORTS)).one()
        sources = set(conn.execute(select(CARE_EPISODES.c.source_file).distinct()).scalars())
    assert run.actor_id == admin.user_id
    assert sources == {"episodes.csv"}


def test_only_a_system_administrator_may_import(
    make_user: UserFactory, engine: Engine, tmp_path: Path
) -> None:
    path = write_csv(tmp_path / "header.csv", HEADER, [header("A1")])
    for name, role in (("sm", "service_manager"), ("chair", "panel_chair")):
        user = make_user(name, role)
        response = user.post(URL, files=_uploads([path]))
        assert response.status_code == 403, response.text
    assert _count(engine, CARE_CHILDREN) == 0
    anonymous = make_user("x", "sysadmin").client.post(f"/api/v1{URL}", files=_uploads([path]))
    assert anonymous.status_code == 401


def test_several_authorities_are_refused_without_la(
    make_user: UserFactory, engine: Engine, tmp_path: Path
) -> None:
    admin = make_user("sysadmin", "sysadmin")
    headers = write_csv(
        tmp_path / "header.csv",
        ("LA", *HEADER),
        [{**header("A1"), "LA": "Sefton"}, {**header("B1"), "LA": "Wirral"}],
    )
    episodes = write_csv(
        tmp_path / "episodes.csv",
        ("LA", *EPISODES),
        [{**episode("A1", "01/06/2020"), "LA": "Sefton"}],
    )

    refused = admin.post(URL, files=_uploads([headers, episodes]), data={"dry_run": "true"})

    assert refused.status_code == 422, refused.text
    body = refused.json()
    assert body["error"] == "import_refused"
    assert body["authorities"] == ["Sefton", "Wirral"]
    assert "Sefton" in body["message"] and "Wirral" in body["message"]

    failed = _queued_then_run(admin, engine, admin.post(URL, files=_uploads([headers, episodes])))
    assert failed["status"] == "failed" and failed["report"] is None
    assert "Sefton" in failed["error"] and "Wirral" in failed["error"]
    assert _count(engine, CARE_EPISODES) == 0

    chosen = admin.post(URL, files=_uploads([headers, episodes]), data={"la": "sefton"})
    queued = _queued_then_run(admin, engine, chosen)
    assert queued["status"] == "done", queued
    assert queued["report"]["children"]["created"] == 1
    assert _count(engine, CARE_EPISODES) == 1


def test_a_file_that_is_no_table_is_refused(
    make_user: UserFactory, engine: Engine, tmp_path: Path
) -> None:
    admin = make_user("sysadmin", "sysadmin")
    odd = tmp_path / "notes.csv"
    odd.write_text("NAME,COLOUR\nx,y\n")
    response = admin.post(URL, files=_uploads([odd]), data={"dry_run": "true"})
    assert response.status_code == 422
    message = response.json()["message"]
    assert message.startswith("notes.csv") and "ssda903-" not in message  # not the server's path
    failed = _queued_then_run(admin, engine, admin.post(URL, files=_uploads([odd])))
    assert failed["status"] == "failed"
    assert failed["error"].startswith("notes.csv") and "ssda903-" not in failed["error"]


def test_only_a_system_administrator_reads_a_queued_import(
    make_user: UserFactory, engine: Engine, tmp_path: Path
) -> None:
    admin = make_user("sysadmin", "sysadmin")
    path = write_csv(tmp_path / "header.csv", HEADER, [header("A1")])
    link = admin.post(URL, files=_uploads([path])).json()["link"]
    sm = make_user("sm", "service_manager")
    assert sm.client.get(link, headers=sm.headers).status_code == 403
    assert admin.client.get(link + "0", headers=admin.headers).status_code == 404
