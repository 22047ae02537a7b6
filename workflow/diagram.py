"""State diagrams drawn straight from a definition (no graphviz needed).

:func:`mermaid` gives Mermaid text for tools that render it; :func:`svg` gives an inline,
accessible SVG for server-rendered pages that run no JavaScript.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from xml.sax.saxutils import escape, quoteattr

from workflow.definition import JourneyDefinition, State


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


# -- SVG ----------------------------------------------------------------------------------------
#
# Sizes are in SVG user units, which are CSS pixels when the drawing is shown at its natural
# size. Text is never measured (there is no font engine here), so widths are estimates from
# the character count; the padding leaves room for the estimate being a little short.

TEXT = "#0b0c0c"
SECONDARY = "#505a5f"
EDGE = "#1d70b8"
BOX_FILL = "#f3f2f1"
CURRENT_FILL = "#ffdd00"
FONT_FAMILY = "GDS Transport, arial, sans-serif"

FONT_SIZE = 14
CHAR_W = 7.0  # average advance at 14px
LINE_H = 18
SMALL_FONT_SIZE = 12
SMALL_CHAR_W = 6.2
SMALL_LINE_H = 15

PAD_X = 12
PAD_Y = 10
BOX_WIDTHS = range(200, 301, 20)  # candidate box widths, narrowest first
BOX_GAP = 40  # between two boxes in a row
LINE_GAP = 14  # between a box and a long edge passing through its row, or two such edges
DUMMY_W = 4.0  # the room a long edge takes where it passes through a row
ROW_GAP = 40
ROW_GAP_WITH_LABELS = 60
LANE_GAP = 22  # between side lanes of edges that go back to an earlier stage
PORT_SPACING = 22
MARGIN = 12
NOTE_GAP = 6

MANY_SOURCES = 3  # more sources than this into a final state: a note, not arrows
EDGE_LABEL_CHARS = 26
EDGE_LABEL_LINES = 3
LABEL_SPOTS = (0.5, 0.3, 0.7)  # where along a segment to try a label, in order
ORDER_SWEEPS = 4
PLACE_ROUNDS = 8
ISOLATED_WEIGHT = 0.01  # a box with no drawn edges yields to its neighbours' wishes

_DIAGRAM_IDS = itertools.count(1)

Point = tuple[float, float]
Rect = tuple[float, float, float, float]  # x0, y0, x1, y1


@dataclass(frozen=True)
class _Edge:
    """A drawn arrow: every event that moves ``source`` to ``dest``, merged into one."""

    source: str
    dest: str
    labels: tuple[str, ...]


@dataclass(frozen=True)
class _Note:
    """An event into a final state from many states, written under the final state's box."""

    dest: str
    label: str
    sources: tuple[str, ...]
    from_every_open_state: bool


@dataclass(frozen=True)
class _Label:
    """An edge label that found a free spot."""

    lines: tuple[str, ...]
    x: float
    y: float  # top of the first line
    anchor: str
    rect: Rect


@dataclass
class _Layout:
    """Where everything goes. Nodes are state names, or ``~`` names for a long edge's bends."""

    rows: list[list[str]]
    x: dict[str, float]  # centres
    row_top: list[float]
    row_height: list[float]
    box_w: float
    box_h: float
    rank: dict[str, int]
    above: dict[str, list[str]]  # each node's neighbours in the row above, by drawn arrows
    below: dict[str, list[str]]

    def box(self, name: str) -> Rect:
        """The rectangle of a state's box."""
        top = self.row_top[self.rank[name]]
        cx = self.x[name]
        return (cx - self.box_w / 2, top, cx + self.box_w / 2, top + self.box_h)

    def row_bottom(self, rank: int) -> float:
        """The bottom of a row: its boxes and any notes under them."""
        return self.row_top[rank] + self.row_height[rank]


