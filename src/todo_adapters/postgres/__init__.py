"""PostgreSQL storage over psycopg 3, and the schema's migrations."""

from todo_adapters.postgres.migrations import MigrationStatus, Migrator, migration_ids, migrations_directory
from todo_adapters.postgres.storage import PoolSettings, PostgresStorage, PostgresUnitOfWork, Readiness

__all__ = [
    "MigrationStatus",
    "Migrator",
    "PoolSettings",
    "PostgresStorage",
    "PostgresUnitOfWork",
    "Readiness",
    "migration_ids",
    "migrations_directory",
]
