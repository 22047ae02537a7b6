"""The journeys of DOMAIN.md, one module each, written as declarative definitions."""

from __future__ import annotations

from states import (
    adoption,
    care_proceedings,
    child_arrangements_order,
    connected_person_approval,
    deadline_kinds,
    long_term_fostering,
    permanence_planning,
    placed_with_parents,
    reunification,
    sgo,
)
from workflow.definition import JourneyDefinition
from workflow.machines import Registry

DEFINITIONS: tuple[JourneyDefinition, ...] = (
    permanence_planning.DEFINITION,
    adoption.DEFINITION,
    care_proceedings.DEFINITION,
    sgo.DEFINITION,
    long_term_fostering.DEFINITION,
    placed_with_parents.DEFINITION,
    connected_person_approval.DEFINITION,
    reunification.DEFINITION,
    child_arrangements_order.DEFINITION,
)


def build_registry() -> Registry:
    """A registry holding every journey definition (built once per process)."""
    missing = deadline_kinds.undeclared(DEFINITIONS)
    if missing:
        raise ValueError(f"deadline kinds not in states.deadline_kinds: {', '.join(missing)}")
    registry = Registry()
    for definition in DEFINITIONS:
        registry.register(definition)
    return registry
