"""The journey engine: definitions, shared state machines, firing events, deadlines, calendar.

The engine knows nothing about any one journey; journeys live in :mod:`states`.
"""
