-- The listing index follows a change in place (re-reading the image's
-- ratings) only when nothing but the ratings changed; any other column,
-- shown by listings or not, marks the change reshaped and the index
-- rebuilds, dropping the images it kept encoded (listIndex.rows). 006
-- listed only the columns the index sorts and filters by, so a change of
-- security, pull_ref, features, serial, release, based_on or docs left
-- listings showing the old values. Every stored column but the ratings is
-- compared here; TestOnlyRatingChangesAreFollowedInPlace fails when a
-- column is added without being compared.
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
			AND old.security IS new.security AND old.docs IS new.docs)
		FROM catalog_generation WHERE id = 1;
	DELETE FROM image_changes WHERE generation <= (SELECT generation - 10000 FROM catalog_generation WHERE id = 1);
END;
