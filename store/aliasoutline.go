package store

import (
	"context"
	"slices"
	"sync"
)

// AliasOutline keeps, for one catalog generation, the lookups every alias
// suggestion repeats whatever was asked: the catalog's OS names and each
// OS's newest releases. They are a dozen index seeks a miss, half of what a
// miss costs, and they only change with the catalog, which moves the
// generation on. A backend keeps one AliasOutline and hands it to
// WithOutline; the zero value is ready to use.
type AliasOutline struct {
	mu     sync.Mutex
	gen    int64
	ready  bool
	oses   []string
	newest map[newestKey][]string
}

type newestKey struct {
	os string
	n  int
}

// WithOutline returns ix with OSes and NewestReleases answered from o for
// the current generation (as gen reads it), asking ix only for what this
// generation has not read yet. The generation is read before ix, so a
// change made meanwhile is at worst kept under the generation before it,
// which the next read leaves behind.
func WithOutline(ix AliasIndex, o *AliasOutline, gen func(context.Context) (int64, error)) AliasIndex {
	return outlined{AliasIndex: ix, o: o, gen: gen}
}

type outlined struct {
	AliasIndex
	o   *AliasOutline
	gen func(context.Context) (int64, error)
}

func (ix outlined) OSes(ctx context.Context) ([]string, error) {
	g, err := ix.gen(ctx)
	if err != nil {
		return nil, err
	}
	if oses, ok := ix.o.lookup(g, func(o *AliasOutline) ([]string, bool) { return o.oses, o.oses != nil }); ok {
		return oses, nil
	}
	oses, err := ix.AliasIndex.OSes(ctx)
	if err != nil {
		return nil, err
	}
	if oses == nil {
		oses = []string{}
	}
	ix.o.store(g, func(o *AliasOutline) { o.oses = oses })
	return slices.Clip(oses), nil
}

func (ix outlined) NewestReleases(ctx context.Context, os string, n int) ([]string, error) {
	g, err := ix.gen(ctx)
	if err != nil {
		return nil, err
	}
	k := newestKey{os, n}
	if rs, ok := ix.o.lookup(g, func(o *AliasOutline) ([]string, bool) { rs, ok := o.newest[k]; return rs, ok }); ok {
		return rs, nil
	}
	rs, err := ix.AliasIndex.NewestReleases(ctx, os, n)
	if err != nil {
		return nil, err
	}
	ix.o.store(g, func(o *AliasOutline) { o.newest[k] = rs })
	return slices.Clip(rs), nil
}

// lookup returns what get finds when o holds generation g. Callers only
// read the slices it returns.
func (o *AliasOutline) lookup(g int64, get func(*AliasOutline) ([]string, bool)) ([]string, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if !o.ready || o.gen != g {
		return nil, false
	}
	rs, ok := get(o)
	return slices.Clip(rs), ok
}

// store records what set sets under generation g, forgetting any other
// generation first: what is kept is only ever served at the generation it
// was read at.
func (o *AliasOutline) store(g int64, set func(*AliasOutline)) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if !o.ready || o.gen != g {
		o.gen, o.ready, o.oses, o.newest = g, true, nil, map[newestKey][]string{}
	}
	set(o)
}
