package listing

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/berth/berth/store"
	"github.com/berth/berth/store/listing/bitset"
)

// Index answers catalog listings from memory. A database walks one index
// per query, so a listing that filters on a few columns, searches words and
// sorts by a third thing reads far more rows than it shows once the catalog
// is large; here every filter is a set of rows, a listing intersects the
// sets and counts the result exactly, then walks the sort order until the
// page is full. Rows are named by the source's row numbers. The page's
// images themselves are read from the source by row, or kept from a recent
// listing (see listed).
//
// The index reflects one catalog generation. After a rating it catches up
// through the change feed (see catchUp); any other change to the catalog
// means a rebuild, and listings go through the backend's SQL meanwhile.
type Index struct {
	src      Source
	gen      int64
	capacity int // largest seq + 1: the size of every set

	// Fixed for the life of the index.
	all       *bitset.Set
	os        map[string]*bitset.Set
	arch      map[string]*bitset.Set
	variant   map[string]*bitset.Set
	prespawn  *bitset.Set
	priceSets map[int64]*bitset.Set // rows by price in cents, when few prices
	price     []int64               // cents by seq, when priceSets is nil
	nameRank  []int32               // position in name order (image_name, id), by seq
	// For grouped listings (see listgroup.go): each seq's architecture
	// rank, the seqs of its alias's builds by architecture (nArch a seq,
	// 0 for none), and the rows whose alias has a build listed before them.
	rankOf []uint8
	sibs   []int32
	later  *bitset.Set
	// The rows of later by where their earlier builds lie (see
	// readNearBuilds): at seq+d for each d of nearBuilds, or elsewhere.
	nearBuilds map[int]*bitset.Set
	farBuilds  []int32
	text       textCache
	scratch    sync.Pool   // *bitset.Set of capacity
	retired    atomic.Bool // set once another index replaces it: its warm-up stops

	// The rows the lifecycle filters keep (see listlife.go).
	life lifecycleSets

	// Images listed lately, as read from the source; their ratings are taken
	// from the index when they are listed again (see listed).
	rowsMu  sync.Mutex
	rows    rowCache // encoded by encodeRow, within listedBytes
	dropped uint64   // moved by forget, so rows read before it are not kept

	// Moved by ratings, under mu.
	mu           sync.RWMutex
	ratingSum    []int32
	ratingCount  []int32
	tenths       []uint8                          // average rating in tenths, as rating_tenths
	ratedAtLeast [store.MaxRating + 1]*bitset.Set // [k]: rows rated k stars or more on average
	// Each sort key's ascending order (key, then name and id) as seqs.
	// Descending orders read its runs of equal keys from last to first,
	// each run still by name and id as SQL sorts ties, so they take no
	// memory of their own. Where runs start is kept for price, size and
	// date (starts), found by binary search on the keys held here for the
	// ratings, which move, and needless for names, which are unique.
	orders map[string][]int32
	starts map[string]*bitset.Set
	// Each seq's block in each order (see walk), moved with the orders.
	blocks   map[string][]uint8
	blockLen int
	// walkBudget is how many order entries a walk passes before it counts
	// the listing's rows by block; tests set it to 0 to count at once.
	walkBudget func(total int) int
}

// maxValueSets bounds the sets kept per distinct price: a price filter then
// joins the sets of the prices in its range. Catalogs have a handful of
// prices; with more than this, a price range checks each candidate row.
const maxValueSets = 256

