-- Listings come from the in-memory listing index (listindex.go), which
-- keeps every sort order itself; SQL answers them only while that index
-- builds. The indexes led by os that 005 added for SQL listings are no
-- longer worth their space (about 40 MB each at a million images), the
-- time to build them, or the writes each rating makes to them.
DROP INDEX images_os_name;
DROP INDEX images_os_price;
DROP INDEX images_os_price_desc;
DROP INDEX images_os_rating;
DROP INDEX images_os_rating_desc;
DROP INDEX images_os_size;
DROP INDEX images_os_size_desc;
DROP INDEX images_os_added;
DROP INDEX images_os_added_desc;
DROP INDEX images_os_popularity;
DROP INDEX images_os_popularity_desc;
