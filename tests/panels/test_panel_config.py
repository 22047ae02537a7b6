"""Panel configuration: the five presets load and say what their ToR says; mistakes are
reported clearly, naming the setting."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest

from panels.config import PRESETS_DIR, PanelConfigError, load_panel, load_panel_file, parse_panel


def _preset(name: str) -> dict[str, Any]:
    return tomllib.loads((PRESETS_DIR / f"{name}.toml").read_text())


def _errors(data: dict[str, Any]) -> str:
    with pytest.raises(PanelConfigError) as caught:
        parse_panel(data, "test.toml")
    return str(caught.value)


def test_five_presets_load() -> None:
    from panels.config import preset_names

    assert preset_names() == ["cypf", "leicestershire", "sefton", "torbay", "wirral"]
    for name in preset_names():
        config = load_panel(name)
        assert config.panel.key == name
        assert config.chair().role == "panel_chair"


def test_presets_follow_their_terms_of_reference() -> None:
    wirral = load_panel("wirral")
    assert wirral.schedule.frequency == "fortnightly" and wirral.schedule.length_minutes == 180
    caps = {p.key: p.capacity for p in wirral.parts}
    assert caps["adoption_tracking"].minutes == 45
    assert (caps["matching"].slots, caps["matching"].slot_minutes) == (5, 15)
    assert (caps["drift"].slots, caps["drift"].slot_minutes) == (3, 15)
    assert set(wirral.part("drift").takes) == {  # type: ignore[union-attr]
        "looked_after_12m_no_plan",
        "placed_with_parents_12m",
    }
    leics = load_panel("leicestershire")
    assert (leics.pack_lead.days, leics.pack_lead.unit) == (14, "calendar")
    assert {d.checklist for d in leics.decision_types} >= {"A", "B", "C", "D"}
    therapeutic = leics.funding_scheme("therapeutic")
    assert therapeutic is not None and therapeutic.bands[0].up_to == 450
    assert therapeutic.bands[-1].by_exception
    cypf = load_panel("cypf")
    assert (cypf.pack_lead.days, cypf.minutes.due_working_days) == (3, 3)
    assert cypf.schedule.week_of_month == 4
    torbay = load_panel("torbay")
    assert torbay.schedule.weekday == "thursday" and torbay.schedule.start_time.hour < 12
    sefton = load_panel("sefton")
    assert sefton.part("tracking").review_weeks == 13  # type: ignore[union-attr]
    # What a ToR leaves unsaid is listed, so nobody mistakes a local choice for the ToR.
    assert all(load_panel(n).panel.assumptions for n in ("wirral", "sefton", "torbay"))


def test_errors_name_the_setting() -> None:
    data = _preset("wirral")
    data["parts"][1]["capacity"] = {"slots": 5}
    data["parts"][0]["capacity"] = {"minutes": 45, "slots": 3, "slot_minutes": 15}
    message = _errors(data)
    assert message.startswith("test.toml: ")
    assert "parts.1.capacity: a capacity in slots needs slot_minutes" in message
    assert "parts.0.capacity: give either minutes (with item_minutes) or slots" in message
    # Cross-references are checked once every setting is well formed, all at once.
    data = _preset("wirral")
    data["decision_types"][0]["part"] = "nowhere"
    data["members"][0]["role"] = "chief"
    data["parts"][2]["takes"] = ["gossip"]
    message = _errors(data)
    assert "decision_types.sgo_support_plan.part: no part 'nowhere'" in message
    assert "members.chair.role: unknown role 'chief'" in message
    assert "parts.drift.takes: unknown source 'gossip'" in message


def test_each_mistake_is_reported() -> None:
    cases: list[tuple[str, Any, str]] = [
        ("schedule.week_of_month", None, "needs week_of_month"),
        ("schedule.frequency", "yearly", "schedule.frequency"),
        ("pack_lead.unit", "fortnights", "pack_lead.unit"),
        ("minutes.due_working_days", -1, "minutes.due_working_days"),
        ("schedule.typo", 1, "schedule.typo: Extra inputs are not permitted"),
    ]
    for path, value, expected in cases:
        data = _preset("leicestershire")
        section, key = path.split(".")
        if value is None:
            data[section].pop(key)
        else:
            data[section][key] = value
        assert expected in _errors(data), (path, _errors(data))


def test_cross_references_are_checked() -> None:
    data = _preset("leicestershire")
    data["decision_types"][0]["checklist"] = "Z"
    data["decision_types"][1]["outcomes"][0]["event"] = "fly"
    data["decision_types"][2]["journey_type"] = "space_travel"
    data["decision_types"][3]["funding_scheme"] = "lottery"
    message = _errors(data)
    assert "decision_types.ltf_mainstream.checklist: no checklist 'Z'" in message
    assert "decision_types.ltf_connected: long_term_fostering has no event 'fly'" in message
    assert "unknown journey type 'space_travel'" in message
    assert "no funding scheme 'lottery'" in message
    bands = _preset("leicestershire")
    bands["funding"][1]["bands"] = [
        {"up_to": 900, "roles": ["panel_chair"]},
        {"up_to": 450, "roles": ["service_manager"]},
    ]
    assert "up_to = none" in _errors(bands) or "ascending" in _errors(bands)
    nochair = _preset("leicestershire")
    nochair["members"][0]["chair"] = False
    assert "no member is marked chair = true" in _errors(nochair)


def test_capacity_longer_than_the_meeting() -> None:
    data = _preset("wirral")
    data["schedule"]["length_minutes"] = 120
    message = _errors(data)
    assert "longer than the meeting (120 minutes)" in message


def test_anchor_must_fall_on_the_weekday() -> None:
    data = _preset("torbay")
    data["schedule"]["anchor"] = tomllib.loads("d = 2025-01-10")["d"]  # a Friday
    assert "the anchor 2025-01-10 is not a thursday" in _errors(data)


def test_files_and_names(tmp_path: Path) -> None:
    broken = tmp_path / "broken.toml"
    broken.write_text("[panel\nkey = 1")
    with pytest.raises(PanelConfigError, match="not valid TOML"):
        load_panel_file(broken)
    with pytest.raises(PanelConfigError, match="no such panel preset or file"):
        load_panel("atlantis")
    custom = tmp_path / "mine.toml"
    custom.write_text(
        (PRESETS_DIR / "torbay.toml").read_text().replace('key = "torbay"', 'key = "mine"', 1)
    )
    assert load_panel(str(custom)).panel.key == "mine"


def test_cli_check(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from app.cli import main

    assert main(["panel", "check", "cypf"]) == 0
    out = capsys.readouterr().out
    assert "valid" in out and "monthly on thursdays at 13:30" in out
    bad = tmp_path / "bad.toml"
    bad.write_text('[panel]\nkey = "x"\n')
    assert main(["panel", "check", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "schedule: Field required" in err and "panel.name: Field required" in err
    assert main(["panel", "presets"]) == 0
    assert "torbay: Torbay Permanency Panel" in capsys.readouterr().out


def test_a_misconfigured_panel_refuses_to_start(monkeypatch: pytest.MonkeyPatch) -> None:
    # Issue 14 item 6: a mistyped PERMANENCE_PANEL started the service, /readyz said ready
    # and every panel call answered 500. Now the service refuses to start.
    from app.main import create_app
    from services.config import Settings

    monkeypatch.setenv("PERMANENCE_PANEL", "wirrall")
    with pytest.raises(SystemExit) as refused:
        create_app(Settings())
    message = str(refused.value)
    assert "permanence panel check" in message
    assert "wirrall" in message and "no such panel preset or file" in message
