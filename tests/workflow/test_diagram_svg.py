"""The inline SVG state diagram: valid XML, every stage once, no overlaps, accessible."""

from __future__ import annotations

import itertools
import xml.etree.ElementTree as ET

import pytest

import states
from workflow.definition import Event, JourneyDefinition, State
from workflow.diagram import svg

NS = "{http://www.w3.org/2000/svg}"
CURRENT_FILL = "#ffdd00"

_REGISTRY = states.build_registry()
TYPES = _REGISTRY.types()

Box = tuple[float, float, float, float]  # x, y, width, height


def _definition(journey_type: str) -> JourneyDefinition:
    machine = _REGISTRY.current(journey_type)
    assert machine is not None, journey_type
    return machine.definition


def _joined(text: ET.Element) -> str:
    """A <text> element's words as one line (its <tspan>s joined; <title>s left out)."""
    parts = [text.text or ""]
    parts += [t.text or "" for t in text.iter(f"{NS}tspan")]
    return " ".join(p for p in parts if p)


def _state_groups(root: ET.Element) -> dict[str, ET.Element]:
    return {g.attrib["data-state"]: g for g in root.iter(f"{NS}g") if "data-state" in g.attrib}


def _box(group: ET.Element) -> Box:
    rect = group.find(f"{NS}rect")
    assert rect is not None
    x, y, width, height = (float(rect.attrib[k]) for k in ("x", "y", "width", "height"))
    return x, y, width, height


def _parse(definition: JourneyDefinition, current: str | None = None, **kw: bool) -> ET.Element:
    return ET.fromstring(svg(definition, current, **kw))


