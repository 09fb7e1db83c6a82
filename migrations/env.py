"""Alembic environment: the engine comes from collect (config.attributes) or COLLECT_DB."""

from alembic import context
from sqlalchemy import create_engine

from collect_cli.store.models import Base

config = context.config
target_metadata = Base.metadata


def run_migrations_online() -> None:
    engine = config.attributes.get("engine")
    if engine is None:  # `alembic` run by a developer from the checkout
        import os

        from collect_cli.store.database import database_url

        engine = create_engine(database_url(os.environ.get("COLLECT_DB", "collect.db")))
    with engine.begin() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",  # SQLite cannot ALTER much
            compare_type=True,
        )
        context.run_migrations()


if context.is_offline_mode():
    raise SystemExit("offline (--sql) migrations are not supported; run `collect db upgrade`")
run_migrations_online()
