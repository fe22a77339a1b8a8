-- Lifecycle and supply-chain facts, as SQLite's 020_lifecycle.sql: when
-- upstream support ends (eol_date, an RFC 3339 full-date, '' when unknown,
-- so byte order is date order), the alias that replaces the image, its
-- versioned tags and a link to its source. Scanner, signature and the SBOM
-- and report links travel inside the security JSON.
ALTER TABLE images ADD COLUMN eol_date TEXT COLLATE "C" NOT NULL DEFAULT '';
ALTER TABLE images ADD COLUMN superseded_by TEXT COLLATE "C" NOT NULL DEFAULT '';
ALTER TABLE images ADD COLUMN tags_pinned TEXT[] NOT NULL DEFAULT '{}';
ALTER TABLE images ADD COLUMN source_url TEXT NOT NULL DEFAULT '';

-- What the signed and max_severity filters test, derived from security so
-- they never disagree with it: whether a signature is on record; the most
-- severe finding of the last scan (0 none, 1 low ... 4 critical) and 5
-- when no scan is on record, as store.Image.WorstSeverity ranks it.
ALTER TABLE images ADD COLUMN signed BOOLEAN GENERATED ALWAYS AS (
	COALESCE((security::jsonb ->> 'signed')::boolean, false)) STORED;
ALTER TABLE images ADD COLUMN worst_severity SMALLINT GENERATED ALWAYS AS (
	CASE
	WHEN security IS NULL OR COALESCE(security::jsonb ->> 'last_scan', '') IN ('', '0001-01-01T00:00:00Z') THEN 5
	WHEN COALESCE((security::jsonb #>> '{findings,critical}')::int, 0) > 0 THEN 4
	WHEN COALESCE((security::jsonb #>> '{findings,high}')::int, 0) > 0 THEN 3
	WHEN COALESCE((security::jsonb #>> '{findings,medium}')::int, 0) > 0 THEN 2
	WHEN COALESCE((security::jsonb #>> '{findings,low}')::int, 0) > 0 THEN 1
	ELSE 0 END) STORED;

CREATE INDEX images_eol ON images (eol_date);
CREATE INDEX images_signed ON images (signed);
CREATE INDEX images_worst_severity ON images (worst_severity);

-- A change of the new columns reshapes a listing too.
CREATE OR REPLACE FUNCTION berth_image_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
	g BIGINT;
	s BIGINT;
	r BOOLEAN;
BEGIN
	UPDATE catalog_generation SET generation = generation + 1 WHERE id = 1 RETURNING generation INTO g;
	IF TG_OP = 'DELETE' THEN
		s := OLD.seq; r := true;
	ELSIF TG_OP = 'INSERT' THEN
		s := NEW.seq; r := true;
	ELSE
		s := NEW.seq;
		r := ROW(OLD.seq, OLD.id, OLD.alias, OLD.description, OLD.image_name, OLD.architecture,
			OLD.os, OLD.release, OLD.serial, OLD.variant, OLD.size, OLD.price_cents,
			OLD.added_date, OLD.prespawn, OLD.tags, OLD.based_on, OLD.features, OLD.pull_ref,
			OLD.security, OLD.docs, OLD.eol_date, OLD.superseded_by, OLD.tags_pinned, OLD.source_url)
			IS DISTINCT FROM
			ROW(NEW.seq, NEW.id, NEW.alias, NEW.description, NEW.image_name, NEW.architecture,
			NEW.os, NEW.release, NEW.serial, NEW.variant, NEW.size, NEW.price_cents,
			NEW.added_date, NEW.prespawn, NEW.tags, NEW.based_on, NEW.features, NEW.pull_ref,
			NEW.security, NEW.docs, NEW.eol_date, NEW.superseded_by, NEW.tags_pinned, NEW.source_url);
	END IF;
	INSERT INTO image_changes (generation, seq, reshaped) VALUES (g, s, r);
	DELETE FROM image_changes WHERE generation <= g - 10000;
	RETURN NULL;
END
$$;