def svg(definition: JourneyDefinition, current: str | None = None, *, labels: bool = True) -> str:
    """An inline SVG state diagram of the journey, for a server-rendered page.

    Stages are drawn top to bottom in layers (the longest path from the initial state, with
    edges that go back to an earlier stage set aside), which suits a narrow page column better
    than a wide left-to-right chain. Each stage is a rounded box; final stages have a double
    border; ``current`` (a state name) is filled yellow, given a thick black border, bold text
    and the words "(current)", so colour is not the only cue.

    Arrows are solid when they lead on and dashed when they go back to an earlier stage (those
    run up a lane beside the drawing). Internal events, which keep the stage, are not drawn.
    An event into a final state from more than three stages (withdraw, close...) is not drawn
    as arrows: a note under the final state's box says where it comes from.

    Every arrow carries its event labels in a ``<title>`` (a tooltip). With ``labels=True``
    the labels are also written beside the arrow, but only where they fit without covering a
    box, another label or a line; where they do not, the tooltip is the only place they are.

    The SVG states its natural ``width`` and ``height`` with a ``viewBox``, so a page's
    stylesheet can shrink it to a narrow column (``max-width: 100%; height: auto``) without
    an inline style, which a strict content security policy refuses. Its ids are unique
    within the process (a counter), so several diagrams can share a page. Raises
    ``ValueError`` for an unknown ``current``.
    """
    if current is not None and current not in definition.state_names:
        raise ValueError(f"{definition.type}: unknown state {current!r}")
    edges, notes = _collect(definition)
    forward, backward, rank = _split(definition, edges, notes)
    rows, chains, rank = _layers(definition.state_names, rank, forward)
    rows = _order(rows, chains)

    box_w, lines_by_state = _state_lines(definition.states, current)
    box_h = 2 * PAD_Y + LINE_H * max(len(v) for v in lines_by_state.values())
    notes_by_state = _note_lines(notes, box_w, labels)
    layout = _position(rows, chains, rank, box_w, box_h, notes_by_state, labels)

    drawn = [(e, False) for e in forward] + [(e, True) for e in backward]
    paths = [_forward_route(layout, chain) for chain in chains]
    paths += _back_routes(layout, backward)
    placed: list[_Label | None] = [None] * len(paths)
    if labels:
        placed = _place_labels(layout, notes_by_state, [e for e, _ in drawn], paths)

    ident = _diagram_id(definition.type)
    by_name = {s.name: s for s in definition.states}
    # Arrows first, boxes over them, labels over everything (they have a white halo).
    body = [
        _edge_svg(edge, path, is_back, by_name, ident)
        for (edge, is_back), path in zip(drawn, paths, strict=True)
    ]
    for state in definition.states:
        body.append(_state_svg(state, layout, lines_by_state[state.name], state.name == current))
        if state.name in notes_by_state:
            body.append(_notes_svg(layout, state.name, notes_by_state[state.name], by_name))
    body.extend(_label_svg(label) for label in placed if label is not None)

    return _document(
        ident,
        _bounds(layout, notes_by_state, paths, placed),
        f"{definition.title}: state diagram",
        _description(definition, layout, current, notes, backward),
        body,
    )


def _document(ident: str, bounds: Rect, title: str, desc: str, body: Sequence[str]) -> str:
    """The ``<svg>`` element around the drawing, with its accessible name and description."""
    x0, y0, x1, y1 = bounds
    width = x1 - x0
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img"'
        f' aria-labelledby="{ident}-title {ident}-desc" class="app-journey-diagram"'
        f' width="{_n(width)}" height="{_n(y1 - y0)}"'
        f' viewBox="{_n(x0)} {_n(y0)} {_n(width)} {_n(y1 - y0)}"'
        f" font-family={quoteattr(FONT_FAMILY)}"
        f' font-size="{FONT_SIZE}" fill="{TEXT}">'
    )
    defs = (
        f'<defs><marker id="{ident}-arrow" viewBox="0 0 10 10" refX="10" refY="5"'
        ' markerWidth="10" markerHeight="10" markerUnits="userSpaceOnUse" orient="auto">'
        f'<path d="M0,0 L10,5 L0,10 z" fill="{EDGE}"/></marker></defs>'
    )
    return "\n".join(
        [
            head,
            f'<title id="{ident}-title">{escape(title)}</title>',
            f'<desc id="{ident}-desc">{escape(desc)}</desc>',
            defs,
            *body,
            "</svg>",
        ]
    )


# -- The graph ----------------------------------------------------------------------------------


def _event_label(name: str, label: str) -> str:
    return label or name.replace("_", " ")


def _collect(definition: JourneyDefinition) -> tuple[list[_Edge], list[_Note]]:
    """The arrows to draw and the notes to write, in definition order."""
    finals = definition.final_states
    every_open = set(definition.open_states)
    pairs: dict[tuple[str, str], list[str]] = {}
    notes: list[_Note] = []
    for ev in definition.events:
        label = _event_label(ev.name, ev.label)
        sources_by_dest: dict[str, list[str]] = {}
        for source in definition.sources_of(ev):
            for dest in ev.destinations_from(source):
                if dest != source:  # internal events keep the stage: nothing to draw
                    sources_by_dest.setdefault(dest, []).append(source)
        for dest, sources in sources_by_dest.items():
            if dest in finals and len(sources) > MANY_SOURCES:
                notes.append(_Note(dest, label, tuple(sources), set(sources) >= every_open))
                continue
            for source in sources:
                merged = pairs.setdefault((source, dest), [])
                if label not in merged:
                    merged.append(label)
    return [_Edge(s, d, tuple(ls)) for (s, d), ls in pairs.items()], notes


