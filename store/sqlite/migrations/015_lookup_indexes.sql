-- Lookups off the listing path, each by index rather than a scan of images:
-- an alias (the image page's variant chooser, aliases and their
-- suggestions), the images based on one (lineage), and a pull reference
-- typed where an alias belongs.
CREATE INDEX images_alias ON images (alias, architecture);
CREATE INDEX images_based_on ON images (based_on);
CREATE INDEX images_pull_ref ON images (pull_ref) WHERE pull_ref != '';

-- Foreign keys to images are checked from the child side whenever an image
-- row is updated (a catalog import): without these, every updated image
-- scanned the whole ledger, and library by a skip-scan.
CREATE INDEX ledger_image ON ledger (image_id);
CREATE INDEX library_image ON library (image_id);
