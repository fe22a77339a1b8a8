-- Content loaded for catalog images: one build per image and kind (an OCI
-- image for the registry, an Incus image for simplestreams). The bytes live
-- in the blob store beside the database, named by digest; a build row is
-- written only after all its blobs are durable there.
CREATE TABLE builds (
	image_id   TEXT NOT NULL REFERENCES images (id),
	kind       TEXT NOT NULL CHECK (kind IN ('oci', 'incus')),
	-- The manifest's digest (OCI) or the image fingerprint (Incus).
	digest     TEXT NOT NULL,
	media_type TEXT NOT NULL,
	size       INTEGER NOT NULL CHECK (size >= 0),
	loaded_at  TEXT NOT NULL,
	PRIMARY KEY (image_id, kind)
);
CREATE INDEX builds_kind ON builds (kind);

-- Every blob a build references, the OCI manifest included.
CREATE TABLE build_blobs (
	image_id   TEXT NOT NULL,
	kind       TEXT NOT NULL,
	digest     TEXT NOT NULL,
	size       INTEGER NOT NULL CHECK (size >= 0),
	media_type TEXT NOT NULL,
	role       TEXT NOT NULL,
	PRIMARY KEY (image_id, kind, digest),
	FOREIGN KEY (image_id, kind) REFERENCES builds (image_id, kind) ON DELETE CASCADE
);
CREATE INDEX build_blobs_digest ON build_blobs (digest);

-- When each person last pulled each image (through the registry or a
-- simplestreams remote), and how often.
CREATE TABLE pulls (
	user_id        INTEGER NOT NULL REFERENCES users (id),
	image_id       TEXT NOT NULL REFERENCES images (id),
	count          INTEGER NOT NULL DEFAULT 0,
	last_pulled_at TEXT NOT NULL,
	PRIMARY KEY (user_id, image_id)
);
CREATE INDEX pulls_image ON pulls (image_id);
