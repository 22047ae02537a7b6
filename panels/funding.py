"""The Additional Funding Request form (Leicestershire ToR) as a structured form, and the
scheme-of-delegation and three-quotes checks that apply before funding is agreed."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from panels.config import FundingScheme

# The form's thirteen questions, in order, with the form's own wording.
QUESTIONS: tuple[tuple[str, str], ...] = (
    ("request", "What would you like from Panel? (Type of Provision, Cost, Timescale)"),
    (
        "assessed_needs",
        "Summary of assessed needs (reason in care, diagnosed health issues, additional "
        "educational needs, Education, Health and Care plan)",
    ),
    (
        "current_payments",
        "Are there currently any additional payments being made? Details and funder",
    ),
    ("background", "Background (2-3 paragraphs)"),
    ("iro_comments", "If the child is looked after, the IRO's comments about the proposed plan"),
    ("permanency_plan", "What is the permanency plan for the child?"),
    ("education", "Education: change of school placement or impact on education; EHC plan; SENA"),
    ("considered_elsewhere", "Has the funding request been considered elsewhere?"),
    ("child_voice", "Child / young person's voice"),
    ("parent_carer_voice", "Parent / carers' voice"),
    ("costs", "Costs of request (three quotes before additional funding can be approved)"),
    ("duration", "How long is the funding request for?"),
    ("outcome_if_declined", "Outcome for carer / child if the funding request is not agreed"),
)
QUESTION_KEYS = tuple(k for k, _ in QUESTIONS)


class Quote(BaseModel):
    """One provider's quote for the provision asked for."""

    model_config = ConfigDict(extra="forbid")

    provider: str = Field(min_length=1, max_length=200)
    amount: Decimal = Field(ge=0)


class Education(BaseModel):
    """Question 7, in its parts."""

    model_config = ConfigDict(extra="forbid")

    affects_school_placement: bool = False
    has_ehc_plan: bool | None = None
    discussed_with_sena: bool | None = None
    sena_comments: str = ""
    current_school_type: Literal["mainstream", "special", "other"] | None = None


class FundingRequest(BaseModel):
    """The Additional Funding Request: answers, costs, duration, quotes and signatures."""

    model_config = ConfigDict(extra="forbid")

    # The form's header: the child's name, date of birth, FWI number, legal status, social
    # worker and team come from the child's record; the carers are asked for here.
    carers_names: str = Field(default="", max_length=300)
    relationship_to_child: str = Field(default="", max_length=200)
    answers: dict[str, str] = Field(default_factory=dict)
    education: Education = Education()
    annual_cost: Decimal = Field(ge=0, description="Additional funding asked for, pounds a year")
    duration_months: int = Field(gt=0, le=240)
    quotes: list[Quote] = Field(default_factory=list)
    commissioned_placement: bool = False
    specialist_reports: bool = False
    signed_by_social_worker: bool = False
    signed_by_team_manager: bool = False

    @field_validator("answers")
    @classmethod
    def _known_questions(cls, answers: dict[str, str]) -> dict[str, str]:
        # A field validator (not a model one) so it is reported beside other field errors.
        unknown = sorted(set(answers) - set(QUESTION_KEYS))
        if unknown:
            raise ValueError(
                f"unknown questions {', '.join(unknown)}; the form asks {', '.join(QUESTION_KEYS)}"
            )
        return answers

    def unanswered(self) -> list[str]:
        """Questions left blank (question 7 is answered by ``education``)."""
        return [
            k for k in QUESTION_KEYS if k != "education" and not self.answers.get(k, "").strip()
        ]

    @property
    def total_cost(self) -> Decimal:
        """The whole commitment: the annual cost over the duration."""
        return (self.annual_cost * self.duration_months / 12).quantize(Decimal("0.01"))


def refusals(
    request: FundingRequest,
    scheme: FundingScheme,
    roles: Iterable[str],
    *,
    exception_reason: str = "",
) -> list[str]:
    """Why these roles may not agree this request now (empty: they may)."""
    reasons: list[str] = []
    amount = float(request.annual_cost)
    band = scheme.band_for(amount)
    if set(roles).isdisjoint(band.roles):
        reasons.append(
            f"£{amount:,.2f} a year is above the limit for your role under the scheme of "
            f"delegation ({scheme.title}): it must be agreed by {' or '.join(band.roles)}."
        )
    if band.by_exception and not exception_reason.strip():
        reasons.append(
            f"£{amount:,.2f} a year is agreed only by exception: record the exceptional reason."
        )
    needs_quotes = amount > 0 and not (
        scheme.commissioned_exempt and request.commissioned_placement
    )
    if needs_quotes and len(request.quotes) < scheme.quotes_required:
        reasons.append(
            f"Three quotes must be provided before additional funding can be approved: "
            f"{len(request.quotes)} of {scheme.quotes_required} received."
            if scheme.quotes_required == 3
            else f"{scheme.quotes_required} quotes are needed; {len(request.quotes)} received."
        )
    if not (request.signed_by_social_worker and request.signed_by_team_manager):
        reasons.append("The form must be signed by the social worker and the team manager.")
    return reasons
