-- Users: an opaque id (ours or an identity provider's) and an email unique case-insensitively.
-- A user created from a sign-in token that carried no email has none.
-- The checks mirror the domain's rules so that no bug upstream can store what the domain forbids.
CREATE TABLE users (
    id         text        NOT NULL,
    email      text,
    created_at timestamptz NOT NULL,
    CONSTRAINT users_pkey PRIMARY KEY (id),
    CONSTRAINT users_id_format CHECK (id ~ '^[A-Za-z0-9._-]{1,64}$'),
    -- The domain's EMAIL_PATTERN: 1-64 "atext" characters and dots (not first or last), then
    -- LDH labels ending in a letter-led top-level label; at most 254 characters in all.
    CONSTRAINT users_email_format CHECK (
        char_length(email) <= 254
        AND email ~ '^[A-Za-z0-9!#$%&''*+/=?^_`{|}~-]([A-Za-z0-9!#$%&''*+/=?^_`{|}~.-]{0,62}[A-Za-z0-9!#$%&''*+/=?^_`{|}~-])?@([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$'
    )
);

CREATE UNIQUE INDEX users_email_key ON users (lower(email));
