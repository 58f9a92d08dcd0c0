-- depends: 0002.create-tasks
-- What the first request under an idempotency key created, stored in the same transaction
-- as the creation, so a retried request gets the same answer and creates nothing. Keys
-- belong to a scope (the requesting user's id, or '' for an anonymous caller); the key is
-- (scope, key), which a deployment distributed by user id needs. No foreign key: a key
-- outlives the user it created until it expires.
CREATE TABLE idempotency_keys (
    scope       text        NOT NULL,
    key         text        NOT NULL,
    fingerprint text        NOT NULL,
    outcome     jsonb       NOT NULL,
    created_at  timestamptz NOT NULL,
    expires_at  timestamptz NOT NULL,
    CONSTRAINT idempotency_keys_pkey PRIMARY KEY (scope, key),
    CONSTRAINT idempotency_keys_key_format CHECK (key ~ '^[\u0020-\u007e]{1,255}$'),
    CONSTRAINT idempotency_keys_expiry_check CHECK (expires_at > created_at)
);

-- Purging expired keys reads them in expiry order.
CREATE INDEX idempotency_keys_by_expiry ON idempotency_keys (expires_at);
