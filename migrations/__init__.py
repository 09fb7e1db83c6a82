"""Alembic migrations, shipped inside the package as collect_cli.migrations."""
