package web

import (
	"context"
	"errors"
	"fmt"
	"strings"
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
	for range s.work.size { // every turn taken: the first asker waits in the gate
		s.work.enter(ctx)
	}
	leaderCtx, cancel := context.WithCancel(ctx)
	compute := func() ([]byte, error) { return []byte("answer"), nil }
	leader := make(chan error)
	go func() {
		_, err := s.cached(leaderCtx, "k", 1, "", compute)
		leader <- err
	}()
	for s.work.waiting.Load() != 1 {
		time.Sleep(time.Millisecond)
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
	for range s.work.size {
		s.work.leave()
	}
	if a := <-follower; a == nil || string(a.body) != "answer" {
		t.Fatalf("the follower got %v", a)
	}
}

// A request waiting for another's answer gives up at its own deadline,
// however long that answer takes.
func TestCacheWaiterLeavesAtItsDeadline(t *testing.T) {
	s, _ := newTestServer(t)
	release := make(chan struct{})
	defer close(release)
	started := make(chan struct{})
	go s.cached(context.Background(), "k", 1, "", func() ([]byte, error) {
		close(started)
		<-release // stuck until the test ends
		return []byte("late"), nil
	})
	<-started
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	begun := time.Now()
	done := make(chan error, 1)
	go func() {
		_, err := s.cached(ctx, "k", 1, "", func() ([]byte, error) { return []byte("mine"), nil })
		done <- err
	}()
	select {
	case err := <-done:
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("the waiter gave %v, want its deadline", err)
		}
		if took := time.Since(begun); took > time.Second {
			t.Errorf("the waiter returned %v after a 100ms deadline", took)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("the waiter was still waiting 2s after its 100ms deadline")
	}
}

// A panic while working out an answer fails that request, and the next
// request for the same key works its answer out within its deadline.
func TestCachePanicDoesNotWedgeTheKey(t *testing.T) {
	s, _ := newTestServer(t)
	first := make(chan error, 1)
	go func() {
		defer func() {
			if r := recover(); r != nil {
				first <- fmt.Errorf("the panic reached the caller: %v", r)
			}
		}()
		_, err := s.cached(context.Background(), "k", 1, "", func() ([]byte, error) { panic("render broke") })
		first <- err
	}()
	if err := <-first; err == nil || !strings.Contains(err.Error(), "render broke") {
		t.Fatalf("the panicking fill gave %v, want an error naming the panic", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	next := make(chan *answer, 1)
	go func() {
		a, err := s.cached(ctx, "k", 1, "", func() ([]byte, error) { return []byte("answer"), nil })
		if err != nil {
			t.Errorf("the next request failed: %v", err)
		}
		next <- a
	}()
	select {
	case a := <-next:
		if a == nil || string(a.body) != "answer" {
			t.Fatalf("the next request got %v", a)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("the next request for the key was still blocked 2s later")
	}
}
