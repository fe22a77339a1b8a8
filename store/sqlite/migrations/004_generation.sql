-- A counter that moves whenever anything a catalog listing shows changes:
-- images added, changed or removed, and ratings (which update the images'
-- aggregates). Caches of rendered listings are keyed by it, so they stay
-- right even when another process, such as `berth catalog import`, writes.
CREATE TABLE catalog_generation (
	id         INTEGER PRIMARY KEY CHECK (id = 1),
	generation INTEGER NOT NULL
);
INSERT INTO catalog_generation (id, generation) VALUES (1, 1);

CREATE TRIGGER images_generation_insert AFTER INSERT ON images BEGIN
	UPDATE catalog_generation SET generation = generation + 1 WHERE id = 1;
END;
CREATE TRIGGER images_generation_update AFTER UPDATE ON images BEGIN
	UPDATE catalog_generation SET generation = generation + 1 WHERE id = 1;
END;
CREATE TRIGGER images_generation_delete AFTER DELETE ON images BEGIN
	UPDATE catalog_generation SET generation = generation + 1 WHERE id = 1;
END;
