"""The permanence panel: configuration per local authority, meetings, referrals and packs,
agendas within capacity, decisions and actions, minutes, the tracker and reports.

Each local authority's panel is one TOML file (``panels/presets/*.toml`` ship one per Terms
of Reference in the seeds); the setting ``PERMANENCE_PANEL`` names the one a service runs.
"""
