"""Mermaid state diagrams drawn straight from a definition (no graphviz needed)."""

from __future__ import annotations

from workflow.definition import JourneyDefinition


def mermaid(definition: JourneyDefinition, highlight: str | None = None) -> str:
    """A ``stateDiagram-v2`` of the journey; ``highlight`` marks the current state."""
    lines = ["stateDiagram-v2", f"    [*] --> {definition.initial}"]
    seen: set[tuple[str, str, str]] = set()
    for ev in definition.events:
        for source in definition.sources_of(ev):
            for dest in ev.destinations_from(source):
                edge = (source, dest, ev.name)
                if edge not in seen:
                    seen.add(edge)
                    lines.append(f"    {source} --> {dest} : {ev.name}")
    for state in definition.states:
        if state.final:
            lines.append(f"    {state.name} --> [*]")
    if highlight:
        lines.append("    classDef current fill:#ffdd00,stroke:#0b0c0c,stroke-width:3px")
        lines.append(f"    class {highlight} current")
    return "\n".join(lines)
