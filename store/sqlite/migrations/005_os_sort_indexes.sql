-- Nearly every listing filters by operating system, and sort keys follow
-- it closely (Alpine images are small and come first by name, Ubuntu's are
-- large). Walking a plain sort index for one OS can pass most of the table
-- before the page fills, so each sort also has an index that starts with
-- the OS: an equality on os then reads rows already in order.
CREATE INDEX images_os_name ON images (os, image_name, id);
CREATE INDEX images_os_price ON images (os, price_cents, image_name, id);
CREATE INDEX images_os_price_desc ON images (os, price_cents DESC, image_name, id);
CREATE INDEX images_os_rating ON images (os, rating_tenths, rating_count, image_name, id);
CREATE INDEX images_os_rating_desc ON images (os, rating_tenths DESC, rating_count DESC, image_name, id);
CREATE INDEX images_os_size ON images (os, size, image_name, id);
CREATE INDEX images_os_size_desc ON images (os, size DESC, image_name, id);
CREATE INDEX images_os_added ON images (os, added_date, image_name, id);
CREATE INDEX images_os_added_desc ON images (os, added_date DESC, image_name, id);
CREATE INDEX images_os_popularity ON images (os, popularity, image_name, id);
CREATE INDEX images_os_popularity_desc ON images (os, popularity DESC, image_name, id);
