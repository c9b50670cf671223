"""Shared domain and storage layer: SQLAlchemy 2 models, sessions and migrations.

SQLite (a file under ``./var``) is the embedded default; ``DATABASE_URL`` selects PostgreSQL.
Every other package reads and writes the database through this one.
"""

from ._db import Database, DatabaseSettings, get_database, get_database_settings, reset_database
from ._models import (
    Base,
    Invitation,
    Interview,
    InterviewPlan,
    InterviewStatus,
    Organization,
    OutboxEvent,
    QuestionScore,
    CompetencyScore,
    Recording,
    ScoreOverride,
    ScoreReport,
    TranscriptTurn,
    TurnMetric,
    User,
    UserSession,
    new_id,
    utcnow,
)
from ._migrate import upgrade_to_head

__all__ = [
    "Base",
    "CompetencyScore",
    "Database",
    "DatabaseSettings",
    "Interview",
    "InterviewPlan",
    "InterviewStatus",
    "Invitation",
    "Organization",
    "OutboxEvent",
    "QuestionScore",
    "Recording",
    "ScoreOverride",
    "ScoreReport",
    "TranscriptTurn",
    "TurnMetric",
    "User",
    "UserSession",
    "get_database",
    "get_database_settings",
    "new_id",
    "reset_database",
    "upgrade_to_head",
    "utcnow",
]
