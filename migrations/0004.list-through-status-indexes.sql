-- depends: 0003.create-idempotency-keys
-- Every list order is served by its per-status index alone: a page of all of a user's tasks
-- merges the two status ranges of that index (the adapter's list statement asks for it),
-- still reading only about a page of index entries. The status-less indexes go: a write
-- maintained seven indexes, now four, and each one cost every create, update and delete.
DROP INDEX tasks_by_created;
DROP INDEX tasks_by_updated;
DROP INDEX tasks_by_title;
