-- Rate limits shared by every instance on this database (store.SharedLimiter):
-- one row per bucket and key (a hash: keys name addresses and accounts),
-- holding the "theoretical arrival time" of the generic cell rate
-- algorithm: the bucket is full again once tat has passed, so rows with
-- tat in the past are the same as no row and are swept.
CREATE TABLE rate_limits (
	bucket TEXT NOT NULL,
	key    TEXT NOT NULL,
	tat    TIMESTAMPTZ NOT NULL,
	PRIMARY KEY (bucket, key)
);
CREATE INDEX rate_limits_tat ON rate_limits (tat);
