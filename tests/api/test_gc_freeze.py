"""Start-up's objects are frozen out of the garbage collector's full passes (app.main), and
thawed when the app stops."""

from __future__ import annotations

import gc

from fastapi.testclient import TestClient

from app.main import create_app
from services.config import Settings


def test_startup_objects_are_frozen_while_the_app_runs(settings: Settings) -> None:
    with TestClient(create_app(settings)) as client:
        # The app's routes and services, built by the lifespan, are in the permanent
        # generation.
        assert gc.get_freeze_count() > 10_000
        assert client.get("/healthz").status_code == 200
    assert gc.get_freeze_count() == 0
