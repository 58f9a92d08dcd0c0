CREATE INDEX tasks_by_created ON tasks (user_id, created_at DESC, id DESC);
CREATE INDEX tasks_by_updated ON tasks (user_id, updated_at DESC, id DESC);
CREATE INDEX tasks_by_title ON tasks (user_id, (lower(title) COLLATE "C"), id);
