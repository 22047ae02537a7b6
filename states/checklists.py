"""Pack checklists, as in the Leicestershire Terms of Reference (documents A to D).

Each item is answered Yes / No / Not applicable. A checklist is complete when every item is
answered Yes or Not applicable: a "No" means the pack is missing something.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from workflow.fields import CHECKLIST_ANSWERS, CHECKLIST_COMPLETE

# The answers as people read them, in the order forms offer them.
ANSWER_LABELS: dict[str, str] = {
    "yes": "Yes",
    "no": "No",
    "not_applicable": "Not applicable",
}
assert tuple(ANSWER_LABELS) == CHECKLIST_ANSWERS, "a label for every checklist answer"
# (answer, label) pairs for a form's radios.
ANSWER_CHOICES: tuple[tuple[str, str], ...] = tuple(ANSWER_LABELS.items())


def either(words: Sequence[str]) -> str:
    """``a, b or c``: alternatives in a sentence."""
    if len(words) < 2:
        return "".join(words)
    return f"{', '.join(words[:-1])} or {words[-1]}"


# "Yes, No or Not applicable", "Yes or Not applicable": for messages and hints.
ANSWERS_IN_WORDS = either([ANSWER_LABELS[a] for a in CHECKLIST_ANSWERS])
COMPLETE_IN_WORDS = either([ANSWER_LABELS[a] for a in CHECKLIST_ANSWERS if a in CHECKLIST_COMPLETE])


def missing(item_keys: Iterable[str], answers: Mapping[str, str] | None) -> list[str]:
    """The items of ``item_keys`` not answered Yes or Not applicable."""
    answers = answers or {}
    return [k for k in item_keys if answers.get(k) not in CHECKLIST_COMPLETE]


@dataclass(frozen=True)
class Checklist:
    """A named checklist: item key -> the wording the social worker sees."""

    key: str
    title: str
    items: tuple[tuple[str, str], ...]

    @property
    def item_keys(self) -> tuple[str, ...]:
        """The item keys in order."""
        return tuple(k for k, _ in self.items)

    def missing(self, answers: Mapping[str, str] | None) -> list[str]:
        """The items not yet answered Yes or Not applicable."""
        return missing(self.item_keys, answers)


_PACK_ON_TIME = ("pack_on_time", "Pack submitted to the panel coordinator 2 weeks before panel")
_CHILD_VOICE = (
    "child_voice",
    "Words and Pictures, Three Houses or another child's voice tool (journey, views, wishes)",
)
_MATCHING_MINUTES = (
    "matching_minutes",
    "Minutes of the matching meeting: relatives' and IRO's views, carers' commitment and "
    "support, supervising social worker's view of the match and of training needs",
)

MAINSTREAM = Checklist(
    "A",
    "Permanence decision for a child in mainstream fostering",
    (
        _PACK_ON_TIME,
        _MATCHING_MINUTES,
        _CHILD_VOICE,
        ("care_plan_scaling", "Care plan with scaling of the child's and carers' views"),
        ("placement_plan", "Placement plan"),
        (
            "form_f_review",
            "Form F, foster carers' annual review report, ADM decision of review, team "
            "manager's view, long-term fostering approval confirmation",
        ),
        ("sibling_assessment", "Sibling assessment (if appropriate)"),
    ),
)

CONNECTED = Checklist(
    "B",
    "Permanence decision for a child in connected fostering",
    (
        _PACK_ON_TIME,
        _MATCHING_MINUTES,
        ("care_plan_scaling", "Care plan with scaling of the child's and carers' views"),
        ("placement_plan", "Placement plan"),
        (
            "form_c_review",
            "Form C connected carers assessment, annual review report, ADM decision of "
            "review, team manager's view",
        ),
        (
            "sgo_cao_support_plan",
            "Proposed care plan and support plan if the carers pursue an SGO or CAO",
        ),
        _CHILD_VOICE,
    ),
)

RESIDENTIAL = Checklist(
    "C",
    "Permanence decision for a child in residential care",
    (
        _PACK_ON_TIME,
        (
            "views",
            "Views of relatives, IRO, key worker's commitment and support, supervising "
            "social worker's view of staff training needs",
        ),
        ("care_plan", "Care plan"),
        ("placement_plan", "Placement plan"),
        _CHILD_VOICE,
    ),
)

RESOURCE = Checklist(
    "D",
    "Resource decision",
    (
        _PACK_ON_TIME,
        ("resource_request_form", "Resource request form"),
        ("sgo_cao_support_plan", "SGO / CAO support plan (if relevant)"),
    ),
)

BY_PLACEMENT_KIND: dict[str, Checklist] = {
    "mainstream": MAINSTREAM,
    "connected": CONNECTED,
    "residential": RESIDENTIAL,
}
ALL: dict[str, Checklist] = {c.key: c for c in (MAINSTREAM, CONNECTED, RESIDENTIAL, RESOURCE)}