def _split(
    definition: JourneyDefinition, edges: Sequence[_Edge], notes: Sequence[_Note]
) -> tuple[list[_Edge], list[_Edge], dict[str, int]]:
    """The arrows that lead on, those that go back, and each state's layer.

    Notes count when ranking, so a final state reached only through a note still sits
    below every stage it can be reached from.
    """
    moves = [(e.source, e.dest) for e in edges]
    moves += [(source, n.dest) for n in notes for source in n.sources]
    back = _back_edges(definition.state_names, definition.initial, moves)
    forward = [e for e in edges if (e.source, e.dest) not in back]
    backward = [e for e in edges if (e.source, e.dest) in back]
    return forward, backward, _ranks(definition.state_names, [m for m in moves if m not in back])


def _back_edges(
    names: Sequence[str], initial: str, moves: Sequence[tuple[str, str]]
) -> set[tuple[str, str]]:
    """Moves that close a cycle, found by depth-first search from the initial state.

    States the initial state cannot reach are searched from afterwards, so every cycle is
    broken and what is left is acyclic.
    """
    successors: dict[str, list[str]] = {name: [] for name in names}
    for source, dest in moves:
        if dest not in successors[source]:
            successors[source].append(dest)
    back: set[tuple[str, str]] = set()
    seen: set[str] = set()
    for root in (initial, *names):
        if root in seen:
            continue
        seen.add(root)
        on_path = {root}
        stack = [(root, iter(successors[root]))]
        while stack:
            node, children = stack[-1]
            child = next(children, None)
            if child is None:
                stack.pop()
                on_path.discard(node)
            elif child in on_path:
                back.add((node, child))
            elif child not in seen:
                seen.add(child)
                on_path.add(child)
                stack.append((child, iter(successors[child])))
    return back


def _ranks(names: Sequence[str], moves: Sequence[tuple[str, str]]) -> dict[str, int]:
    """Each state's layer: the longest path to it (``moves`` must be acyclic)."""
    rank = dict.fromkeys(names, 0)
    waiting = dict.fromkeys(names, 0)
    for _, dest in moves:
        waiting[dest] += 1
    ready = [name for name in names if waiting[name] == 0]
    while ready:
        node = ready.pop(0)
        for source, dest in moves:
            if source == node:
                rank[dest] = max(rank[dest], rank[node] + 1)
                waiting[dest] -= 1
                if waiting[dest] == 0:
                    ready.append(dest)
    return rank


def _layers(
    names: Sequence[str], rank: dict[str, int], forward: Sequence[_Edge]
) -> tuple[list[list[str]], list[list[str]], dict[str, int]]:
    """Rows of nodes in definition order, each forward arrow as a chain of nodes one row
    apart, and the ranks with the bend nodes added.

    An arrow that skips rows gets a bend node in each row it passes, so it can be routed
    between the boxes rather than through them.
    """
    rank = dict(rank)
    rows: list[list[str]] = [[] for _ in range(max(rank.values()) + 1)]
    for name in names:
        rows[rank[name]].append(name)
    chains: list[list[str]] = []
    for i, edge in enumerate(forward):
        chain = [edge.source]
        for r in range(rank[edge.source] + 1, rank[edge.dest]):
            bend = f"~{i}~{r}"  # state names are identifiers: never "~..."
            rows[r].append(bend)
            chain.append(bend)
            rank[bend] = r
        chain.append(edge.dest)
        chains.append(chain)
    return rows, chains, rank


def _is_bend(node: str) -> bool:
    return node.startswith("~")


# -- Order within rows: barycentre sweeps --------------------------------------------------------


def _neighbours(chains: Iterable[list[str]]) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """For each node, its neighbours in the row above and in the row below."""
    above: dict[str, list[str]] = {}
    below: dict[str, list[str]] = {}
    for chain in chains:
        for upper, lower in itertools.pairwise(chain):
            above.setdefault(lower, []).append(upper)
            below.setdefault(upper, []).append(lower)
    return above, below


def _order(rows: list[list[str]], chains: list[list[str]]) -> list[list[str]]:
    """Reorder rows to cut crossings; keep the definition order unless a sweep does better."""
    above, below = _neighbours(chains)
    best = [list(row) for row in rows]
    best_crossings = _crossings(best, below)
    trial = [list(row) for row in rows]
    for _ in range(ORDER_SWEEPS):
        for r in range(1, len(trial)):
            trial[r] = _by_barycentre(trial[r], above, trial[r - 1])
        for r in range(len(trial) - 2, -1, -1):
            trial[r] = _by_barycentre(trial[r], below, trial[r + 1])
        crossings = _crossings(trial, below)
        if crossings < best_crossings:
            best, best_crossings = [list(row) for row in trial], crossings
    return best