// build reads the catalog from one snapshot of src, so every part of the
// index sees the same catalog, the generation included.
func build(ctx context.Context, src Source) (*Index, error) {
	snap, err := src.Snapshot(ctx)
	if err != nil {
		return nil, fmt.Errorf("build listing index: %w", err)
	}
	defer snap.Close()
	x := &Index{src: src, os: map[string]*bitset.Set{}, arch: map[string]*bitset.Set{}, variant: map[string]*bitset.Set{},
		priceSets: map[int64]*bitset.Set{}, orders: map[string][]int32{}, starts: map[string]*bitset.Set{}}
	x.gen = snap.Generation()
	maxSeq := snap.MaxSeq()
	if maxSeq >= 1<<31-1 {
		return nil, fmt.Errorf("build listing index: row numbers up to %d do not fit", maxSeq)
	}
	n := int(maxSeq) + 1
	x.capacity = n
	x.all, x.prespawn = bitset.New(n), bitset.New(n)
	x.nameRank = make([]int32, n)
	x.ratingSum, x.ratingCount, x.tenths = make([]int32, n), make([]int32, n), make([]uint8, n)
	for i := range x.ratedAtLeast {
		x.ratedAtLeast[i] = bitset.New(n)
	}
	x.scratch.New = func() any { return bitset.New(n) }

	// The sets come grouped from the source, each in one piece rather than
	// row by row.
	for _, eq := range []struct {
		field Field
		sets  map[string]*bitset.Set
	}{{FieldOS, x.os}, {FieldArchitecture, x.arch}, {FieldVariant, x.variant}} {
		if err := snap.Groups(ctx, eq.field, n, func(value string, s *bitset.Set) { eq.sets[value] = s }); err != nil {
			return nil, fmt.Errorf("build listing index: %w", err)
		}
	}
	for _, s := range x.os {
		x.all.Or(s)
	}
	if err := snap.Groups(ctx, FieldPrespawn, n, func(value string, s *bitset.Set) {
		if value == "1" {
			x.prespawn = s
		}
	}); err != nil {
		return nil, fmt.Errorf("build listing index: %w", err)
	}
	prices, err := snap.Distinct(ctx, FieldPrice)
	if err != nil {
		return nil, fmt.Errorf("build listing index: %w", err)
	}
	if prices <= maxValueSets {
		err = snap.Groups(ctx, FieldPrice, n, func(value string, s *bitset.Set) {
			cents, _ := strconv.ParseInt(value, 10, 64)
			x.priceSets[cents] = s
		})
	} else {
		x.priceSets, x.price = nil, make([]int64, n)
		err = snap.Values(ctx, FieldPrice, func(seq int, cents int64) { x.price[seq] = cents })
	}
	if err != nil {
		return nil, fmt.Errorf("build listing index: prices: %w", err)
	}
	if err := x.readLifecycle(ctx, snap, n); err != nil {
		return nil, fmt.Errorf("build listing index: lifecycle: %w", err)
	}
	if err := x.readAliases(ctx, snap); err != nil {
		return nil, fmt.Errorf("build listing index: aliases: %w", err)
	}
	x.ratedAtLeast[0].CopyFrom(x.all)
	if err := snap.Ratings(ctx, x.setRating); err != nil {
		return nil, fmt.Errorf("build listing index: ratings: %w", err)
	}

	// Each order comes from the source, which defines it once for its own
	// listings too, with where its runs of equal keys start.
	for _, key := range store.SortKeys {
		seqs, runs, err := snap.Order(ctx, key)
		if err != nil {
			return nil, fmt.Errorf("build listing index: order by %s: %w", key, err)
		}
		x.orders[key] = seqs
		if key != store.SortName && !ratingKeyed(key) {
			x.starts[key] = runs
		}
	}
	for i, s := range x.orders[store.SortName] {
		x.nameRank[s] = int32(i)
	}
	x.blocks = map[string][]uint8{}
	x.blockLen = max(1, (len(x.orders[store.SortName])+orderBlocks-1)/orderBlocks)
	for key, ord := range x.orders {
		x.blocks[key] = blockOf(ord, n, x.blockLen)
	}
	// Counting costs a few nanoseconds a row, walking about one an entry.
	x.walkBudget = func(total int) int { return 4*total + 4096 }
	x.rows = newRowCache(listedBytes)
	return x, nil
}

