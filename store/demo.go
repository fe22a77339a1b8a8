package store

// DemoResult reports what SeedDemo did.
type DemoResult struct {
	Created      bool
	Email        string
	Password     string // only when Created
	BalanceCents int64
	Raters       int
	Images       int
	Ratings      int
}