def _by_barycentre(
    row: list[str], neighbours: dict[str, list[str]], other_row: list[str]
) -> list[str]:
    """The row sorted by the mean position of each node's neighbours in ``other_row``."""
    position = {node: i for i, node in enumerate(other_row)}

    def key(item: tuple[int, str]) -> tuple[float, int]:
        index, node = item
        linked = [position[n] for n in neighbours.get(node, []) if n in position]
        # A node with no neighbours there keeps its place (the sort is stable).
        return (sum(linked) / len(linked) if linked else float(index), index)

    return [node for _, node in sorted(enumerate(row), key=key)]


def _crossings(rows: list[list[str]], below: dict[str, list[str]]) -> int:
    """How many pairs of segments cross between adjacent rows."""
    total = 0
    for upper, lower in itertools.pairwise(rows):
        position = {node: i for i, node in enumerate(lower)}
        segments = [(i, position[n]) for i, node in enumerate(upper) for n in below.get(node, [])]
        for (a1, b1), (a2, b2) in itertools.combinations(segments, 2):
            if (a1 - a2) * (b1 - b2) < 0:
                total += 1
    return total


# -- Positions ----------------------------------------------------------------------------------


def _position(
    rows: list[list[str]],
    chains: list[list[str]],
    rank: dict[str, int],
    box_w: float,
    box_h: float,
    notes_by_state: dict[str, list[tuple[list[str], _Note]]],
    labels: bool,
) -> _Layout:
    """Centres in each row, then the rows stacked top to bottom with room for notes."""
    above, below = _neighbours(chains)
    rows, x = _narrowest(rows, above, below, box_w)
    row_gap = ROW_GAP_WITH_LABELS if labels else ROW_GAP
    row_top: list[float] = []
    row_height: list[float] = []
    top = 0.0
    for row in rows:
        note_h = max(
            (_notes_height(notes_by_state.get(node, [])) for node in row if not _is_bend(node)),
            default=0.0,
        )
        row_top.append(top)
        row_height.append(box_h + note_h)
        top += box_h + note_h + row_gap
    return _Layout(rows, x, row_top, row_height, box_w, box_h, rank, above, below)


def _narrowest(
    rows: list[list[str]],
    above: dict[str, list[str]],
    below: dict[str, list[str]],
    box_w: float,
) -> tuple[list[list[str]], dict[str, float]]:
    """The rows and centres, with arrowless boxes at whichever end keeps the drawing narrower.

    A box with no drawn arrows (a final state reached only through a note) can go anywhere in
    its row; at the far end of a row that leans one way it would widen the whole drawing.
    """
    variants = []
    for isolated_first in (False, True):
        variant = [
            sorted(row, key=lambda n: (not above.get(n) and not below.get(n)) != isolated_first)
            for row in rows
        ]
        x = _place(variant, above, below, box_w)
        width = max(at + _width(node, box_w) / 2 for node, at in x.items())
        variants.append((width, isolated_first, variant, x))
    _, _, best_rows, best_x = min(variants, key=lambda v: (v[0], v[1]))
    return best_rows, best_x


def _width(node: str, box_w: float) -> float:
    return DUMMY_W if _is_bend(node) else box_w


def _spacing(left: str, right: str, box_w: float) -> float:
    """The least distance between the centres of two neighbours in a row."""
    gap = BOX_GAP if not (_is_bend(left) or _is_bend(right)) else LINE_GAP
    return (_width(left, box_w) + _width(right, box_w)) / 2 + gap


def _place(
    rows: list[list[str]],
    above: dict[str, list[str]],
    below: dict[str, list[str]],
    box_w: float,
) -> dict[str, float]:
    """Centres that pull each node towards its neighbours, keeping the order and the gaps.

    Rows start packed and centred; then, sweeping down and up, each row is moved as close to
    where its neighbours want it as the minimum gaps allow (a least-squares fit, solved by
    pool-adjacent-violators). Finally everything is shifted to start at x = 0.
    """
    x: dict[str, float] = {}
    for row in rows:
        at = 0.0
        for i, node in enumerate(row):
            at += _spacing(row[i - 1], node, box_w) if i else 0.0
            x[node] = at
        for node in row:
            x[node] -= at / 2
    for _ in range(PLACE_ROUNDS):
        for r in range(1, len(rows)):
            _settle(rows[r], above, x, box_w)
        for r in range(len(rows) - 2, -1, -1):
            _settle(rows[r], below, x, box_w)
    left = min(x[node] - _width(node, box_w) / 2 for row in rows for node in row)
    return {node: at - left for node, at in x.items()}