// setRating records an image's rating aggregates and the average in tenths
// (store.RatingTenths). Callers hold mu or own x.
func (x *Index) setRating(seq int, sum, count int64) {
	tenths := store.RatingTenths(sum, count)
	for k := 1; k <= store.MaxRating; k++ {
		if tenths >= int64(10*k) {
			x.ratedAtLeast[k].Add(seq)
		} else {
			x.ratedAtLeast[k].Remove(seq)
		}
	}
	x.ratingSum[seq], x.ratingCount[seq], x.tenths[seq] = int32(sum), int32(count), uint8(tenths)
}

// ratingKey compares two images by a rating-derived sort key, as SQL
// computes it: the average in tenths then the count, or popularity.
func (x *Index) ratingKey(key string, a, b int32) int {
	if key == store.SortRating {
		if c := cmp.Compare(x.tenths[a], x.tenths[b]); c != 0 {
			return c
		}
		return cmp.Compare(x.ratingCount[a], x.ratingCount[b])
	}
	pa := store.Popularity(int64(x.ratingSum[a]), int64(x.ratingCount[a]))
	pb := store.Popularity(int64(x.ratingSum[b]), int64(x.ratingCount[b]))
	return cmp.Compare(pa, pb)
}

// ratingKeyed reports whether a sort key is derived from ratings.
func ratingKeyed(key string) bool { return key == store.SortRating || key == store.SortPopularity }

// runStart returns where the run of equal keys that ends at end (excluded)
// starts in key's ascending order. Callers hold mu.
func (x *Index) runStart(key string, end int) int {
	ord := x.orders[key]
	if starts := x.starts[key]; starts != nil {
		return starts.Prev(end - 1)
	}
	last := ord[end-1]
	return sort.Search(end, func(i int) bool { return x.ratingKey(key, ord[i], last) >= 0 })
}

// rerate moves an image whose ratings changed to its new place in the
// orders that depend on them. Callers hold mu for writing.
func (x *Index) rerate(seq int, sum, count int64) {
	keys := []string{store.SortRating, store.SortPopularity}
	s := int32(seq)
	less := func(key string) func(e, t int32) int {
		return func(e, t int32) int {
			if c := x.ratingKey(key, e, t); c != 0 {
				return c
			}
			return cmp.Compare(x.nameRank[e], x.nameRank[t])
		}
	}
	var at [2]int
	for i, key := range keys {
		ord := x.orders[key]
		n, found := slices.BinarySearchFunc(ord, s, less(key))
		if !found || ord[n] != s {
			// The order and the aggregates disagree, which would be a
			// bug; find it by a scan so the index stays right.
			n = slices.Index(ord, s)
		}
		at[i] = n
	}
	x.setRating(seq, sum, count)
	for i, key := range keys {
		ord := slices.Delete(x.orders[key], at[i], at[i]+1)
		n, _ := slices.BinarySearchFunc(ord, s, less(key))
		ord = slices.Insert(ord, n, s)
		x.orders[key] = ord
		reblock(x.blocks[key], ord, x.blockLen, min(at[i], n), max(at[i], n))
		x.blocks[key][s] = uint8(n / x.blockLen)
	}
}

// errReshaped means the catalog changed in a way only a rebuild follows.
var errReshaped = errors.New("catalog reshaped")

// catchUp brings the index to the catalog's current generation when only
// ratings moved since it was built, taking the rated images' ratings from
// the change feed; otherwise it returns errReshaped.
func (x *Index) catchUp(ctx context.Context) error {
	ch, err := x.src.ChangesSince(ctx, x.gen)
	if err != nil {
		return err
	}
	if ch.Generation == x.gen {
		return nil
	}
	if ch.Reshaped {
		return errReshaped
	}
	for _, r := range ch.Rated {
		if r.Seq < 0 || r.Seq >= int64(x.capacity) || !x.all.Has(int(r.Seq)) {
			return errReshaped
		}
	}
	// Only ratings moved, which listed images take from the index; their
	// rows are dropped anyway, so no change of any column can leave one
	// showing old values should a backend ever miss one in Reshaped.
	seqs := make([]int64, len(ch.Rated))
	for i, r := range ch.Rated {
		seqs[i] = r.Seq
	}
	x.forget(seqs)
	x.mu.Lock()
	defer x.mu.Unlock()
	for _, r := range ch.Rated {
		if int64(x.ratingSum[r.Seq]) != r.Sum || int64(x.ratingCount[r.Seq]) != r.Count {
			x.rerate(int(r.Seq), r.Sum, r.Count)
		}
	}
	x.gen = ch.Generation
	return nil
}

