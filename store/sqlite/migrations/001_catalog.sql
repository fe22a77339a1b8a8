-- The catalog: one row per image (an alias on one architecture).
-- Prices are integer cents; dates are RFC 3339 UTC text, which sorts in time order.
-- Rating aggregates are kept as a sum and a count, updated in the same
-- transaction as the ratings themselves; the average and the popularity score
-- are derived from them so they can never drift.
-- seq is an explicit rowid: the full-text index refers to rows by it, and
-- unlike an implicit rowid it survives VACUUM.
CREATE TABLE images (
	seq          INTEGER PRIMARY KEY,
	id           TEXT NOT NULL UNIQUE CHECK (length(id) = 24),
	alias        TEXT NOT NULL,
	description  TEXT NOT NULL,
	image_name   TEXT NOT NULL,
	architecture TEXT NOT NULL CHECK (architecture IN ('amd64', 'arm64', 'armhf')),
	os           TEXT NOT NULL,
	release      TEXT NOT NULL,
	serial       TEXT NOT NULL,
	variant      TEXT NOT NULL,
	size         INTEGER NOT NULL CHECK (size > 0),
	price_cents  INTEGER NOT NULL CHECK (price_cents >= 0),
	added_date   TEXT NOT NULL,
	prespawn     INTEGER NOT NULL DEFAULT 0 CHECK (prespawn IN (0, 1)),
	tags         TEXT NOT NULL DEFAULT '[]',
	based_on     TEXT NOT NULL DEFAULT '',
	features     TEXT NOT NULL DEFAULT '[]',
	pull_ref     TEXT NOT NULL DEFAULT '',
	security     TEXT,
	docs         TEXT NOT NULL DEFAULT '',
	rating_sum   INTEGER NOT NULL DEFAULT 0 CHECK (rating_sum >= 0),
	rating_count INTEGER NOT NULL DEFAULT 0 CHECK (rating_count >= 0),
	-- Average in tenths, rounded half up with integer arithmetic (4.75 -> 48).
	rating_tenths INTEGER GENERATED ALWAYS AS (
		CASE WHEN rating_count = 0 THEN 0
		ELSE (rating_sum * 20 + rating_count) / (rating_count * 2) END) VIRTUAL,
	-- Bayesian average: the mean with a prior of ten ratings of 3.0, so one
	-- five-star rating does not outrank a hundred four-star ones.
	popularity REAL GENERATED ALWAYS AS ((rating_sum + 30.0) / (rating_count + 10)) VIRTUAL,
	UNIQUE (alias, architecture)
);

CREATE INDEX images_os_arch ON images (os, architecture);
CREATE INDEX images_arch ON images (architecture);
CREATE INDEX images_variant ON images (variant);
CREATE INDEX images_prespawn ON images (prespawn);
CREATE INDEX images_family ON images (os, release, variant);
-- Each sort reads an index in order and stops after one page. Ties are
-- broken by name and id ascending whatever the direction, so every key has
-- an ascending and a descending index.
CREATE INDEX images_name ON images (image_name, id);
CREATE INDEX images_price ON images (price_cents, image_name, id);
CREATE INDEX images_price_desc ON images (price_cents DESC, image_name, id);
CREATE INDEX images_rating ON images (rating_tenths, rating_count, image_name, id);
CREATE INDEX images_rating_desc ON images (rating_tenths DESC, rating_count DESC, image_name, id);
CREATE INDEX images_size ON images (size, image_name, id);
CREATE INDEX images_size_desc ON images (size DESC, image_name, id);
CREATE INDEX images_added ON images (added_date, image_name, id);
CREATE INDEX images_added_desc ON images (added_date DESC, image_name, id);
CREATE INDEX images_popularity ON images (popularity, image_name, id);
CREATE INDEX images_popularity_desc ON images (popularity DESC, image_name, id);
