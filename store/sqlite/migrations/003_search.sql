-- Full-text search over what people search by: name, alias, description
-- and tags. The index holds no copy of the text (external content); the
-- triggers keep it in step with the images table.
CREATE VIRTUAL TABLE images_fts USING fts5(
	image_name, alias, description, tags,
	content = 'images', content_rowid = 'seq',
	tokenize = 'unicode61 remove_diacritics 2'
);

CREATE TRIGGER images_fts_insert AFTER INSERT ON images BEGIN
	INSERT INTO images_fts (rowid, image_name, alias, description, tags)
	VALUES (new.seq, new.image_name, new.alias, new.description, new.tags);
END;

CREATE TRIGGER images_fts_delete AFTER DELETE ON images BEGIN
	INSERT INTO images_fts (images_fts, rowid, image_name, alias, description, tags)
	VALUES ('delete', old.seq, old.image_name, old.alias, old.description, old.tags);
END;

CREATE TRIGGER images_fts_update AFTER UPDATE OF image_name, alias, description, tags ON images BEGIN
	INSERT INTO images_fts (images_fts, rowid, image_name, alias, description, tags)
	VALUES ('delete', old.seq, old.image_name, old.alias, old.description, old.tags);
	INSERT INTO images_fts (rowid, image_name, alias, description, tags)
	VALUES (new.seq, new.image_name, new.alias, new.description, new.tags);
END;

INSERT INTO images_fts (images_fts) VALUES ('rebuild');
