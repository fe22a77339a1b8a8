-- Personal simplestreams remotes: /u/<key>/ lists the free images and the
-- paid ones the key's owner bought. A key is read-only and apart from API
-- tokens (Incus clients put it in a URL, where it may be seen); only its
-- SHA-256 is stored.
CREATE TABLE pull_keys (
	id         INTEGER PRIMARY KEY,
	user_id    INTEGER NOT NULL REFERENCES users (id),
	hash       TEXT NOT NULL UNIQUE,
	hint       TEXT NOT NULL,
	created_at TEXT NOT NULL,
	revoked_at TEXT
);
CREATE INDEX pull_keys_user ON pull_keys (user_id);
