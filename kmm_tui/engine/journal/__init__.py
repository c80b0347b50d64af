"""The journal: a SQLite (WAL) record of what we intended, what the exchange acknowledged, and why.

The exchange is the source of truth for orders, fills and positions; the journal is the source of
truth for our *intent*: matches and their settings, every order intent written before it is sent,
every acknowledgement, every fill (deduplicated by trade id), every decision with its reason (only
when it changes) and every guard trip. Restart recovery reads it to know which orders are ours and
from when to back-fill fills.

One job per module: ``schema`` (migrations, row types), ``commits`` (the connection, group commits,
checkpoints, retention), ``writes``, ``reads`` and ``specs`` (match specs as JSON). Import from here.
"""

from kmm_tui.engine.journal.commits import CHECKPOINT_EVERY as CHECKPOINT_EVERY
from kmm_tui.engine.journal.commits import COMMIT_WINDOW_MS as COMMIT_WINDOW_MS
from kmm_tui.engine.journal.commits import DECISION_MAX_ROWS as DECISION_MAX_ROWS
from kmm_tui.engine.journal.commits import DECISION_RETENTION_MS as DECISION_RETENTION_MS
from kmm_tui.engine.journal.commits import PRUNE_EVERY_S as PRUNE_EVERY_S
from kmm_tui.engine.journal.reads import JournalReads, read_closing_lines, read_markouts
from kmm_tui.engine.journal.schema import MIGRATIONS, JournalFill, JournalMatch, JournalOrder
from kmm_tui.engine.journal.specs import spec_from_json, spec_to_json
from kmm_tui.engine.journal.writes import JournalWrites


class Journal(JournalWrites, JournalReads):
    """The engine's single writer to the journal database."""


__all__ = [
    "MIGRATIONS",
    "Journal",
    "JournalFill",
    "JournalMatch",
    "JournalOrder",
    "read_closing_lines",
    "read_markouts",
    "spec_from_json",
    "spec_to_json",
]
