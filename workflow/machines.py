"""One shared ``transitions`` machine per journey definition version, built once.

Building a machine costs hundreds of microseconds; firing an event on a shared one costs
about ten. So machines are built when a definition is registered and never per request.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from transitions import Machine, MachineError

from workflow.definition import Context, JourneyDefinition


class _Token:
    """The light object the machine moves; it carries nothing but the state."""

    __slots__ = ("state",)

    def __init__(self, state: str) -> None:
        self.state = state


def _condition(when: Any) -> Any:
    return lambda ctx: bool(when(ctx))


@dataclass
class JourneyMachine:
    """A definition together with its built machine."""

    definition: JourneyDefinition
    machine: Machine

    @classmethod
    def build(cls, definition: JourneyDefinition) -> JourneyMachine:
        """Build the shared machine for ``definition``."""
        transitions: list[dict[str, Any]] = []
        for ev in definition.events:
            for source in definition.sources_of(ev):
                if ev.dest is None:
                    transitions.append({"trigger": ev.name, "source": source, "dest": None})
                    continue
                for branch in ev.branches:
                    if not branch.applies_from(source):
                        continue
                    spec: dict[str, Any] = {
                        "trigger": ev.name,
                        "source": source,
                        "dest": branch.dest,
                    }
                    if branch.when is not None:
                        spec["conditions"] = [_condition(branch.when)]
                    transitions.append(spec)
        machine = Machine(
            model=None,
            states=list(definition.state_names),
            transitions=transitions,
            initial=None,
            auto_transitions=False,
        )
        return cls(definition=definition, machine=machine)

    def fire(self, state: str, event: str, ctx: Context) -> str | None:
        """The state after ``event`` from ``state``; None if the event cannot start there."""
        token = _Token(state)
        try:
            moved = self.machine.events[event].trigger(token, ctx)
        except (MachineError, KeyError):
            return None
        return token.state if moved else None


class Registry:
    """Every journey definition version the service knows, with its machine."""

    def __init__(self) -> None:
        self._machines: dict[tuple[str, int], JourneyMachine] = {}
        self._current: dict[str, int] = {}

    def register(self, definition: JourneyDefinition) -> None:
        """Add a definition version; the highest version becomes the one new journeys use."""
        key = (definition.type, definition.version)
        if key in self._machines:
            raise ValueError(f"{definition.type} v{definition.version} is already registered")
        self._machines[key] = JourneyMachine.build(definition)
        if definition.version > self._current.get(definition.type, 0):
            self._current[definition.type] = definition.version

    def current(self, journey_type: str) -> JourneyMachine | None:
        """The version new journeys of this type start with."""
        version = self._current.get(journey_type)
        return None if version is None else self._machines[(journey_type, version)]

    def get(self, journey_type: str, version: int) -> JourneyMachine:
        """A registered version (a running journey's own)."""
        return self._machines[(journey_type, version)]

    def types(self) -> list[str]:
        """The journey types, in registration order."""
        return list(self._current)
