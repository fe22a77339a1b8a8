-- Vouchers: one-time codes worth an amount, redeemed into one wallet. Only
-- the SHA-256 of a code is kept; hint is its last four characters, for the
-- ledger memo and the operator.
CREATE TABLE vouchers (
	id           INTEGER PRIMARY KEY,
	code_hash    TEXT NOT NULL UNIQUE,
	hint         TEXT NOT NULL,
	amount_cents INTEGER NOT NULL CHECK (amount_cents > 0),
	created_at   TEXT NOT NULL,
	expires_at   TEXT,
	redeemed_by  INTEGER REFERENCES users (id),
	redeemed_at  TEXT,
	CHECK ((redeemed_by IS NULL) = (redeemed_at IS NULL))
);
CREATE INDEX vouchers_redeemed_by ON vouchers (redeemed_by) WHERE redeemed_by IS NOT NULL;
