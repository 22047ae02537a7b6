"""The roles of DOMAIN.md, and the groups journey definitions grant events to."""

from __future__ import annotations

SOCIAL_WORKER = "social_worker"
TEAM_MANAGER = "team_manager"
SERVICE_MANAGER = "service_manager"
PANEL_CHAIR = "panel_chair"
PANEL_ADMIN = "panel_admin"
ADM = "adm"
SERVICE_DIRECTOR = "service_director"
IRO = "iro"
SYSADMIN = "sysadmin"
READ_ONLY = "read_only"

ALL_ROLES: tuple[str, ...] = (
    SOCIAL_WORKER,
    TEAM_MANAGER,
    SERVICE_MANAGER,
    PANEL_CHAIR,
    PANEL_ADMIN,
    ADM,
    SERVICE_DIRECTOR,
    IRO,
    SYSADMIN,
    READ_ONLY,
)

# Who does the casework: moves a journey through its ordinary stages.
CASEWORK: tuple[str, ...] = (SOCIAL_WORKER, TEAM_MANAGER, SERVICE_MANAGER)
# Formal decisions of the agency decision maker / nominated officer.
DECISION_MAKER: tuple[str, ...] = (ADM,)
# Panel recommendations.
PANEL: tuple[str, ...] = (PANEL_CHAIR,)
# Managers who may close or redirect a journey.
MANAGERS: tuple[str, ...] = (TEAM_MANAGER, SERVICE_MANAGER, SERVICE_DIRECTOR)
