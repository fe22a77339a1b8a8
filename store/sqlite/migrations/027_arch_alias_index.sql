-- The neighbours of an alias on one architecture, for alias suggestions: a
-- seek of this index. Filtered out of (alias, architecture) instead, an
-- alias on a rare architecture (armhf) walked past every row of the others.
CREATE INDEX images_arch_alias ON images (architecture, alias);
