"""Persistence: models, engine, unit of work, migrations and read-side (KPI) queries."""

from storage.db import create_engine, session_factory
from storage.migrate import upgrade
from storage.uow import UnitOfWork, reads_many

__all__ = ["UnitOfWork", "create_engine", "reads_many", "session_factory", "upgrade"]
