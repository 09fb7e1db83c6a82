"""The store: SQLAlchemy models, the engine factory with migrate-on-first-use, and all SQL."""
