-- Found by the plan test (plan_all_test.go). A lineage follows based_on
-- from an alias to the images built on it; nearly every image has none
-- (based_on = ''), so the planner, told that most of the index is one
-- value, read the whole table for each step of the recursion (13 ms at
-- 20,000 images). The index now holds only the images that have a
-- parent, and the lineage query asks for based_on <> '' to use it
-- (1.7 ms), a fraction of the size of the index it replaces.
DROP INDEX images_based_on;
CREATE INDEX images_based_on ON images (based_on) WHERE based_on <> '';