def _some_open_state(definition: JourneyDefinition) -> str:
    return definition.open_states[len(definition.open_states) // 2]


@pytest.mark.parametrize("journey_type", TYPES)
@pytest.mark.parametrize("labels", [True, False])
def test_every_stage_drawn_once_without_overlap(journey_type: str, labels: bool) -> None:
    definition = _definition(journey_type)
    current = _some_open_state(definition)
    root = _parse(definition, current, labels=labels)

    texts = [_joined(t) for t in root.iter(f"{NS}text")]
    for state in definition.states:
        assert texts.count(state.label) == 1, state.label

    groups = _state_groups(root)
    assert set(groups) == set(definition.state_names)
    boxes = {name: _box(g) for name, g in groups.items()}
    for (a, (ax, ay, aw, ah)), (b, (bx, by, bw, bh)) in itertools.combinations(boxes.items(), 2):
        apart = ax + aw <= bx or bx + bw <= ax or ay + ah <= by or by + bh <= ay
        assert apart, (a, b)

    vx, vy, vw, vh = (float(v) for v in root.attrib["viewBox"].split())
    for name, (x, y, w, h) in boxes.items():
        assert vx <= x and x + w <= vx + vw and vy <= y and y + h <= vy + vh, name
    # Natural size, no inline style (the pages' content security policy refuses one).
    assert (float(root.attrib["width"]), float(root.attrib["height"])) == (vw, vh)
    assert "style=" not in svg(definition, current, labels=labels)


@pytest.mark.parametrize("journey_type", TYPES)
def test_current_state_is_the_only_yellow_box_and_says_so(journey_type: str) -> None:
    definition = _definition(journey_type)
    for current in definition.state_names:
        root = _parse(definition, current)
        yellow = [r for r in root.iter(f"{NS}rect") if r.attrib.get("fill") == CURRENT_FILL]
        group = _state_groups(root)[current]
        assert yellow == [group.find(f"{NS}rect")], current
        assert "(current)" in "".join(group.itertext())
        assert sum("(current)" in "".join(t.itertext()) for t in root.iter(f"{NS}text")) == 1
        bold = [t for t in group.iter(f"{NS}text") if t.attrib.get("font-weight") == "bold"]
        assert bold, current
        desc = root.find(f"{NS}desc")
        assert desc is not None and desc.text is not None
        label = definition.states[definition.state_names.index(current)].label
        assert desc.text.startswith(f"Current stage: {label}.")


@pytest.mark.parametrize("journey_type", TYPES)
def test_no_current_state_highlights_nothing(journey_type: str) -> None:
    root = _parse(_definition(journey_type))
    assert not [r for r in root.iter(f"{NS}rect") if r.attrib.get("fill") == CURRENT_FILL]
    assert "(current)" not in "".join(root.itertext())


def test_unknown_current_state_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown state"):
        svg(_definition("adoption"), "nowhere")


@pytest.mark.parametrize("journey_type", TYPES)
def test_accessible_name_and_unique_ids(journey_type: str) -> None:
    definition = _definition(journey_type)
    first, second = _parse(definition), _parse(definition)
    assert first.attrib["role"] == "img"
    for root in (first, second):
        title_id, desc_id = root.attrib["aria-labelledby"].split()
        title = root.find(f"{NS}title")
        desc = root.find(f"{NS}desc")
        assert title is not None and title.attrib["id"] == title_id
        assert desc is not None and desc.attrib["id"] == desc_id
        assert title.text == f"{definition.title}: state diagram"
        assert desc.text is not None and "Stages in order: " in desc.text
        for state in definition.states:
            assert state.label in desc.text
    ids = {e.attrib["id"] for root in (first, second) for e in root.iter() if "id" in e.attrib}
    assert len(ids) == 6  # title, desc and arrowhead, twice over
    ident = first.attrib["aria-labelledby"].split()[0].removesuffix("-title")
    markers = {p.attrib["marker-end"] for p in first.iter(f"{NS}path") if "marker-end" in p.attrib}
    assert markers == {f"url(#{ident}-arrow)"}


@pytest.mark.parametrize("journey_type", TYPES)
def test_every_arrow_has_a_tooltip_and_labels_can_be_left_out(journey_type: str) -> None:
    definition = _definition(journey_type)
    with_labels = _parse(definition)
    without = _parse(definition, labels=False)
    for root in (with_labels, without):
        edges = [p for p in root.iter(f"{NS}path") if "marker-end" in p.attrib]
        assert edges
        for path in edges:
            title = path.find(f"{NS}title")
            assert title is not None and title.text
    assert not [t for t in without.iter(f"{NS}text") if "edge-label" in t.attrib.get("class", "")]
    assert [t for t in with_labels.iter(f"{NS}text") if "edge-label" in t.attrib.get("class", "")]


def _edge_titles(root: ET.Element) -> list[str]:
    titles = []
    for path in root.iter(f"{NS}path"):
        title = path.find(f"{NS}title")
        if title is not None and title.text:
            titles.append(title.text)
    return titles


def test_many_sources_into_a_final_state_become_one_note() -> None:
    root = _parse(_definition("adoption"))
    assert not [t for t in _edge_titles(root) if "change the plan away from adoption" in t]
    notes = [_joined(t) for t in root.iter(f"{NS}text") if "__note" in t.attrib.get("class", "")]
    assert notes == ["From any open stage: change the plan away from adoption"]
    closed = _box(_state_groups(root)["closed"])
    note = next(t for t in root.iter(f"{NS}text") if "__note" in t.attrib.get("class", ""))
    first_line = note.find(f"{NS}tspan")
    assert first_line is not None
    assert float(first_line.attrib["y"]) > closed[1] + closed[3]  # under the box


def test_going_back_is_dashed_and_internal_events_are_not_drawn() -> None:
    adoption = _parse(_definition("adoption"))
    dashed = [p for p in adoption.iter(f"{NS}path") if "stroke-dasharray" in p.attrib]
    assert len(dashed) == 1
    title = dashed[0].find(f"{NS}title")
    assert title is not None and title.text is not None
    assert title.text.startswith("reject the proposed match")

    care = _parse(_definition("care_proceedings"))
    assert not [t for t in _edge_titles(care) if "extension of the timetable" in t]


def test_text_is_escaped() -> None:
    definition = JourneyDefinition(
        type="odd <type>",
        version=1,
        title='Fish & "chips" <journey>',
        states=(
            State("a", "Ready <& steady>"),
            State("b", 'Gone "away" & <back>', final=True),
        ),
        start=Event("start", (), "a", ("sw",)),
        events=(Event("go", ("a",), "b", ("sw",), label="go <now> & then"),),
    )
    document = svg(definition, "a")
    root = ET.fromstring(document)
    texts = [_joined(t) for t in root.iter(f"{NS}text")]
    assert "Ready <& steady>" in texts
    assert 'Gone "away" & <back>' in texts
    title = root.find(f"{NS}title")
    assert title is not None and title.text == 'Fish & "chips" <journey>: state diagram'
    assert any("go <now> & then" in t for t in _edge_titles(root))
    title_id = root.attrib["aria-labelledby"].split()[0]
    assert title_id.startswith("journey-diagram-odd-type-")
    assert "<now>" not in document  # only ever as &lt;now&gt;
