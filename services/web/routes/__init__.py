"""The pages' routers, one module per area. Conventions: services/web/README.md (read it first)."""

from __future__ import annotations

from fastapi import APIRouter

from services.web.routes import account, director

ROUTERS: list[APIRouter] = [account.router, director.router]
