"""Bulk evaluation compiled to SQL: policy -> sqlglot expression -> DuckDB, SQLite, PostgreSQL, Spark."""

from .dialects import TARGETS, Target, generate, target
from .plan import (
    OUTPUT_COLUMNS,
    REQUIRED_COLUMNS,
    Compiler,
    Context,
    Layer,
    Plan,
    Policy,
    RuleState,
    compile_policy,
    contexts,
    plan,
    resolve_policy,
)
from .run import BulkResult, SummaryRow, bulk, bulk_spark, dates_between, decisions_in_db, summarize_in_db

__all__ = [
    "BulkResult",
    "SummaryRow",
    "bulk",
    "bulk_spark",
    "dates_between",
    "decisions_in_db",
    "summarize_in_db",
    "OUTPUT_COLUMNS",
    "REQUIRED_COLUMNS",
    "TARGETS",
    "Compiler",
    "Context",
    "Layer",
    "Plan",
    "Policy",
    "RuleState",
    "Target",
    "compile_policy",
    "contexts",
    "generate",
    "plan",
    "resolve_policy",
    "target",
]
