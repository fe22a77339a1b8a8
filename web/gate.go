package web

import (
	"context"
	"sync/atomic"

	"golang.org/x/sync/semaphore"
)

// gate lets at most a fixed number of requests do uncached work (a listing,
// a render, its compression) at once, and admits the others in the order
// they came. With more runnable requests than cores, Go's scheduler runs
// the newest first, so under load a few requests wait far longer than the
// rest; queueing them here, first come first served, keeps the slowest
// answers close to the median at the same throughput. Cache hits never
// pass through it. semaphore.Weighted queues its waiters in order and
// lets each go when its context ends.
type gate struct {
	sem     *semaphore.Weighted
	size    int
	waiting *atomic.Int64 // requests waiting for a turn
}

// newGate makes a gate for n requests at a time; as many as the cores
// keeps them all busy without interleaving more work than they can run.
func newGate(n int) gate {
	n = max(n, 1)
	return gate{sem: semaphore.NewWeighted(int64(n)), size: n, waiting: new(atomic.Int64)}
}

// enter waits for a turn, or until ctx ends.
func (g gate) enter(ctx context.Context) error {
	g.waiting.Add(1)
	defer g.waiting.Add(-1)
	return g.sem.Acquire(ctx, 1)
}

// leave ends a turn taken with enter.
func (g gate) leave() { g.sem.Release(1) }
