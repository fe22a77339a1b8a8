-- What the Atom feeds are made of (issue 18): one row per catalog event,
-- written by catalog imports in the same transaction as the change. kind
-- is added (a new image), serial (a new build) or security (a change of
-- its signature, SBOM or scan); build is the image's serial after it, at
-- when it happened (RFC 3339 UTC) and summary what changed, in a sentence.
-- A feed reads the latest events backwards by event_seq and keeps the ones
-- whose image passes its filter. No column shares a name with one of
-- images, so the listing's filter conditions apply to the join as they are.
CREATE TABLE image_events (
	event_seq INTEGER PRIMARY KEY,
	image_id  TEXT NOT NULL,
	kind      TEXT NOT NULL CHECK (kind IN ('added', 'serial', 'security')),
	build     TEXT NOT NULL,
	at        TEXT NOT NULL,
	summary   TEXT NOT NULL DEFAULT ''
);
CREATE INDEX image_events_image ON image_events (image_id, event_seq);

-- The images already in the catalog joined it on their added_date.
INSERT INTO image_events (image_id, kind, build, at, summary)
	SELECT /* full scan: once, at migration */ id, 'added', serial, added_date,
		'New image ' || alias || ' (' || architecture || '), build ' || serial || '.'
	FROM images ORDER BY added_date, id;

-- Personal feed keys: one per account, kept as a SHA-256 like API tokens,
-- so the feed URL is shown once; a new key replaces the old one.
CREATE TABLE feed_keys (
	user_id    INTEGER PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
	key_hash   TEXT NOT NULL UNIQUE,
	created_at TEXT NOT NULL
);
