"""The journeys of DOMAIN.md, one module each, written as declarative definitions."""

from __future__ import annotations

from states import (
    adoption,
    care_proceedings,
    long_term_fostering,
    permanence_planning,
    placed_with_parents,
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
)


def build_registry() -> Registry:
    """A registry holding every journey definition (built once per process)."""
    registry = Registry()
    for definition in DEFINITIONS:
        registry.register(definition)
    return registry
