"""The gateway's tables (SQLAlchemy Core), the same on SQLite and PostgreSQL.

Times are unix seconds (float): easy to compare on both databases and in Python. The schema
carries a version in ``meta``; a gateway refuses to start on a database of another version
(``check_version``) instead of misreading it, and ``create`` makes a new one.
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

#: bump with every change of the tables below, and say in docs/gateway.md how to move data
SCHEMA_VERSION = 1

metadata = MetaData()

meta = Table(
    "gw_meta", metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

# --- the terminal API ------------------------------------------------------------------------

terminals = Table(
    "gw_terminals", metadata,
    Column("terminal_id", String(64), primary_key=True),
    Column("secret", Text, nullable=False),
    Column("name", String(200), nullable=False, default=""),
    Column("township", String(100), nullable=False, default=""),
    Column("active", Boolean, nullable=False, default=True),
    Column("created_at", Float, nullable=False),
    # what the last heartbeat said
    Column("last_seen", Float),
    Column("software_version", String(64), nullable=False, default=""),
    Column("devices", Text, nullable=False, default="{}"),
    Column("paper", String(16), nullable=False, default="unknown"),
    Column("paper_near_end", Boolean, nullable=False, default=False),
    Column("outbox_depth", Integer, nullable=False, default=0),
    Column("outbox_oldest_s", Integer),
    Column("in_service", Boolean, nullable=False, default=True),
    Column("last_error", Text, nullable=False, default=""),
    Column("notice", Text, nullable=False, default=""),
)

nonces = Table(
    "gw_nonces", metadata,
    Column("terminal_id", String(64), primary_key=True),
    Column("nonce", String(64), primary_key=True),
    Column("ts", Integer, nullable=False, index=True),
)

idempotency = Table(
    "gw_idempotency", metadata,
    Column("terminal_id", String(64), primary_key=True),
    Column("key", String(128), primary_key=True),
    Column("route", String(64), nullable=False),
    Column("body_hash", String(64), nullable=False),
    Column("state", String(8), nullable=False),  # pending | done
    Column("status", Integer, nullable=False, default=0),
    Column("response", Text, nullable=False, default=""),
    Column("created_at", Float, nullable=False, index=True),
)

received = Table(
    "gw_received", metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("kind", String(32), nullable=False),
    Column("terminal_id", String(64), nullable=False),
    Column("idempotency_key", String(128), nullable=False),
    Column("payload", Text, nullable=False),
    Column("received_at", String(40), nullable=False),
    Column("ts", Float, nullable=False),
    Index("ix_gw_received_kind_ts", "kind", "ts"),
)

# --- the fleet -------------------------------------------------------------------------------

events = Table(
    "gw_events", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("terminal_id", String(64), nullable=False),
    Column("ts", Float, nullable=False),
    Column("kind", String(32), nullable=False),
    Column("detail", Text, nullable=False, default=""),
    Index("ix_gw_events_terminal_ts", "terminal_id", "ts"),
)

transactions = Table(
    "gw_transactions", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("terminal_id", String(64), nullable=False),
    Column("transaction_no", String(64), nullable=False),
    Column("item_id", String(64), nullable=False),
    Column("status", String(32), nullable=False),
    Column("amount_fen", Integer),
    Column("ts", Float, nullable=False),
    Index("ix_gw_transactions_terminal_ts", "terminal_id", "ts"),
)

commands = Table(
    "gw_commands", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("terminal_id", String(64), ForeignKey("gw_terminals.terminal_id"), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("args", Text, nullable=False, default="{}"),
    Column("state", String(16), nullable=False),  # pending | sent | done | failed | cancelled
    Column("created_at", Float, nullable=False),
    Column("created_by", String(64), nullable=False),
    Column("sent_at", Float),
    Column("sent_count", Integer, nullable=False, default=0),
    Column("acked_at", Float),
    Column("result", Text, nullable=False, default=""),
    Index("ix_gw_commands_terminal_state", "terminal_id", "state"),
)

diagnostics = Table(
    "gw_diagnostics", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("terminal_id", String(64), nullable=False),
    Column("command_id", Integer),
    Column("name", String(200), nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("data", LargeBinary, nullable=False),
    Column("ts", Float, nullable=False),
)

# --- 好差评 ----------------------------------------------------------------------------------

ratings = Table(
    "gw_ratings", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("terminal_id", String(64), nullable=False),
    Column("transaction_no", String(64), nullable=False),
    Column("item_id", String(64), nullable=False),
    Column("item_name", String(200), nullable=False),
    Column("satisfaction", Integer),  # 1..5; NULL: not rated
    Column("reason", Text, nullable=False, default=""),
    Column("reason_codes", Text, nullable=False, default="[]"),
    Column("evaluator_masked", String(32), nullable=False, default=""),
    Column("source", String(16), nullable=False, default="screen"),
    Column("rated_at", String(40), nullable=False),
    Column("ts", Float, nullable=False),
    Column("due", String(10)),  # 差评: follow up by this date (15 working days)
    Column("followed_up_on", String(10)),
    Column("followed_up_by", String(64)),
    Column("followup_note", Text),
    UniqueConstraint("terminal_id", "transaction_no", name="uq_gw_ratings_txn"),
    Index("ix_gw_ratings_ts", "ts"),
)

# --- the console -----------------------------------------------------------------------------

users = Table(
    "gw_users", metadata,
    Column("username", String(64), primary_key=True),
    Column("password_hash", Text, nullable=False),
    Column("role", String(16), nullable=False),  # technician | supervisor
    Column("display_name", String(100), nullable=False, default=""),
    Column("active", Boolean, nullable=False, default=True),
    Column("failures", Integer, nullable=False, default=0),
    Column("locked_until", Float, nullable=False, default=0.0),
    Column("created_at", Float, nullable=False),
    Column("last_login", Float),
)

sessions = Table(
    "gw_sessions", metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("username", String(64), ForeignKey("gw_users.username"), nullable=False),
    Column("csrf", String(64), nullable=False),
    Column("created_at", Float, nullable=False),
    Column("last_seen", Float, nullable=False),
    Column("expires_at", Float, nullable=False, index=True),
)

audit = Table(
    "gw_audit", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("ts", Float, nullable=False, index=True),
    Column("username", String(64), nullable=False),
    Column("action", String(64), nullable=False),
    Column("target", String(200), nullable=False, default=""),
    Column("detail", Text, nullable=False, default=""),
    Column("outcome", String(16), nullable=False, default="ok"),
    Column("ip", String(64), nullable=False, default=""),
)
