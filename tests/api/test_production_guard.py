"""The production guard (issue 10, item 8): start-up refuses unsafe production settings; the
API docs come from this service's own files (or not at all); HSTS over HTTPS."""

from __future__ import annotations

import base64
import hashlib
import os
import re
import subprocess
import sys

import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from services.config import Settings

PERMANENCE = [sys.executable, "-m", "app.cli"]
GOOD_KEY = "k" * 48
HSTS = "max-age=31536000; includeSubDomains"


def _serve(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("PERMANENCE_")}
    return subprocess.run(
        [*PERMANENCE, "serve", "--port", "1", *args],
        capture_output=True,
        text=True,
        env={**clean, "PERMANENCE_ENVIRONMENT": "production", **env},
        timeout=60,
    )


def _refused(result: subprocess.CompletedProcess[str], why: str) -> None:
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ") and why in lines[0]
    assert "Traceback" not in result.stderr


def test_serve_refuses_production_without_a_secret_key(tmp_path: os.PathLike[str]) -> None:
    url = f"sqlite:///{tmp_path}/p.sqlite3"
    _refused(_serve({"PERMANENCE_DATABASE_URL": url}), "needs PERMANENCE_SECRET_KEY set")


@pytest.mark.parametrize("key", ["change-me", "CHANGE-ME", "short-key"])
def test_serve_refuses_production_with_a_placeholder_key(
    tmp_path: os.PathLike[str], key: str
) -> None:
    url = f"sqlite:///{tmp_path}/p.sqlite3"
    result = _serve({"PERMANENCE_DATABASE_URL": url, "PERMANENCE_SECRET_KEY": key})
    _refused(result, "needs a real PERMANENCE_SECRET_KEY")


def test_serve_refuses_production_with_insecure_cookies(tmp_path: os.PathLike[str]) -> None:
    env = {
        "PERMANENCE_DATABASE_URL": f"sqlite:///{tmp_path}/p.sqlite3",
        "PERMANENCE_SECRET_KEY": GOOD_KEY,
        "PERMANENCE_SESSION_COOKIE_SECURE": "false",
    }
    _refused(_serve(env), "PERMANENCE_SESSION_COOKIE_SECURE=false")


def test_serve_refuses_sqlite_with_several_workers_in_production(
    tmp_path: os.PathLike[str],
) -> None:
    env = {
        "PERMANENCE_DATABASE_URL": f"sqlite:///{tmp_path}/p.sqlite3",
        "PERMANENCE_SECRET_KEY": GOOD_KEY,
    }
    _refused(_serve(env, "--workers", "2"), "serve it with one worker")


def test_a_bare_uvicorn_is_refused_too(tmp_path: os.PathLike[str]) -> None:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("PERMANENCE_")}
    result = subprocess.run(
        [sys.executable, "-m", "uvicorn", "--factory", "app.main:create_app", "--port", "1"],
        capture_output=True,
        text=True,
        env={
            **clean,
            "PERMANENCE_ENVIRONMENT": "production",
            "PERMANENCE_DATABASE_URL": f"sqlite:///{tmp_path}/p.sqlite3",
        },
        timeout=60,
    )
    assert result.returncode != 0
    assert "error: PERMANENCE_ENVIRONMENT=production needs PERMANENCE_SECRET_KEY" in result.stderr


def test_the_guard_passes_a_sound_production_configuration(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("SECRET_KEY", "ENVIRONMENT", "SESSION_COOKIE_SECURE"):
        monkeypatch.delenv(f"PERMANENCE_{name}", raising=False)
    sound = settings.model_copy(update={"environment": "production", "secret_key": GOOD_KEY})
    assert sound.production_refusal() is None
    create_app(sound)  # does not exit
    # Outside production nothing is refused, even a generated key and insecure cookies.
    development = Settings(_env_file=None, session_cookie_secure=False)
    assert development.environment == "development"
    assert development.production_refusal() is None
    # Any spelling of production is production.
    shouted = Settings(_env_file=None, environment="Production")
    assert shouted.production_refusal() is not None
    with pytest.raises(SystemExit, match="needs PERMANENCE_SECRET_KEY set"):
        create_app(shouted)


_REFS = re.compile(r'(?:src|href)="([^"]+)"')
_INLINE = re.compile(r"<script>(.*?)</script>", re.S)


@pytest.mark.parametrize("path", ["/docs", "/redoc", "/docs/oauth2-redirect"])
def test_docs_load_only_this_services_files(app_client: TestClient, path: str) -> None:
    page = app_client.get(path)
    assert page.status_code == 200
    refs = _REFS.findall(page.text)
    if path != "/docs/oauth2-redirect":
        assert any(r.endswith(".js") for r in refs), refs
    for ref in refs:
        assert ref.startswith("/static/vendor/"), ref
        assert app_client.get(ref).status_code == 200, ref
    assert "cdn" not in page.text.lower() and "googleapis" not in page.text
    policy = page.headers["content-security-policy"]
    assert "http" not in policy  # nothing from another site
    for script in _INLINE.findall(page.text):
        digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in policy
    directives = dict(d.strip().split(" ", 1) for d in policy.split(";"))
    assert directives["script-src"].startswith("'self'")
    assert "unsafe" not in directives["script-src"]


def test_the_vendored_files_carry_their_licences(app_client: TestClient) -> None:
    for path in ("swagger-ui/LICENSE", "swagger-ui/NOTICE", "redoc/LICENSE"):
        assert app_client.get(f"/static/vendor/{path}").status_code == 200


def test_docs_can_be_turned_off(engine: object, settings: Settings) -> None:
    off = settings.model_copy(update={"docs_enabled": False})
    with TestClient(create_app(off)) as client:
        for path in ("/docs", "/redoc", "/docs/oauth2-redirect"):
            assert client.get(path).status_code == 404, path
        assert client.get("/healthz").status_code == 200


def test_hsts_over_https_only(engine: object, settings: Settings) -> None:
    app = create_app(settings)
    with TestClient(app, base_url="https://testserver") as https:
        for path in ("/healthz", "/sign-in", "/docs"):
            assert https.get(path).headers["strict-transport-security"] == HSTS, path
    with TestClient(app, base_url="http://testserver") as http:
        for path in ("/healthz", "/sign-in", "/docs"):
            assert "strict-transport-security" not in http.get(path).headers, path