def _settle(
    row: list[str], neighbours: dict[str, list[str]], x: dict[str, float], box_w: float
) -> None:
    """Move a row's nodes to the mean of their neighbours, as far as the gaps allow."""
    offsets = [0.0]
    for left, right in itertools.pairwise(row):
        offsets.append(offsets[-1] + _spacing(left, right, box_w))
    targets: list[float] = []
    weights: list[float] = []
    for node, offset in zip(row, offsets, strict=True):
        linked = neighbours.get(node, [])
        wanted = sum(x[n] for n in linked) / len(linked) if linked else x[node]
        targets.append(wanted - offset)
        weights.append(1.0 if linked else ISOLATED_WEIGHT)
    for node, fitted, offset in zip(row, _ascending_fit(targets, weights), offsets, strict=True):
        x[node] = fitted + offset


def _ascending_fit(values: Sequence[float], weights: Sequence[float]) -> list[float]:
    """The non-decreasing sequence nearest ``values`` (weighted least squares)."""
    blocks: list[tuple[float, float, int]] = []  # weighted sum, weight, count
    for value, weight in zip(values, weights, strict=True):
        block = (value * weight, weight, 1)
        while blocks and blocks[-1][0] / blocks[-1][1] > block[0] / block[1]:
            prev = blocks.pop()
            block = (prev[0] + block[0], prev[1] + block[1], prev[2] + block[2])
        blocks.append(block)
    return [total / weight for total, weight, count in blocks for _ in range(count)]


# -- Text ---------------------------------------------------------------------------------------


def _wrap(text: str, max_chars: int) -> list[str]:
    """Greedy word wrap; a word longer than a line gets a line of its own."""
    lines: list[str] = []
    for word in text.split():
        if lines and len(lines[-1]) + 1 + len(word) <= max_chars:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return lines or [""]


def _state_lines(
    states: Sequence[State], current: str | None
) -> tuple[float, dict[str, list[str]]]:
    """One box width for all (the narrowest that keeps labels to two lines, else three) and
    each state's lines; the current state gets a last line saying so."""
    chosen = BOX_WIDTHS[-1]
    for most_lines in (2, 3):
        fits = [
            w
            for w in BOX_WIDTHS
            if all(len(_wrap(s.label, _chars(w))) <= most_lines for s in states)
        ]
        if fits:
            chosen = fits[0]
            break
    lines = {s.name: _wrap(s.label, _chars(chosen)) for s in states}
    if current is not None:
        lines[current] = [*lines[current], "(current)"]
    return float(chosen), lines


