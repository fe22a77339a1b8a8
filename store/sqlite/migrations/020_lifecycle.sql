-- Lifecycle and supply-chain facts (issue 18): when upstream support ends
-- (eol_date, an RFC 3339 full-date, '' when unknown, so text comparison is
-- date order), the alias that replaces the image, its versioned tags, and
-- a link to its source. Scanner, signature and the SBOM and report links
-- travel inside the security JSON.
ALTER TABLE images ADD COLUMN eol_date TEXT NOT NULL DEFAULT '';
ALTER TABLE images ADD COLUMN superseded_by TEXT NOT NULL DEFAULT '';
ALTER TABLE images ADD COLUMN tags_pinned TEXT NOT NULL DEFAULT '[]';
ALTER TABLE images ADD COLUMN source_url TEXT NOT NULL DEFAULT '';

-- What the signed and max_severity filters test, derived from security so
-- they can never disagree with it: 1 when a signature is on record; the
-- most severe finding of the last scan (0 none, 1 low ... 4 critical) and
-- 5 when no scan is on record, as store.Image.WorstSeverity ranks it.
ALTER TABLE images ADD COLUMN signed INTEGER GENERATED ALWAYS AS (
	CASE WHEN json_extract(security, '$.signed') THEN 1 ELSE 0 END) VIRTUAL;
ALTER TABLE images ADD COLUMN worst_severity INTEGER GENERATED ALWAYS AS (
	CASE
	WHEN security IS NULL OR COALESCE(json_extract(security, '$.last_scan'), '') IN ('', '0001-01-01T00:00:00Z') THEN 5
	WHEN json_extract(security, '$.findings.critical') > 0 THEN 4
	WHEN json_extract(security, '$.findings.high') > 0 THEN 3
	WHEN json_extract(security, '$.findings.medium') > 0 THEN 2
	WHEN json_extract(security, '$.findings.low') > 0 THEN 1
	ELSE 0 END) VIRTUAL;

CREATE INDEX images_eol ON images (eol_date);
CREATE INDEX images_signed ON images (signed);
CREATE INDEX images_worst_severity ON images (worst_severity);

-- The listing index rebuilds on any change but the ratings (010): the new
-- columns are compared too. TestOnlyRatingChangesAreFollowedInPlace fails
-- when a column is left out.
DROP TRIGGER images_generation_update;

CREATE TRIGGER images_generation_update AFTER UPDATE ON images BEGIN
	UPDATE catalog_generation SET generation = generation + 1 WHERE id = 1;
	INSERT INTO image_changes (generation, seq, reshaped)
		SELECT generation, new.seq, NOT (old.seq IS new.seq AND old.id IS new.id
			AND old.alias IS new.alias AND old.description IS new.description
			AND old.image_name IS new.image_name AND old.architecture IS new.architecture
			AND old.os IS new.os AND old.release IS new.release
			AND old.serial IS new.serial AND old.variant IS new.variant
			AND old.size IS new.size AND old.price_cents IS new.price_cents
			AND old.added_date IS new.added_date AND old.prespawn IS new.prespawn
			AND old.tags IS new.tags AND old.based_on IS new.based_on
			AND old.features IS new.features AND old.pull_ref IS new.pull_ref
			AND old.security IS new.security AND old.docs IS new.docs
			AND old.eol_date IS new.eol_date AND old.superseded_by IS new.superseded_by
			AND old.tags_pinned IS new.tags_pinned AND old.source_url IS new.source_url)
		FROM catalog_generation WHERE id = 1;
	DELETE FROM image_changes WHERE generation <= (SELECT generation - 10000 FROM catalog_generation WHERE id = 1);
END;