// listedBytes bounds the images kept in Index.rows, encoded (see
// encodeRow): about a hundred thousand of them, in two generations. A small catalog keeps all
// it lists; at a million images, the first pages of common listings, which
// most visits ask for, are read from the database once. (When this budget
// was shared with the index, which takes some 60 MB at a million images,
// only the floor of 2 MB was left, and a page read most of its images from
// the database: a fifth of a catalog page's time.)
const listedBytes = 32 << 20

// bytes estimates the memory the index holds: its orders, its per-row
// arrays and its sets.
func (x *Index) bytes() int {
	sets := 3 + len(x.os) + len(x.arch) + len(x.variant) + len(x.priceSets) + len(x.ratedAtLeast) + len(x.starts) +
		len(x.nearBuilds)
	return x.capacity*(4*len(x.orders)+len(x.blocks)+4+4+4+1+1+4*nArch+8*min(1, len(x.price))) + sets*x.capacity/8 +
		4*len(x.farBuilds) + x.lifecycleBytes()
}

// forget drops the kept rows of changed images, and keeps listings that
// read rows before from keeping what they read (see listed).
func (x *Index) forget(seqs []int64) {
	x.rowsMu.Lock()
	defer x.rowsMu.Unlock()
	x.dropped++
	for _, s := range seqs {
		x.rows.drop(s)
	}
}

// listedImage is an image read for a listing, with its seq.
type listedImage struct {
	seq int64
	img *store.Image
}

// listed returns the images with the given seqs, in that order. Images
// listed lately are decoded from memory, the others read from src at once.
// Any change of an image but its ratings rebuilds the index and so empties
// this cache (the change feed marks it Reshaped), and catchUp drops the
// rows of the images whose ratings moved; ratings are copied from the
// index. Images removed since the index's generation are left out.
func (x *Index) listed(ctx context.Context, seqs []int64) ([]listedImage, error) {
	found := make(map[int64]*store.Image, len(seqs))
	var missing []int64
	kept := map[int64][]byte{}
	x.rowsMu.Lock()
	dropped := x.dropped // a row read from SQLite may predate a later forget
	for _, s := range seqs {
		if b, ok := x.rows.get(s); ok {
			kept[s] = b
		} else {
			missing = append(missing, s)
		}
	}
	x.rowsMu.Unlock()
	for s, b := range kept {
		img, err := decodeRow(b)
		if err != nil {
			return nil, err
		}
		found[s] = img
	}
	if len(missing) > 0 {
		read, err := x.src.Images(ctx, missing)
		if err != nil {
			return nil, err
		}
		maps.Copy(found, read)
		encoded := make(map[int64][]byte, len(missing))
		for _, s := range missing {
			if img, ok := found[s]; ok {
				encoded[s] = encodeRow(img)
			}
		}
		x.rowsMu.Lock()
		if x.dropped != dropped {
			clear(encoded) // read before a change that forget saw: maybe stale
		}
		for s, b := range encoded {
			x.rows.put(s, b)
		}
		x.rowsMu.Unlock()
	}
	out := make([]listedImage, 0, len(seqs))
	x.mu.RLock()
	defer x.mu.RUnlock()
	for _, s := range seqs {
		if img, ok := found[s]; ok {
			img.RatingSum, img.RatingCount = int64(x.ratingSum[s]), int64(x.ratingCount[s])
			out = append(out, listedImage{s, img})
		}
	}
	return out, nil
}

