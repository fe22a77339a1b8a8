package listing

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

// A panic while reading a search word fails the listings waiting for it,
// and the next listing reads the word afresh.
func TestTextCachePanicDoesNotWedgeTheWord(t *testing.T) {
	var c textCache
	first := make(chan error, 1)
	go func() {
		defer func() {
			if r := recover(); r != nil {
				first <- fmt.Errorf("the panic reached the caller: %v", r)
			}
		}()
		_, err := c.entry(context.Background(), "wubuntu", func(context.Context) (*textEntry, error) { panic("read broke") })
		first <- err
	}()
	if err := <-first; err == nil || !strings.Contains(err.Error(), "read broke") {
		t.Fatalf("the panicking read gave %v, want an error naming the panic", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	next := make(chan error, 1)
	go func() {
		_, err := c.entry(ctx, "wubuntu", func(context.Context) (*textEntry, error) { return &textEntry{size: 100}, nil })
		next <- err
	}()
	select {
	case err := <-next:
		if err != nil {
			t.Fatalf("the next read failed: %v", err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("the next read of the word was still blocked 2s later")
	}
	if _, ok := c.entries["wubuntu"]; !ok {
		t.Error("the word was not cached after a good read")
	}
}

// A listing waiting for another's read of a word gives up at its own
// deadline; the read still lands in the cache.
func TestTextCacheWaiterLeavesAtItsDeadline(t *testing.T) {
	var c textCache
	release, started := make(chan struct{}), make(chan struct{})
	read := make(chan error, 1)
	go func() {
		_, err := c.entry(context.Background(), "wdebian", func(context.Context) (*textEntry, error) {
			close(started)
			<-release
			return &textEntry{size: 100}, nil
		})
		read <- err
	}()
	<-started
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	begun := time.Now()
	if _, err := c.entry(ctx, "wdebian", func(context.Context) (*textEntry, error) {
		t.Error("a second read ran while the first was under way")
		return &textEntry{size: 1}, nil
	}); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("the waiter gave %v, want its deadline", err)
	}
	if took := time.Since(begun); took > time.Second {
		t.Errorf("the waiter returned %v after a 50ms deadline", took)
	}
	close(release)
	if err := <-read; err != nil {
		t.Fatal(err)
	}
	if _, ok := c.entries["wdebian"]; !ok {
		t.Error("the read was not cached")
	}
}

// TestTextCacheBoundedByBytes checks the search cache evicts the least
// recently used entries past maxTextBytes and computes each key once.
func TestTextCacheBoundedByBytes(t *testing.T) {
	var c textCache
	ctx := context.Background()
	computed := map[string]int{}
	get := func(key string) {
		t.Helper()
		if _, err := c.entry(ctx, key, func(context.Context) (*textEntry, error) {
			computed[key]++
			return &textEntry{size: maxTextBytes / 3}, nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	get("a")
	get("b")
	get("c")
	get("a") // a is now the most recently used
	get("d") // over the bound: b, the least recently used, goes
	if c.bytes > maxTextBytes {
		t.Errorf("holds %d bytes, more than %d", c.bytes, maxTextBytes)
	}
	get("b")
	get("a")
	if computed["a"] != 1 || computed["b"] != 2 {
		t.Errorf("computed a %d times (want 1), b %d times (want 2)", computed["a"], computed["b"])
	}
	if _, err := c.entry(ctx, "bad", func(context.Context) (*textEntry, error) { return nil, fmt.Errorf("boom") }); err == nil {
		t.Error("an error was not returned")
	}
	if _, ok := c.entries["bad"]; ok {
		t.Error("a failed read stays cached")
	}
}

func TestWarmLeavesOutFunctionWordsAndNumbers(t *testing.T) {
	for _, w := range []string{"the", "and", "with", "24", "04", "2027", "s", "js"} {
		if !unsearched(w) {
			t.Errorf("%q would be read ahead", w)
		}
	}
	for _, w := range []string{"ubuntu", "amd64", "k3s", "lts", "x86"} {
		if unsearched(w) {
			t.Errorf("%q would not be read ahead", w)
		}
	}
}
