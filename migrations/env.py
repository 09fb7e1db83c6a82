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
    with engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:  # batch mode copies tables that others refer to; the pragma holds outside a transaction
            connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
            connection.commit()
        try:
            with connection.begin():
                context.configure(
                    connection=connection,
                    target_metadata=target_metadata,
                    render_as_batch=sqlite,  # SQLite cannot ALTER much
                    compare_type=True,
                )
                context.run_migrations()
                if sqlite and connection.exec_driver_sql("PRAGMA foreign_key_check").first():
                    raise RuntimeError("the migration left a row whose reference is gone")
        finally:
            if sqlite:
                connection.exec_driver_sql("PRAGMA foreign_keys=ON")
                connection.commit()


if context.is_offline_mode():
    raise SystemExit("offline (--sql) migrations are not supported; run `collect db upgrade`")
run_migrations_online()