// Find returns the page of images that match f, and how many match, the
// count exact. Lookups by alias are the backend's own (one index seek
// there): Find leaves f.Alias out, so callers answer those themselves.
func (x *Index) Find(ctx context.Context, f store.Filter) (store.ImagePage, error) {
	page := store.ImagePage{Page: f.PageNumber(), Limit: f.PageLimit(), Images: []*store.Image{}}
	var match *textMatch
	if words := store.SearchWords(f.Search); len(words) > 0 {
		var err error
		if match, err = x.text.get(ctx, x.src, words, x.capacity); err != nil {
			return page, err
		}
	}
	fd := x.findPage(f, match)
	seqs := fd.seqs
	page.Total = fd.total
	if f.Group != "" {
		page.Grouped, page.BuildTotal, page.Builds = true, fd.builds, [][]*store.Image{}
	}
	if len(seqs) == 0 {
		return page, nil
	}
	// The other builds of a grouped page's aliases are read with the
	// page's own images, in one read of the source.
	want := slices.Clip(seqs)
	for i, g := range fd.groups {
		for _, s := range g {
			if s != seqs[i] {
				want = append(want, s)
			}
		}
	}
	found, err := x.listed(ctx, want)
	if err != nil {
		return page, err
	}
	// listed leaves out images removed since the index was built, so the
	// page's images are told from the builds by seq, not by place.
	onPage := make(map[int64]bool, len(seqs))
	for _, s := range seqs {
		onPage[s] = true
	}
	var builds []*store.Image
	for _, l := range found {
		if onPage[l.seq] {
			page.Images = append(page.Images, l.img)
		} else {
			builds = append(builds, l.img)
		}
	}
	if f.Group != "" {
		store.GroupBuilds(&page, builds)
	}
	return page, nil
}

// Generation is the catalog generation the index reflects.
func (x *Index) Generation() int64 {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return x.gen
}

// keepPrices removes from set the rows priced outside lo to hi. With a
// set per price, a large set is intersected with the join of the prices in
// range and a small one checked row by row against them; without, each
// row's price is checked.
func (x *Index) keepPrices(set *bitset.Set, lo, hi int64) {
	if x.priceSets == nil {
		set.Each(func(i int) bool {
			if p := x.price[i]; p < lo || p > hi {
				set.Remove(i)
			}
			return true
		})
		return
	}
	var in []*bitset.Set
	for cents, s := range x.priceSets {
		if cents >= lo && cents <= hi {
			in = append(in, s)
		}
	}
	if set.Count() >= x.capacity/64 {
		union := x.scratch.Get().(*bitset.Set)
		defer x.scratch.Put(union)
		union.Clear()
		for _, s := range in {
			union.Or(s)
		}
		set.And(union)
		return
	}
	set.Each(func(i int) bool {
		for _, s := range in {
			if s.Has(i) {
				return true
			}
		}
		set.Remove(i)
		return true
	})
}

// find returns the seqs of the images on f's page, in order, and how many
// images match f. match holds the rows that match f's search words, or is
// nil when f has none. f.Alias is not handled here (see Find).
func (x *Index) find(f store.Filter, match *textMatch) (seqs []int64, total int) {
	fd := x.findPage(f, match)
	return fd.seqs, fd.total
}

// found is a page found in the index. For a grouped listing, seqs are each
// alias's first build, total counts aliases, builds the matching builds and
// groups lists each alias's matching builds (nil when a listing of one
// architecture has one an alias).
type found struct {
	seqs   []int64
	total  int
	builds int
	groups [][]int64
}

// findPage is find, grouped when f asks.
func (x *Index) findPage(f store.Filter, match *textMatch) (fd found) {
	set := x.scratch.Get().(*bitset.Set)
	defer x.scratch.Put(set)
	var all *bitset.Set // the matching builds, kept for a grouped page
	defer func() {
		if all != nil {
			if fd.seqs != nil {
				fd.groups = make([][]int64, len(fd.seqs))
				for i, s := range fd.seqs {
					fd.groups[i] = x.buildsIn(s, all)
				}
			}
			x.scratch.Put(all)
		}
	}()
	seqs, total := x.findIn(set, f, match, func() {
		if f.Group == "" {
			return
		}
		fd.builds = set.Count()
		if f.Architecture != "" {
			return // one build an alias already: (alias, architecture) is unique
		}
		all = x.scratch.Get().(*bitset.Set)
		all.CopyFrom(set)
		x.keepFirstBuilds(set)
	})
	fd.seqs, fd.total = seqs, total
	return fd
}

