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
