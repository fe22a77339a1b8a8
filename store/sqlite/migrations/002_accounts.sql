-- People, their sessions and API tokens, their wallets and ledgers, what they
-- own and how they rated it. Money is integer cents.
CREATE TABLE users (
	id            INTEGER PRIMARY KEY,
	email         TEXT NOT NULL UNIQUE,
	password_hash TEXT NOT NULL,
	created_at    TEXT NOT NULL
);

-- Browser sessions. The cookie carries the id; only its SHA-256 is stored,
-- so a copy of the database cannot be used to take over a session.
CREATE TABLE sessions (
	id_hash    TEXT PRIMARY KEY,
	user_id    INTEGER REFERENCES users (id),
	data       TEXT NOT NULL,
	created_at TEXT NOT NULL,
	expires_at TEXT NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX sessions_expires ON sessions (expires_at);

-- Personal API tokens: only the SHA-256 of the secret is kept.
CREATE TABLE api_tokens (
	id         INTEGER PRIMARY KEY,
	user_id    INTEGER NOT NULL REFERENCES users (id),
	name       TEXT NOT NULL,
	hash       TEXT NOT NULL UNIQUE,
	hint       TEXT NOT NULL,
	created_at TEXT NOT NULL,
	revoked_at TEXT
);
CREATE INDEX api_tokens_user ON api_tokens (user_id);

CREATE TABLE wallets (
	user_id       INTEGER PRIMARY KEY REFERENCES users (id),
	currency      TEXT NOT NULL DEFAULT 'USD',
	balance_cents INTEGER NOT NULL DEFAULT 0 CHECK (balance_cents >= 0)
);

-- Every change of a balance is one row; the balance equals the sum of the
-- rows. Credits are positive, purchases negative.
CREATE TABLE ledger (
	id           INTEGER PRIMARY KEY,
	user_id      INTEGER NOT NULL REFERENCES users (id),
	kind         TEXT NOT NULL CHECK (kind IN ('credit', 'purchase')),
	amount_cents INTEGER NOT NULL CHECK ((kind = 'credit' AND amount_cents > 0) OR (kind = 'purchase' AND amount_cents < 0)),
	image_id     TEXT REFERENCES images (id),
	memo         TEXT NOT NULL DEFAULT '',
	created_at   TEXT NOT NULL
);
CREATE INDEX ledger_user ON ledger (user_id, id);
CREATE UNIQUE INDEX ledger_one_purchase ON ledger (user_id, image_id) WHERE kind = 'purchase';

-- What each person may use: each image once.
CREATE TABLE library (
	user_id     INTEGER NOT NULL REFERENCES users (id),
	image_id    TEXT NOT NULL REFERENCES images (id),
	how         TEXT NOT NULL CHECK (how IN ('import', 'purchase')),
	price_cents INTEGER NOT NULL DEFAULT 0 CHECK (price_cents >= 0),
	acquired_at TEXT NOT NULL,
	PRIMARY KEY (user_id, image_id)
);

-- One rating per person and image; images.rating_sum and rating_count are
-- kept equal to the aggregate of these rows in the same transaction.
CREATE TABLE ratings (
	user_id    INTEGER NOT NULL REFERENCES users (id),
	image_id   TEXT NOT NULL REFERENCES images (id),
	rating     INTEGER NOT NULL CHECK (rating BETWEEN 0 AND 5),
	updated_at TEXT NOT NULL,
	PRIMARY KEY (user_id, image_id)
);
CREATE INDEX ratings_image ON ratings (image_id, rating);

-- Saved answers of purchases made with an Idempotency-Key header.
CREATE TABLE idempotency_keys (
	user_id      INTEGER NOT NULL REFERENCES users (id),
	key          TEXT NOT NULL,
	request_hash TEXT NOT NULL,
	response     TEXT NOT NULL,
	created_at   TEXT NOT NULL,
	PRIMARY KEY (user_id, key)
);
