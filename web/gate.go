package web

import "context"

// gate lets at most a fixed number of requests do uncached work (a listing,
// a render, its compression) at once, and admits the others in the order
// they came. With more runnable requests than cores, Go's scheduler runs
// the newest first, so under load a few requests wait far longer than the
// rest; queueing them here, first come first served, keeps the slowest
// answers close to the median at the same throughput. Cache hits never
// pass through it.
type gate chan struct{}

// newGate makes a gate for n requests at a time; as many as the cores
// keeps them all busy without interleaving more work than they can run.
func newGate(n int) gate { return make(gate, max(n, 1)) }

// enter waits for a turn, or until ctx ends. Waiting senders on a channel
// are woken in the order they came.
func (g gate) enter(ctx context.Context) error {
	select {
	case g <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// leave ends a turn taken with enter.
func (g gate) leave() { <-g }
