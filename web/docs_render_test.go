package web

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/berth/berth/store"
)

// TestImageDocsRenderOnce: an image's docs are rendered once per catalog
// generation, however many views and however many at once, and again
// once after the catalog changes. Before, every view rendered them.
func TestImageDocsRenderOnce(t *testing.T) {
	s, db := newTestServer(t)
	var calls atomic.Int64
	render := s.renderDocs
	s.renderDocs = func(md string) (string, error) {
		calls.Add(1)
		return render(md)
	}
	debian := store.ImageID("debian/13", "amd64")
	view := func(id string) string {
		t.Helper()
		rec := do(t, s, http.MethodGet, "/images/"+id, nil)
		if rec.Code != http.StatusOK {
			t.Fatalf("GET /images/%s: %d", id, rec.Code)
		}
		return mustDoc(t, rec).Find(".docs-body").Text()
	}
	first := view(debian)
	if !strings.Contains(first, "About this image") || len(first) < 40 {
		t.Fatalf("docs section %q", first)
	}
	for range 4 {
		if got := view(debian); got != first {
			t.Errorf("docs changed between views: %q", got)
		}
	}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() { view(debian) })
	}
	wg.Wait()
	if n := calls.Load(); n != 1 {
		t.Errorf("13 views rendered the docs %d times, want 1", n)
	}
	view(store.ImageID("debian/13", "arm64"))
	if n := calls.Load(); n != 2 {
		t.Errorf("after another image: %d renders, want 2", n)
	}
	// A catalog change (a new generation) renders them once more.
	setPrice(t, db, cheapImage, 6)
	view(debian)
	view(debian)
	if n := calls.Load(); n != 3 {
		t.Errorf("after a catalog import: %d renders, want 3", n)
	}
}

// TestSlowDocsRenderKeepsTheDeadline: a docs body that takes long to
// render (as 32 KiB of "[a](" takes seconds) does not hold the page: it
// answers after docsWait without the docs, one render runs however many
// ask, a request's own deadline is kept, and the next view after the
// render finished shows the docs. Before, the page waited for the render,
// every time.
func TestSlowDocsRenderKeepsTheDeadline(t *testing.T) {
	s, _ := newTestServer(t)
	release := make(chan struct{})
	var once sync.Once
	free := func() { once.Do(func() { close(release) }) }
	t.Cleanup(free)
	var calls atomic.Int64
	s.renderDocs = func(string) (string, error) {
		calls.Add(1)
		<-release
		return "<p>The slow docs.</p>", nil
	}
	s.docsWait = 300 * time.Millisecond
	id := store.ImageID("debian/13", "amd64")

	// get answers a view, or fails the test when none comes in 3 s.
	get := func(ctx context.Context) (*httptest.ResponseRecorder, time.Duration) {
		t.Helper()
		req := httptest.NewRequest(http.MethodGet, "/images/"+id, nil).WithContext(ctx)
		rec := httptest.NewRecorder()
		done := make(chan struct{})
		start := time.Now()
		go func() { s.Handler().ServeHTTP(rec, req); close(done) }()
		select {
		case <-done:
			return rec, time.Since(start)
		case <-time.After(3 * time.Second):
			free()
			<-done
			t.Fatal("the page waited for the docs to render (no answer in 3 s)")
			return nil, 0
		}
	}
	for i := range 3 {
		rec, took := get(context.Background())
		if rec.Code != http.StatusOK || took > 2*time.Second {
			t.Errorf("view %d: %d in %v, want 200 after about 300 ms", i, rec.Code, took)
		}
		if p := mustDoc(t, rec).Find(".docs-pending").Text(); !strings.Contains(p, "still being prepared") {
			t.Errorf("view %d: no note that the docs are on their way", i)
		}
	}
	// A request with a deadline of its own shorter than docsWait keeps it.
	s.docsWait = time.Minute
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if _, took := get(ctx); took > time.Second {
		t.Errorf("a request with a 200 ms deadline answered after %v", took)
	}
	if n := calls.Load(); n != 1 {
		t.Errorf("%d renders in flight for one body, want 1", n)
	}

	free()
	deadline := time.Now().Add(5 * time.Second)
	for {
		rec, _ := get(context.Background())
		if strings.Contains(rec.Body.String(), "The slow docs.") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the docs never showed after their render finished")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if n := calls.Load(); n != 1 {
		t.Errorf("%d renders, want 1", n)
	}
}
