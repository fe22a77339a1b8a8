package web

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestGateBoundsConcurrentWork(t *testing.T) {
	g := newGate(2)
	ctx := context.Background()
	var inside, most atomic.Int32
	var wg sync.WaitGroup
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := g.enter(ctx); err != nil {
				t.Error(err)
				return
			}
			n := inside.Add(1)
			for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
			}
			time.Sleep(time.Millisecond)
			inside.Add(-1)
			g.leave()
		}()
	}
	wg.Wait()
	if m := most.Load(); m != 2 {
		t.Errorf("%d at once inside a gate of 2", m)
	}
}

func TestGateWaitEndsWithContext(t *testing.T) {
	g := newGate(1)
	if err := g.enter(context.Background()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if err := g.enter(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("entering a full gate gave %v, want the context's deadline", err)
	}
	g.leave()
	if err := g.enter(context.Background()); err != nil {
		t.Fatalf("the gate stayed full after leave: %v", err)
	}
}

// A request waiting for another's answer is not failed when that other
// request goes away: it works the answer out itself.
func TestCachedSurvivesTheWorkersLeaving(t *testing.T) {
	s, _ := newTestServer(t)
	ctx := context.Background()
	for range cap(s.work) { // every turn taken: the first asker waits in the gate
		s.work.enter(ctx)
	}
	leaderCtx, cancel := context.WithCancel(ctx)
	compute := func() ([]byte, error) { return []byte("answer"), nil }
	leader := make(chan error)
	go func() {
		_, err := s.cached(leaderCtx, "k", 1, "", compute)
		leader <- err
	}()
	for waiting := false; !waiting; time.Sleep(time.Millisecond) {
		s.cache.mu.Lock()
		waiting = len(s.cache.inflight) == 1
		s.cache.mu.Unlock()
	}
	follower := make(chan *answer)
	go func() {
		a, err := s.cached(ctx, "k", 1, "", compute)
		if err != nil {
			t.Errorf("the follower failed: %v", err)
		}
		follower <- a
	}()
	time.Sleep(20 * time.Millisecond) // the follower waits for the leader
	cancel()
	if err := <-leader; !errors.Is(err, context.Canceled) {
		t.Fatalf("the leader gave %v, want its context's end", err)
	}
	for range cap(s.work) {
		s.work.leave()
	}
	if a := <-follower; a == nil || string(a.body) != "answer" {
		t.Fatalf("the follower got %v", a)
	}
}
