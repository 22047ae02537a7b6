"""Deadlines that act: reminder policy, the sweep, the outbox and its channels (issue 3).

The database is the source of truth: a sweep (as of a London date) records each due
reminder or escalation once per (deadline, step, due date, recipient) together with its
outbox rows; a dispatcher delivers the outbox with retries. The scheduler only triggers
sweeps and deliveries, so a restart or a second process loses or repeats nothing.
"""
