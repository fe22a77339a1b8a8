-- Which image each catalog generation changed, so the in-memory listing
-- index (listindex.go) catches up after a rating by re-reading one row
-- instead of reloading the catalog. reshaped is 1 when the change can move
-- the image in listings other than through its ratings: added, removed, or
-- renamed, re-filed or re-priced, or its searchable text edited; the index
-- then rebuilds. The log keeps the last 10,000 generations; an index older
-- than that rebuilds too.
CREATE TABLE image_changes (
	generation INTEGER PRIMARY KEY,
	seq        INTEGER NOT NULL,
	reshaped   INTEGER NOT NULL CHECK (reshaped IN (0, 1))
);

DROP TRIGGER images_generation_insert;
DROP TRIGGER images_generation_update;
DROP TRIGGER images_generation_delete;

CREATE TRIGGER images_generation_insert AFTER INSERT ON images BEGIN
	UPDATE catalog_generation SET generation = generation + 1 WHERE id = 1;
	INSERT INTO image_changes (generation, seq, reshaped)
		SELECT generation, new.seq, 1 FROM catalog_generation WHERE id = 1;
	DELETE FROM image_changes WHERE generation <= (SELECT generation - 10000 FROM catalog_generation WHERE id = 1);
END;

CREATE TRIGGER images_generation_update AFTER UPDATE ON images BEGIN
	UPDATE catalog_generation SET generation = generation + 1 WHERE id = 1;
	INSERT INTO image_changes (generation, seq, reshaped)
		SELECT generation, new.seq, NOT (old.seq IS new.seq AND old.id IS new.id
			AND old.image_name IS new.image_name AND old.alias IS new.alias
			AND old.description IS new.description AND old.tags IS new.tags
			AND old.os IS new.os AND old.architecture IS new.architecture
			AND old.variant IS new.variant AND old.prespawn IS new.prespawn
			AND old.price_cents IS new.price_cents AND old.size IS new.size
			AND old.added_date IS new.added_date)
		FROM catalog_generation WHERE id = 1;
	DELETE FROM image_changes WHERE generation <= (SELECT generation - 10000 FROM catalog_generation WHERE id = 1);
END;

CREATE TRIGGER images_generation_delete AFTER DELETE ON images BEGIN
	UPDATE catalog_generation SET generation = generation + 1 WHERE id = 1;
	INSERT INTO image_changes (generation, seq, reshaped)
		SELECT generation, old.seq, 1 FROM catalog_generation WHERE id = 1;
	DELETE FROM image_changes WHERE generation <= (SELECT generation - 10000 FROM catalog_generation WHERE id = 1);
END;
