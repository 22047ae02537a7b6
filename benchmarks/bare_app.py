"""The HTTP floor: the floor's transaction (:mod:`floor`) behind a bare FastAPI endpoint.

Same path and body as the service's ``POST /api/v1/journeys/{id}/events``, run by the same
uvicorn as the service in ``bench_transitions.py --floor``, with none of the service: no
middleware, no token, no user lookup, no journey rules, no logging. It answers the journey's
id, new version and deadlines (200) or 409 for a stale version. On PostgreSQL it awaits
psycopg's async connections (autocommit, a small pool per worker); on SQLite it runs the
transaction inline on one connection, as the service does.

    BARE_DATABASE_URL=... BARE_ACTOR_ID=1 uvicorn bare_app:create_app --factory
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date
from pathlib import Path
from typing import Any

import orjson
from fastapi import FastAPI
from fastapi.responses import Response
from pydantic import BaseModel

sys.path.insert(0, str(Path(__file__).resolve().parent))
import floor


class EventIn(BaseModel):
    event: str
    expected_version: int
    occurred_on: date
    data: dict[str, Any] = {}


def _answer(journey_id: int, version: int, planned: floor.Planned) -> Response:
    body = {"id": journey_id, "version": version, "deadlines": planned.deadlines}
    return Response(orjson.dumps(body), media_type="application/json")


def _stale() -> Response:
    return Response(b'{"error":"stale_version"}', status_code=409, media_type="application/json")


def create_app() -> FastAPI:
    """The bare app on ``BARE_DATABASE_URL``."""
    url = os.environ["BARE_DATABASE_URL"]
    actor_id = int(os.environ["BARE_ACTOR_ID"])
    pool_size = int(os.environ.get("BARE_POOL_SIZE", "10"))
    state: dict[str, Any] = {}

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if url.startswith("sqlite"):
            state["sqlite"] = floor.sqlite_connect(url.split("///", 1)[1])
        else:
            import psycopg

            pool: asyncio.Queue[Any] = asyncio.Queue()
            for _ in range(pool_size):
                conn = await psycopg.AsyncConnection.connect(
                    floor.pg_conninfo(url), autocommit=True
                )
                pool.put_nowait(conn)
            state["pool"] = pool
        yield
        if "pool" in state:
            while not state["pool"].empty():
                await state["pool"].get_nowait().close()

    app = FastAPI(lifespan=lifespan)

    @app.post("/api/v1/journeys/{journey_id}/events")
    async def fire(journey_id: int, body: EventIn) -> Response:
        try:
            if "sqlite" in state:
                planned = floor.sqlite_fire(
                    state["sqlite"], journey_id, body.expected_version, body.occurred_on, actor_id
                )
            else:
                conn = await state["pool"].get()
                try:
                    planned = await floor.pg_fire_async(
                        conn, journey_id, body.expected_version, body.occurred_on, actor_id
                    )
                finally:
                    state["pool"].put_nowait(conn)
        except floor.Stale:
            return _stale()
        return _answer(journey_id, body.expected_version + 1, planned)

    @app.get("/readyz")
    async def readyz() -> dict[str, str]:
        return {"status": "ok"}

    return app