// findIn is find on a scratch set; grouped is called once the set holds
// every matching row, before they are counted.
func (x *Index) findIn(set *bitset.Set, f store.Filter, match *textMatch, grouped func()) (seqs []int64, total int) {
	var ands []*bitset.Set
	for _, eq := range []struct {
		value string
		sets  map[string]*bitset.Set
	}{{f.OS, x.os}, {f.Architecture, x.arch}, {f.Variant, x.variant}} {
		if eq.value == "" {
			continue
		}
		s, ok := eq.sets[eq.value]
		if !ok {
			return nil, 0
		}
		ands = append(ands, s)
	}
	if f.Prespawn != nil && *f.Prespawn {
		ands = append(ands, x.prespawn)
	}
	if len(ands) == 0 {
		// Every other set is part of all, which only words' rows, read
		// after the index was built, may not be.
		ands = append(ands, x.all)
	}
	if match != nil {
		ands = append(ands, match.words...)
	}
	set.Intersect(ands...)
	if f.Prespawn != nil && !*f.Prespawn {
		set.AndNot(x.prespawn)
	}
	if f.MinPrice != nil || f.MaxPrice != nil {
		lo, hi := int64(0), int64(math.MaxInt64)
		if f.MinPrice != nil {
			lo = *f.MinPrice
		}
		if f.MaxPrice != nil {
			hi = *f.MaxPrice
		}
		x.keepPrices(set, lo, hi)
	}
	x.keepLifecycle(set, f)

	x.mu.RLock()
	defer x.mu.RUnlock()
	if f.MinRating != nil {
		// The least t with t >= min_rating * 10, compared as SQL does.
		least := *f.MinRating * 10
		t := 0
		for t <= 10*store.MaxRating && float64(t) < least {
			t++
		}
		switch {
		case t > 10*store.MaxRating:
			set.Clear()
		case t%10 == 0:
			set.And(x.ratedAtLeast[t/10])
		default:
			// Between whole stars: the whole-star set, then each row.
			set.And(x.ratedAtLeast[t/10])
			set.Each(func(i int) bool {
				if int(x.tenths[i]) < t {
					set.Remove(i)
				}
				return true
			})
		}
	}
	grouped()
	total = set.Count()
	offset, limit := f.Offset(), f.PageLimit()
	if total == 0 || offset >= total {
		return []int64{}, total
	}
	seqs = make([]int64, 0, min(limit, total-offset))
	if f.Ranked() && match.ranks != nil {
		// Relevance: the matches are few (see textMatch), so sort them all.
		hits := make([]int32, 0, total)
		set.Each(func(i int) bool { hits = append(hits, int32(i)); return true })
		slices.SortFunc(hits, func(a, b int32) int {
			if c := cmp.Compare(match.ranks[a], match.ranks[b]); c != 0 {
				return c
			}
			return cmp.Compare(x.nameRank[a], x.nameRank[b])
		})
		for _, s := range hits[offset:min(total, offset+limit)] {
			seqs = append(seqs, int64(s))
		}
		return seqs, total
	}
	key := f.Sort()
	ord := x.orders[key]
	w := walk{set: set, ord: ord, blocks: x.blocks[key], blockLen: x.blockLen,
		skip: offset, limit: limit, out: seqs, budget: x.walkBudget(total), need: offset + limit}
	switch {
	case f.Order() == "asc":
		w.forward(0, len(ord))
	case key == store.SortName: // every key is its own run
		w.backward(0, len(ord))
	default:
		for end := len(ord); end > 0 && !w.full(); {
			start := x.runStart(key, end)
			w.forward(start, end)
			end = start
		}
	}
	return w.out, total
}
