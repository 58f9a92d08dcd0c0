"""PostgreSQL storage over psycopg 3, and the schema's migrations."""

from todo_adapters.postgres.migrations import MigrationStatus, Migrator, migrations_directory
from todo_adapters.postgres.storage import PoolSettings, PostgresStorage, PostgresUnitOfWork

__all__ = [
    "MigrationStatus",
    "Migrator",
    "PoolSettings",
    "PostgresStorage",
    "PostgresUnitOfWork",
    "migrations_directory",
]