def _chars(box_w: float) -> int:
    return int((box_w - 2 * PAD_X) // CHAR_W)


def _note_text(note: _Note, labels: bool) -> str:
    where = (
        "From any open stage" if note.from_every_open_state else f"From {len(note.sources)} stages"
    )
    return f"{where}: {note.label}" if labels else where


def _note_lines(
    notes: Sequence[_Note], box_w: float, labels: bool
) -> dict[str, list[tuple[list[str], _Note]]]:
    """The wrapped notes to write under each final state."""
    out: dict[str, list[tuple[list[str], _Note]]] = {}
    max_chars = int(box_w // SMALL_CHAR_W)
    for note in notes:
        out.setdefault(note.dest, []).append((_wrap(_note_text(note, labels), max_chars), note))
    return out


def _notes_height(notes: Sequence[tuple[list[str], _Note]]) -> float:
    return sum(NOTE_GAP + SMALL_LINE_H * len(lines) for lines, _ in notes)


# -- Routes -------------------------------------------------------------------------------------


def _ports(centre: float, count: int, width: float) -> list[float]:
    """``count`` points spread along a box edge around ``centre``."""
    if count <= 1:
        return [centre]
    step = min(PORT_SPACING, (width - 2 * PAD_X) / (count - 1))
    return [centre + (i - (count - 1) / 2) * step for i in range(count)]


def _forward_route(layout: _Layout, chain: list[str]) -> list[Point]:
    """Down from the bottom of the source box, through the bends, into the top of the dest.

    Where several arrows leave (or enter) one box, they are spread along its edge in the
    order of where they go (or come from), so they do not cross at the box.
    """
    source, first, last, dest = chain[0], chain[1], chain[-2], chain[-1]
    out_x = _port(layout, source, first, "out")
    in_x = _port(layout, dest, last, "in")
    r = layout.rank[source]
    points: list[Point] = [(out_x, layout.row_top[r] + layout.box_h)]
    if layout.row_height[r] > layout.box_h:  # step past the notes before turning
        points.append((out_x, layout.row_bottom(r)))
    for bend in chain[1:-1]:
        rb = layout.rank[bend]
        points += [(layout.x[bend], layout.row_top[rb]), (layout.x[bend], layout.row_bottom(rb))]
    points.append((in_x, layout.row_top[layout.rank[dest]]))
    return points


def _port(layout: _Layout, state: str, other: str, side: str) -> float:
    """The x where the arrow between ``state`` and its neighbour node ``other`` meets the box."""
    linked = layout.below[state] if side == "out" else layout.above[state]
    ordered = sorted(linked, key=lambda n: layout.x[n])
    return _ports(layout.x[state], len(ordered), layout.box_w)[ordered.index(other)]


def _back_routes(layout: _Layout, backward: Sequence[_Edge]) -> list[list[Point]]:
    """Out of the side of the source box, up a lane beside the drawing, into the dest's side.

    Each arrow takes the side with fewer boxes in the way; lanes that overlap in height are
    set further out, and arrows sharing a box side are nudged apart vertically.
    """
    lanes: dict[str, list[tuple[int, int, float]]] = {"left": [], "right": []}
    used: dict[tuple[str, str], int] = {}
    routes: list[list[Point]] = []
    for edge in backward:
        side = _back_side(layout, edge)
        lane = _lane(layout, side, layout.rank[edge.dest], layout.rank[edge.source], lanes[side])
        ends: list[Point] = []
        for state in (edge.source, edge.dest):
            nth = used.get((state, side), 0)
            used[(state, side)] = nth + 1
            x0, y0, x1, y1 = layout.box(state)
            nudge = (nth + 1) // 2 * 10 * (1 if nth % 2 else -1)
            ends.append((x1 if side == "right" else x0, (y0 + y1) / 2 + nudge))
        (sx, sy), (dx, dy) = ends
        routes.append([(sx, sy), (lane, sy), (lane, dy), (dx, dy)])
    return routes


def _back_side(layout: _Layout, edge: _Edge) -> str:
    """The side with fewer boxes between the two boxes and the edge of the drawing."""
    right = left = 0
    for state in (edge.source, edge.dest):
        for node in layout.rows[layout.rank[state]]:
            if not _is_bend(node) and node != state:
                right += layout.x[node] > layout.x[state]
                left += layout.x[node] < layout.x[state]
    return "left" if left < right else "right"


def _lane(
    layout: _Layout, side: str, top: int, bottom: int, taken: list[tuple[int, int, float]]
) -> float:
    """The x of a new lane beside rows ``top``..``bottom``, clear of boxes and other lanes."""
    extents = [
        layout.x[n] + _width(n, layout.box_w) / 2 * (1 if side == "right" else -1)
        for r in range(top, bottom + 1)
        for n in layout.rows[r]
    ]
    extents += [x for t, b, x in taken if t <= bottom and top <= b]
    lane = max(extents) + LANE_GAP if side == "right" else min(extents) - LANE_GAP
    taken.append((top, bottom, lane))
    return lane


# -- Edge labels --------------------------------------------------------------------------------


def _note_positions(
    layout: _Layout, state: str, notes: Sequence[tuple[list[str], _Note]]
) -> list[tuple[list[str], _Note, Rect]]:
    """Where each note under a state's box goes: stacked below the box, centred."""
    x0, _, x1, y = layout.box(state)
    cx = (x0 + x1) / 2
    out: list[tuple[list[str], _Note, Rect]] = []
    for lines, note in notes:
        y += NOTE_GAP
        half = max(len(line) for line in lines) * SMALL_CHAR_W / 2
        height = SMALL_LINE_H * len(lines)
        out.append((lines, note, (cx - half, y, cx + half, y + height)))
        y += height
    return out


def _all_note_rects(
    layout: _Layout, notes_by_state: dict[str, list[tuple[list[str], _Note]]]
) -> list[Rect]:
    return [
        rect
        for state, notes in notes_by_state.items()
        for _, _, rect in _note_positions(layout, state, notes)
    ]


def _state_names(layout: _Layout) -> list[str]:
    return [node for row in layout.rows for node in row if not _is_bend(node)]


def _samples(path: Sequence[Point], step: float = 4.0) -> list[Point]:
    """Points every few pixels along a path, to tell whether a label would cover it."""
    out: list[Point] = []
    for (ax, ay), (bx, by) in itertools.pairwise(path):
        count = max(1, int(max(abs(bx - ax), abs(by - ay)) / step))
        out += [(ax + (bx - ax) * i / count, ay + (by - ay) * i / count) for i in range(count + 1)]
    return out


def _overlaps(a: Rect, b: Rect, pad: float) -> bool:
    return a[0] - pad < b[2] and b[0] < a[2] + pad and a[1] - pad < b[3] and b[1] < a[3] + pad


def _place_labels(
    layout: _Layout,
    notes_by_state: dict[str, list[tuple[list[str], _Note]]],
    edges: Sequence[_Edge],
    paths: Sequence[list[Point]],
) -> list[_Label | None]:
    """A free spot beside each arrow for its label, or None (the tooltip then carries it).

    Spots are tried at the middle of the arrow's segments, longest segment first, on either
    side; a spot is free when it covers no box, note, earlier label or line.
    """
    obstacles = [layout.box(s) for s in _state_names(layout)]
    obstacles += _all_note_rects(layout, notes_by_state)
    points = [p for path in paths for p in _samples(path)]
    placed: list[_Label | None] = []
    for edge, path in zip(edges, paths, strict=True):
        lines = tuple(_wrap("; ".join(edge.labels), EDGE_LABEL_CHARS))
        label = None
        if len(lines) <= EDGE_LABEL_LINES:
            label = _free_spot(lines, path, obstacles, points)
        if label is not None:
            obstacles.append(label.rect)
        placed.append(label)
    return placed


def _free_spot(
    lines: tuple[str, ...], path: Sequence[Point], obstacles: list[Rect], points: list[Point]
) -> _Label | None:
    """The first free spot beside one of the path's upright or sloping segments.

    Along a sloping segment the label is pushed sideways until it clears the whole stretch
    of line beside it, so it sits next to the line rather than across it.
    """
    width = max(len(line) for line in lines) * SMALL_CHAR_W
    height = SMALL_LINE_H * len(lines)
    segments = sorted(
        ((a, b) for a, b in itertools.pairwise(path) if a[1] != b[1]),
        key=lambda s: -abs(s[1][1] - s[0][1]),
    )
    for (ax, ay), (bx, by) in segments:
        for t in LABEL_SPOTS:
            my = ay + (by - ay) * t
            left, right = _x_span(((ax, ay), (bx, by)), my - height / 2 - 3, my + height / 2 + 3)
            for anchor, x in (("start", right + 6), ("end", left - 6)):
                x0 = x if anchor == "start" else x - width
                rect = (x0, my - height / 2, x0 + width, my + height / 2)
                if any(_overlaps(rect, o, 3) for o in obstacles):
                    continue
                if any(_overlaps(rect, (px, py, px, py), 2) for px, py in points):
                    continue
                return _Label(lines, x, rect[1], anchor, rect)
    return None


def _x_span(segment: tuple[Point, Point], top: float, bottom: float) -> tuple[float, float]:
    """The least and greatest x of a (not horizontal) segment between two heights."""
    (ax, ay), (bx, by) = segment
    ends = [min(max((y - ay) / (by - ay), 0.0), 1.0) for y in (top, bottom)]
    xs = [ax + (bx - ax) * t for t in ends]
    return min(xs), max(xs)


# -- Drawing ------------------------------------------------------------------------------------


def _n(value: float) -> str:
    """A coordinate, short."""
    text = f"{value:.1f}".rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


def _diagram_id(journey_type: str) -> str:
    """An XML id unique within the process (several diagrams may share one page)."""
    slug = re.sub(r"[^A-Za-z0-9_-]+", "-", journey_type).strip("-") or "journey"
    return f"journey-diagram-{slug}-{next(_DIAGRAM_IDS)}"


def _tspans(lines: Sequence[str], x: float, first_baseline: float, line_h: float) -> str:
    return "".join(
        f'<tspan x="{_n(x)}" y="{_n(first_baseline + i * line_h)}">{escape(line)}</tspan>'
        for i, line in enumerate(lines)
    )


def _state_svg(state: State, layout: _Layout, lines: list[str], is_current: bool) -> str:
    """A state's box: double border if final; yellow, thick border and bold if current."""
    x0, y0, x1, y1 = layout.box(state.name)
    classes = "app-journey-diagram__state"
    classes += " app-journey-diagram__state--final" if state.final else ""
    classes += " app-journey-diagram__state--current" if is_current else ""
    fill, stroke, stroke_w = (CURRENT_FILL, TEXT, 4) if is_current else (BOX_FILL, SECONDARY, 1.5)
    parts = [
        f'<g class="{classes}" data-state={quoteattr(state.name)}>',
        f'<rect x="{_n(x0)}" y="{_n(y0)}" width="{_n(x1 - x0)}" height="{_n(y1 - y0)}"'
        f' rx="6" fill="{fill}" stroke="{stroke}" stroke-width="{stroke_w}"/>',
    ]
    if state.final:
        inset = 6 if is_current else 4
        parts.append(
            f'<rect x="{_n(x0 + inset)}" y="{_n(y0 + inset)}" width="{_n(x1 - x0 - 2 * inset)}"'
            f' height="{_n(y1 - y0 - 2 * inset)}" rx="3" fill="none" stroke="{stroke}"'
            ' stroke-width="1.5"/>'
        )
    label_lines = lines[:-1] if is_current else lines
    cx = (x0 + x1) / 2
    baseline = y0 + (layout.box_h - LINE_H * len(lines)) / 2 + LINE_H * 0.72
    weight = ' font-weight="bold"' if is_current else ""
    parts.append(
        f'<text class="app-journey-diagram__label" text-anchor="middle"{weight}>'
        f"{_tspans(label_lines, cx, baseline, LINE_H)}</text>"
    )
    if is_current:
        parts.append(
            f'<text class="app-journey-diagram__current" x="{_n(cx)}"'
            f' y="{_n(baseline + LINE_H * len(label_lines))}" text-anchor="middle"'
            f' font-weight="bold">{escape(lines[-1])}</text>'
        )
    parts.append("</g>")
    return "".join(parts)


def _notes_svg(
    layout: _Layout,
    state: str,
    notes: Sequence[tuple[list[str], _Note]],
    by_name: dict[str, State],
) -> str:
    """The notes under a final state's box; each lists its sources in a tooltip."""
    parts = []
    for lines, note, rect in _note_positions(layout, state, notes):
        cx = (rect[0] + rect[2]) / 2
        sources = ", ".join(by_name[s].label for s in note.sources)
        parts.append(
            f'<text class="app-journey-diagram__note" font-size="{SMALL_FONT_SIZE}"'
            f' fill="{SECONDARY}" text-anchor="middle">'
            f"<title>{escape(f'{note.label}, from: {sources}')}</title>"
            f"{_tspans(lines, cx, rect[1] + SMALL_LINE_H * 0.75, SMALL_LINE_H)}</text>"
        )
    return "".join(parts)


def _edge_svg(
    edge: _Edge, path: Sequence[Point], is_back: bool, by_name: dict[str, State], ident: str
) -> str:
    """An arrow, its events in a tooltip; dashed when it goes back to an earlier stage."""
    d = " ".join(f"{'M' if i == 0 else 'L'}{_n(x)},{_n(y)}" for i, (x, y) in enumerate(path))
    tip = (
        f"{'; '.join(edge.labels)}: from {by_name[edge.source].label} to {by_name[edge.dest].label}"
    )
    dash = ' stroke-dasharray="6 4"' if is_back else ""
    kind = "back" if is_back else "forward"
    return (
        f'<path class="app-journey-diagram__edge app-journey-diagram__edge--{kind}" d="{d}"'
        f' fill="none" stroke="{EDGE}" stroke-width="2"{dash} marker-end="url(#{ident}-arrow)">'
        f"<title>{escape(tip)}</title></path>"
    )


def _label_svg(label: _Label) -> str:
    """An edge label with a white halo, so a line behind it does not cut through the text."""
    return (
        f'<text class="app-journey-diagram__edge-label" font-size="{SMALL_FONT_SIZE}"'
        f' fill="{SECONDARY}" text-anchor="{label.anchor}" stroke="#ffffff" stroke-width="4"'
        ' stroke-linejoin="round" paint-order="stroke">'
        f"{_tspans(label.lines, label.x, label.y + SMALL_LINE_H * 0.75, SMALL_LINE_H)}</text>"
    )


def _bounds(
    layout: _Layout,
    notes_by_state: dict[str, list[tuple[list[str], _Note]]],
    paths: Sequence[list[Point]],
    placed: Sequence[_Label | None],
) -> Rect:
    """Everything drawn, with a margin (arrowheads and thick borders stick out a little)."""
    rects = [layout.box(s) for s in _state_names(layout)]
    rects += _all_note_rects(layout, notes_by_state)
    rects += [(x, y, x, y) for path in paths for x, y in path]
    rects += [label.rect for label in placed if label is not None]
    return (
        min(r[0] for r in rects) - MARGIN,
        min(r[1] for r in rects) - MARGIN,
        max(r[2] for r in rects) + MARGIN,
        max(r[3] for r in rects) + MARGIN,
    )


def _description(
    definition: JourneyDefinition,
    layout: _Layout,
    current: str | None,
    notes: Sequence[_Note],
    backward: Sequence[_Edge],
) -> str:
    """The words a screen reader gets instead of the picture."""
    label = {s.name: s.label for s in definition.states}
    ordered = sorted(_state_names(layout), key=lambda n: (layout.rank[n], layout.x[n]))
    parts = [
        f"Current stage: {label[current]}." if current else "No current stage shown.",
        f"Stages in order: {', '.join(label[n] for n in ordered)}.",
    ]
    finals = [label[n] for n in ordered if n in definition.final_states]
    if finals:
        parts.append(f"Final stages: {', '.join(finals)}.")
    for note in notes:
        where = (
            "any open stage"
            if note.from_every_open_state
            else ", ".join(label[s] for s in note.sources)
        )
        parts.append(f"{label[note.dest]} can be reached from {where} ({note.label}).")
    for edge in backward:
        parts.append(
            f"{label[edge.source]} can go back to {label[edge.dest]} ({'; '.join(edge.labels)})."
        )
    return " ".join(parts)
