package listing

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// Engine holds a backend's listing index and builds it in the background:
// at start, and again after the catalog changes other than by ratings.
// Until it is ready, the backend answers listings with SQL.
type Engine struct {
	src      Source
	log      func() *slog.Logger
	mu       sync.Mutex
	idx      *Index
	building bool
	failedAt time.Time     // of the last failed build; retried a little later
	took     time.Duration // by the last successful build
	failures atomic.Int64  // builds that failed, for metrics
	ctx      context.Context
	stop     context.CancelFunc
	done     sync.WaitGroup
}

// retryBuild is how long after a failed build the next one starts.
const retryBuild = 5 * time.Second

// New returns an engine over src that has built nothing yet. log gives
// the logger for what goes wrong in the background (a failed build,
// warm-up or catch-up), asked at each use so the backend can change it.
func New(src Source, log func() *slog.Logger) *Engine {
	e := &Engine{src: src, log: log}
	e.ctx, e.stop = context.WithCancel(context.Background())
	return e
}

// Close stops the background work and waits for it to end. The backend
// calls it before closing its database.
func (e *Engine) Close() {
	e.stop()
	e.done.Wait()
}

// Wait waits for the background work started so far to end.
func (e *Engine) Wait() { e.done.Wait() }

// Prepare starts building the index in the background, so the first
// listings after start-up already use it.
func (e *Engine) Prepare() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.startBuild()
}

// startBuild starts a build unless one runs. Callers hold mu.
func (e *Engine) startBuild() {
	if e.building || e.ctx.Err() != nil || time.Since(e.failedAt) < retryBuild {
		return
	}
	e.building = true
	e.done.Add(1)
	go func() {
		defer e.done.Done()
		start := time.Now()
		x, err := build(e.ctx, e.src)
		e.mu.Lock()
		e.building = false
		if err != nil {
			e.failedAt = time.Now()
			e.mu.Unlock()
			if e.ctx.Err() == nil { // not the database closing
				e.failures.Add(1)
				e.log().Error("listing index build failed; listings use SQL until a later build succeeds",
					"err", err, "retry_after", retryBuild)
			}
			return
		}
		e.idx, e.took = x, time.Since(start)
		e.mu.Unlock()
		// In use already; a failure here only leaves words to read on demand.
		if err := x.warm(e.ctx); err != nil && e.ctx.Err() == nil {
			e.log().Warn("listing index warm-up failed; common search words are read on first use", "err", err)
		}
	}()
}

// BuildFailures counts the builds of the index that failed since the
// engine started (each is logged, and retried).
func (e *Engine) BuildFailures() int64 { return e.failures.Load() }

// Status reports whether listings are served from the index (rather than
// SQL while it builds) and how long its last build took.
func (e *Engine) Status() (ready bool, lastBuild time.Duration) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.idx != nil, e.took
}

// Index returns the index brought up to generation gen, or nil when there
// is none yet (one is then being built).
func (e *Engine) Index(ctx context.Context, gen int64) *Index {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.idx != nil && e.idx.gen < gen {
		if err := e.idx.catchUp(ctx); err != nil {
			if ctx.Err() != nil {
				return nil // the caller left; the index itself is fine
			}
			if !errors.Is(err, errReshaped) {
				e.log().Warn("listing index could not catch up with the catalog; rebuilding it", "err", err)
			}
			e.idx.retired.Store(true)
			e.idx = nil // reshaped or unreadable: rebuild
		}
	}
	if e.idx == nil {
		e.startBuild()
		return nil
	}
	return e.idx
}

// BuildNow builds the index and puts it in use at once, for tests.
func (e *Engine) BuildNow(ctx context.Context) (*Index, error) {
	x, err := build(ctx, e.src)
	if err != nil {
		return nil, err
	}
	e.mu.Lock()
	if old := e.idx; old != nil {
		old.retired.Store(true)
	}
	e.idx = x
	e.mu.Unlock()
	return x, nil
}
