-- depends: 0001.create-users
-- Tasks are keyed by (user_id, id): every query names the owner, and a sharded deployment
-- (Citus, distributed by user_id) needs every unique constraint to include it.
CREATE TABLE tasks (
    user_id      text        NOT NULL,
    id           uuid        NOT NULL,
    title        text        NOT NULL,
    description  text,
    completed    boolean     NOT NULL DEFAULT false,
    completed_at timestamptz,
    created_at   timestamptz NOT NULL,
    updated_at   timestamptz NOT NULL,
    version      integer     NOT NULL DEFAULT 1,
    CONSTRAINT tasks_pkey PRIMARY KEY (user_id, id),
    CONSTRAINT tasks_user_id_fkey FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE,
    -- Trimmed, 1-255 characters, no control characters (C0, DEL, C1), as the domain says.
    CONSTRAINT tasks_title_check CHECK (
        char_length(title) BETWEEN 1 AND 255
        -- Python's str.strip() whitespace, listed so the check does not depend on the locale.
        AND title !~ '^[\u0009-\u000d\u001c-\u0020\u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]'
        AND title !~ '[\u0009-\u000d\u001c-\u0020\u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]$'
        AND title !~ '[\u0001-\u001f\u007f-\u009f]'
    ),
    -- At most 10,000 characters; tab, line feed and carriage return are the only controls allowed.
    CONSTRAINT tasks_description_check CHECK (
        char_length(description) <= 10000
        AND description !~ '[\u0001-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]'
    ),
    CONSTRAINT tasks_completed_at_check CHECK (completed = (completed_at IS NOT NULL)),
    CONSTRAINT tasks_version_check CHECK (version >= 1)
);

-- One index per list order, and one per order within a completion status, so that a page
-- is an index range scan of one user's rows whatever the table's size. Both directions of
-- an order use the same index (scanned backwards). Titles order by their lowercase form,
-- byte by byte ("C"), which is code point order: the same order the domain defines.
CREATE INDEX tasks_by_created ON tasks (user_id, created_at DESC, id DESC);
CREATE INDEX tasks_by_updated ON tasks (user_id, updated_at DESC, id DESC);
CREATE INDEX tasks_by_title ON tasks (user_id, (lower(title) COLLATE "C"), id);
CREATE INDEX tasks_by_status_created ON tasks (user_id, completed, created_at DESC, id DESC);
CREATE INDEX tasks_by_status_updated ON tasks (user_id, completed, updated_at DESC, id DESC);
CREATE INDEX tasks_by_status_title ON tasks (user_id, completed, (lower(title) COLLATE "C"), id);
