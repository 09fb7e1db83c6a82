"""All SQL of collect, by area: every function takes an open Connection inside the caller's
transaction and works on a batch of records at a time, one query per batch, never one per
ledger row. Callers use `from collect_cli.store import queries as q`."""

from collect_cli.store.queries.agency_records import *  # noqa: F403
from collect_cli.store.queries.analytics import *  # noqa: F403
from collect_cli.store.queries.base import *  # noqa: F403
from collect_cli.store.queries.case_records import *  # noqa: F403
from collect_cli.store.queries.ledger_reads import *  # noqa: F403
from collect_cli.store.queries.ledger_writes import *  # noqa: F403
from collect_cli.store.queries.legal_records import *  # noqa: F403
from collect_cli.store.queries.outbox import *  # noqa: F403
from collect_cli.store.queries.placement_records import *  # noqa: F403
from collect_cli.store.queries.workflow import *  # noqa: F403
