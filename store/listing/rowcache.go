package listing

// rowCache keeps the encoded rows (see encodeRow) of images listed lately,
// by seq, within a budget of bytes. It holds them in two generations, each
// a few chunks of bytes and a map from seq to place with no pointer in it:
// the garbage collector marks a chunk as one object and never scans the
// map. A map of one slice per row had a hundred thousand objects at a
// million images, which every collection marked one by one: most of the
// heap's objects, and most of the mark that held up catalog pages at 1M.
//
// A row is put in the current generation. When that is full the previous
// one is dropped whole and the current one becomes it. A row found in the
// previous generation moves to the current one, so the rows that listings
// keep asking for stay, as under the random eviction this replaces.
//
// Not safe for concurrent use: Index.rowsMu guards it.
type rowCache struct {
	cur, prev  rowArena
	genBytes   int // what each generation may hold
	chunkBytes int // the size of its chunks
}

// rowChunk is the size of a generation's chunks: small enough to be
// allocated and cleared in microseconds, under Index.rowsMu. (One arena a
// generation, 16 MB, took milliseconds to clear, and every listing waited.)
const rowChunk = 256 << 10

type rowArena struct {
	chunks [][]byte         // rows, one after another; never rewritten
	at     map[int64]uint64 // seq -> chunk<<48 | offset<<24 | length
	held   int              // the bytes of its chunks
	live   int              // the bytes of the rows at points to
}

func newRowCache(maxBytes int) rowCache {
	gen := maxBytes / 2
	return rowCache{genBytes: gen, chunkBytes: min(rowChunk, gen)}
}

// get returns the encoded row of seq. The bytes are never written again:
// the caller may read them after letting go of the lock.
func (c *rowCache) get(seq int64) ([]byte, bool) {
	if b, ok := c.cur.get(seq); ok {
		return b, true
	}
	b, ok := c.prev.get(seq)
	if !ok {
		return nil, false
	}
	c.prev.drop(seq)
	c.put(seq, b)
	return b, true
}

// put keeps b, a row's encoding, as seq's, in place of any it had,
// unless it is longer than a chunk.
func (c *rowCache) put(seq int64, b []byte) {
	c.drop(seq)
	if len(b) > c.chunkBytes {
		return
	}
	if !c.cur.fits(len(b)) {
		if c.cur.held+c.chunkBytes > c.genBytes {
			c.prev, c.cur = c.cur, rowArena{}
		}
		c.cur.grow(c.chunkBytes)
	}
	c.cur.add(seq, b)
}

// drop forgets seq's row.
func (c *rowCache) drop(seq int64) {
	c.cur.drop(seq)
	c.prev.drop(seq)
}

// setBudget bounds the cache at maxBytes and empties it.
func (c *rowCache) setBudget(maxBytes int) {
	*c = newRowCache(maxBytes)
}

// rows, live and held say how many rows are kept, the bytes of their
// encodings, and the bytes the chunks hold (dropped rows and the chunks'
// unused ends included, until their generation goes).
func (c *rowCache) rows() int { return len(c.cur.at) + len(c.prev.at) }
func (c *rowCache) live() int { return c.cur.live + c.prev.live }
func (c *rowCache) held() int { return c.cur.held + c.prev.held }

// fits tells whether n bytes fit in the arena's last chunk.
func (a *rowArena) fits(n int) bool {
	if len(a.chunks) == 0 {
		return false
	}
	last := a.chunks[len(a.chunks)-1]
	return len(last)+n <= cap(last)
}

func (a *rowArena) grow(chunkBytes int) {
	a.chunks = append(a.chunks, make([]byte, 0, chunkBytes))
	a.held += chunkBytes
	if a.at == nil {
		a.at = map[int64]uint64{}
	}
}

// add appends b to the last chunk, which must have room for it.
func (a *rowArena) add(seq int64, b []byte) {
	i := len(a.chunks) - 1
	a.at[seq] = uint64(i)<<48 | uint64(len(a.chunks[i]))<<24 | uint64(len(b))
	a.chunks[i] = append(a.chunks[i], b...)
	a.live += len(b)
}

func (a *rowArena) get(seq int64) ([]byte, bool) {
	p, ok := a.at[seq]
	if !ok {
		return nil, false
	}
	chunk, off, n := p>>48, p>>24&(1<<24-1), p&(1<<24-1)
	return a.chunks[chunk][off : off+n : off+n], true
}

func (a *rowArena) drop(seq int64) {
	if p, ok := a.at[seq]; ok {
		delete(a.at, seq)
		a.live -= int(p & (1<<24 - 1))
	}
}
