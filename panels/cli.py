"""``permanence panel check`` and ``permanence panel presets``: validate a panel's
configuration from the command line before the service runs it."""

from __future__ import annotations

import argparse
import sys

from panels.config import PanelConfigError, load_panel, preset_names


def add_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the ``panel`` commands to the CLI."""
    panel = sub.add_parser("panel", help="panel configuration").add_subparsers(
        dest="action", required=True
    )
    check = panel.add_parser("check", help="validate a preset or a panel TOML file")
    check.add_argument(
        "name", nargs="?", default=None, help="preset name or .toml path (default PERMANENCE_PANEL)"
    )
    check.set_defaults(func=check_command)
    panel.add_parser("presets", help="list the shipped presets").set_defaults(func=presets_command)


def check_command(args: argparse.Namespace) -> int:
    """Validate the configuration and print a summary, or every problem found."""
    from app.api.panel import PanelSettings

    name = args.name or PanelSettings().panel
    try:
        config = load_panel(name)
    except PanelConfigError as exc:
        print(f"error: {exc.source}", file=sys.stderr)
        for problem in exc.problems:
            print(f"  - {problem}", file=sys.stderr)
        return 2
    s = config.schedule
    print(f"{config.panel.name} ({config.panel.key}): valid")
    print(
        f"  meets {s.frequency} on {s.weekday}s at {s.start_time.strftime('%H:%M')} for "
        f"{s.length_minutes} minutes; pack due {config.pack_lead.days} {config.pack_lead.unit} "
        f"days before; minutes due {config.minutes.due_working_days} working days after"
    )
    for part in config.parts:
        print(f"  {part.title}: {part.capacity.describe()}; takes {', '.join(part.takes)}")
    for assumption in config.panel.assumptions:
        print(f"  not in the ToR, set locally: {assumption}")
    return 0


def presets_command(_args: argparse.Namespace) -> int:
    """Print the shipped presets."""
    for name in preset_names():
        print(f"{name}: {load_panel(name).panel.name}")
    return 0
