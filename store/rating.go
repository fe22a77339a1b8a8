package store

// Rating bounds: whole stars from 0 to 5; 0 is a rating, not "unrated".
const (
	MinRating = 0
	MaxRating = 5
)

// RatingSummary is an image's rating aggregate after a change.
type RatingSummary struct {
	Rating      int // the caller's own rating
	RatingSum   int64
	RatingCount int64
}

// Average is the mean rating rounded to one decimal.
func (r RatingSummary) Average() float64 {
	return float64(RatingTenths(r.RatingSum, r.RatingCount)) / 10
}
