"""Alembic migrations (shipped inside the package so an installed service can migrate)."""
