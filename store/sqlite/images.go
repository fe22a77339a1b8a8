package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/berth/berth/store"
	"github.com/berth/berth/store/listing"
)

const imageColumns = `id, alias, description, image_name, architecture, os, release, serial,
	variant, size, price_cents, added_date, prespawn, tags, based_on, features, pull_ref,
	security, docs, rating_sum, rating_count, eol_date, superseded_by, tags_pinned, source_url`

// listColumns are imageColumns without the docs body, which listings never
// show and which is the largest column.
const listColumns = `id, alias, description, image_name, architecture, os, release, serial,
	variant, size, price_cents, added_date, prespawn, tags, based_on, features, pull_ref,
	security, '' AS docs, rating_sum, rating_count, eol_date, superseded_by, tags_pinned, source_url`

// orderBy returns the ORDER BY clause of a sort: the key in the requested
// order, then ties broken by name and id, always ascending, so that equal
// keys read alphabetically and pages never overlap or skip rows.
func orderBy(sortBy, order string) string {
	dir := " ASC"
	if order == "desc" {
		dir = " DESC"
	}
	switch sortBy {
	case store.SortName:
		return "image_name" + dir + ", id" + dir
	case store.SortPrice:
		return "price_cents" + dir + ", image_name, id"
	case store.SortRating:
		return "rating_tenths" + dir + ", rating_count" + dir + ", image_name, id"
	case store.SortSize:
		return "size" + dir + ", image_name, id"
	case store.SortAddedDate:
		return "added_date" + dir + ", image_name, id"
	default:
		return "popularity" + dir + ", image_name, id"
	}
}

// FindImages returns the page of images that match f, and the total count.
// Listings come from the in-memory listing index once it is built (see
// store/listing), and from SQL before that and for lookups by alias; both give
// the same pages, but SQL stops counting at CountCap.
func (db *DB) FindImages(ctx context.Context, f store.Filter) (store.ImagePage, error) {
	if f.Now.IsZero() {
		f.Now = db.Now() // support is judged by the store's clock
	}
	gen, err := db.Generation(ctx)
	if err != nil {
		return store.ImagePage{Page: f.PageNumber(), Limit: f.PageLimit()}, err
	}
	if x := db.listings.Index(ctx, gen); x != nil {
		return db.findImagesIndexed(ctx, x, f)
	}
	return db.findImagesSQL(ctx, f)
}

// findImagesIndexed answers a listing from the index, which reads the
// page's images by seq. Lookups by alias go to SQL: they are one index seek
// there, and the index keeps no aliases.
func (db *DB) findImagesIndexed(ctx context.Context, x *listing.Index, f store.Filter) (store.ImagePage, error) {
	if f.Alias != "" {
		return db.findImagesSQL(ctx, f)
	}
	page, err := x.Find(ctx, f)
	if err != nil {
		return page, fmt.Errorf("find images: %w", err)
	}
	return page, nil
}

// findImagesSQL answers a listing with SQL alone.
func (db *DB) findImagesSQL(ctx context.Context, f store.Filter) (store.ImagePage, error) {
	from, fromArgs := filterFrom(f)
	where, whereArgs := filterWhere(f)
	args := append(fromArgs, whereArgs...)
	page := store.ImagePage{Page: f.PageNumber(), Limit: f.PageLimit()}

	tx, err := db.read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return page, fmt.Errorf("find images: %w", err)
	}
	defer tx.Rollback()

	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM (SELECT 1 FROM `+from+where+` LIMIT ?)`,
		append(args, store.CountCap+1)...).Scan(&page.Total); err != nil {
		return page, fmt.Errorf("count images: %w", err)
	}
	if page.Total > store.CountCap {
		page.Total, page.Capped = store.CountCap, true
	}
	if f.Group != "" {
		page.Grouped, page.BuildTotal, page.Builds = true, page.Total, [][]*store.Image{}
		page.Total = 0
	}
	if page.BuildTotal == 0 && page.Total == 0 {
		page.Images = []*store.Image{}
		return page, nil
	}
	ranked := false
	if q := ftsQuery(f.Search); f.Ranked() {
		// Relevance only when the words themselves are specific; see broadMatch.
		var matches int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM (SELECT 1 FROM images_fts
			WHERE images_fts MATCH ? LIMIT ?)`, q, broadMatch+1).Scan(&matches); err != nil {
			return page, fmt.Errorf("find images: %w", err)
		}
		ranked = matches <= broadMatch
	}
	if f.Group != "" {
		return db.findGroupsSQL(ctx, tx, f, page, ranked)
	}
	var q string
	if page.Total > broadMatch {
		// Many matches: walk the sort's index and keep the rows that pass,
		// which reaches a page after a few rows per result instead of
		// collecting and sorting every match.
		walk, walkArgs := filterWalkWhere(f)
		q = `SELECT ` + listColumns + ` FROM images` + walk + ` ORDER BY ` + orderBy(f.Sort(), f.Order()) + ` LIMIT ? OFFSET ?`
		args = walkArgs
	} else {
		order := orderBy(f.Sort(), f.Order())
		if ranked {
			order = "m.fts_rank, image_name, id"
		}
		q = `SELECT ` + listColumns + ` FROM ` + from + where + ` ORDER BY ` + order + ` LIMIT ? OFFSET ?`
	}
	page.Images, err = queryImages(ctx, tx, q, append(args, page.Limit, f.Offset())...)
	if err != nil {
		return page, fmt.Errorf("find images: %w", err)
	}
	return page, nil
}

// from is the FROM clause: the images, joined with the full-text matches
// when there are search words, so results can be ranked by relevance.
func filterFrom(f store.Filter) (string, []any) {
	if q := ftsQuery(f.Search); q != "" {
		return `images JOIN (SELECT rowid AS fts_seq, rank AS fts_rank FROM images_fts
			WHERE images_fts MATCH ?) m ON m.fts_seq = images.seq`, []any{q}
	}
	return "images", nil
}

// ftsQuery turns search words into an FTS5 query in which every word must
// match, as a prefix ("postgres" finds "postgresql").
func ftsQuery(search string) string { return strings.Join(ftsTerms(search), " ") }

// ftsTerms turns each search word into an FTS5 prefix term. Words are
// quoted, so FTS operators and punctuation typed by people are just text,
// and lowercased, as the index folds case anyway; words with no letters or
// digits are dropped, and so are repeats.
func ftsTerms(search string) []string { return ftsWordTerms(store.SearchWords(search)) }

// ftsWordTerms turns words, as store.SearchWords gives them, into FTS5
// prefix terms (see ftsTerms).
func ftsWordTerms(words []string) []string {
	terms := make([]string, len(words))
	for i, w := range words {
		terms[i] = `"` + strings.ReplaceAll(w, `"`, `""`) + `"*`
	}
	return terms
}

// broadMatch is store.BroadMatch, the bound on relevance ranking. In SQL
// it is also the number of matches above which a page is read by walking
// the sort's index (see walkWhere) rather than sorting the matches.
const broadMatch = store.BroadMatch

// where builds the WHERE clause for the filter's conditions; search words
// are matched in from(). Values always travel as arguments; only fixed
// column names enter the SQL text.
func filterWhere(f store.Filter) (string, []any) { return filterConditions(f, false) }

// walkWhere is where() for walking a sort index: the filter columns are
// written as +col, which keeps SQLite from using their indexes, so it reads
// the sort's index in order and stops after one page; the rows that match
// the search words are looked up once, as a set. alias stays indexed: it
// names a handful of rows, never a broad match.
func filterWalkWhere(f store.Filter) (string, []any) { return filterConditions(f, true) }

func filterConditions(f store.Filter, walk bool) (string, []any) {
	var conds []string
	var args []any
	add := func(cond string, a ...any) {
		conds = append(conds, cond)
		args = append(args, a...)
	}
	col := func(name string) string {
		if walk {
			return "+" + name
		}
		return name
	}
	if f.OS != "" {
		add(col("os")+" = ?", f.OS)
	}
	if f.Architecture != "" {
		add(col("architecture")+" = ?", f.Architecture)
	}
	if f.Variant != "" {
		add(col("variant")+" = ?", f.Variant)
	}
	if f.Alias != "" {
		add("alias = ?", f.Alias)
	}
	if f.Prespawn != nil {
		add(col("prespawn")+" = ?", boolInt(*f.Prespawn))
	}
	if f.MinPrice != nil {
		add(col("price_cents")+" >= ?", *f.MinPrice)
	}
	if f.MaxPrice != nil {
		add(col("price_cents")+" <= ?", *f.MaxPrice)
	}
	if f.MinRating != nil {
		add(col("rating_tenths")+" >= ?", *f.MinRating*10)
	}
	if f.Support != "" {
		after, through, none := store.SupportBounds(f.Support, f.At())
		switch {
		case none:
			add("("+col("eol_date")+" = '' OR "+col("eol_date")+" > ?)", after)
		default:
			add(col("eol_date")+" > ? AND "+col("eol_date")+" <= ?", after, through)
		}
	}
	if f.Signed != nil {
		add(col("signed")+" = ?", boolInt(*f.Signed))
	}
	if r := f.MaxSeverityRank(); r >= 0 {
		add(col("worst_severity")+" <= ?", r)
	}
	if q := ftsQuery(f.Search); walk && q != "" {
		add("+seq IN (SELECT rowid FROM images_fts WHERE images_fts MATCH ?)", q)
	}
	if len(conds) == 0 {
		return "", nil
	}
	return " WHERE " + strings.Join(conds, " AND "), args
}

// FindImage returns the image with the given id.
func (db *DB) FindImage(ctx context.Context, id string) (*store.Image, error) {
	return findImage(ctx, preparedReads{db}, id)
}

// findImage loads one image through the read pool or a transaction.
func findImage(ctx context.Context, q querier, id string) (*store.Image, error) {
	if !store.ValidID(id) {
		return nil, store.Errorf(store.ENOTFOUND, "No image has the id %q.", id)
	}
	imgs, err := queryImages(ctx, q, `SELECT `+imageColumns+` FROM images WHERE id = ?`, id)
	if err != nil {
		return nil, fmt.Errorf("find image %s: %w", id, err)
	}
	if len(imgs) == 0 {
		return nil, store.Errorf(store.ENOTFOUND, "No image has the id %q.", id)
	}
	return imgs[0], nil
}

// FindSiblings returns every image of the same os and release as img (its
// variants and architectures), img included, ordered by variant then
// architecture.
func (db *DB) FindSiblings(ctx context.Context, img *store.Image) ([]*store.Image, error) {
	imgs, err := queryImages(ctx, preparedReads{db}, `SELECT `+imageColumns+` FROM images
		WHERE os = ? AND release = ? ORDER BY variant = 'default' DESC, variant, architecture`,
		img.OS, img.Release)
	if err != nil {
		return nil, fmt.Errorf("find variants of %s: %w", img.Alias, err)
	}
	return imgs, nil
}

// FindFacets returns the operating systems and variants present in the catalog.
func (db *DB) FindFacets(ctx context.Context) (store.Facets, error) {
	var f store.Facets
	var err error
	// A loose index scan: one index seek per distinct value rather than a
	// walk over every row, which matters at a million images.
	if f.OS, err = queryStrings(ctx, db.read, `WITH RECURSIVE v(x) AS (
		SELECT MIN(os) FROM images UNION ALL SELECT (SELECT MIN(os) FROM images WHERE os > v.x) FROM v WHERE v.x IS NOT NULL)
		SELECT x FROM v WHERE x IS NOT NULL`); err != nil {
		return f, fmt.Errorf("find facets: %w", err)
	}
	if f.Variants, err = queryStrings(ctx, db.read, `WITH RECURSIVE v(x) AS (
		SELECT MIN(variant) FROM images UNION ALL SELECT (SELECT MIN(variant) FROM images WHERE variant > v.x) FROM v WHERE v.x IS NOT NULL)
		SELECT x FROM v WHERE x IS NOT NULL ORDER BY x = 'default' DESC, x`); err != nil {
		return f, fmt.Errorf("find facets: %w", err)
	}
	return f, nil
}

// CountImages returns the number of images in the catalog.
func (db *DB) CountImages(ctx context.Context) (int, error) {
	var n int
	if err := db.read.QueryRowContext(ctx, `SELECT /* full scan: a count for operators and tests, on no request path */ COUNT(*) FROM images`).Scan(&n); err != nil {
		return 0, fmt.Errorf("count images: %w", err)
	}
	return n, nil
}

type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

func queryStrings(ctx context.Context, q querier, query string, args ...any) ([]string, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// queryImages runs a SELECT of imageColumns and scans every row into a new
// Image, so no two results share memory.
func queryImages(ctx context.Context, q querier, query string, args ...any) ([]*store.Image, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	imgs := []*store.Image{}
	for rows.Next() {
		img, err := scanImage(rows)
		if err != nil {
			return nil, err
		}
		imgs = append(imgs, img)
	}
	return imgs, rows.Err()
}

// scanImage reads imageColumns from the current row, then any extra
// columns that follow them into extra.
func scanImage(rows *sql.Rows, extra ...any) (*store.Image, error) {
	return scanImageAfter(rows, nil, extra...)
}

// scanImageAfter is scanImage for a row whose imageColumns follow the
// columns read into before.
func scanImageAfter(rows *sql.Rows, before []any, extra ...any) (*store.Image, error) {
	var (
		img                   store.Image
		added, tags, features string
		pinned                string
		security              sql.NullString
		prespawn              int
	)
	dest := append(append(before[:len(before):len(before)], &img.ID, &img.Alias, &img.Description, &img.ImageName, &img.Architecture,
		&img.OS, &img.Release, &img.Serial, &img.Variant, &img.Size, &img.PriceCents, &added,
		&prespawn, &tags, &img.BasedOn, &features, &img.PullRef, &security, &img.Docs,
		&img.RatingSum, &img.RatingCount, &img.EOLDate, &img.SupersededBy, &pinned, &img.SourceURL), extra...)
	if err := rows.Scan(dest...); err != nil {
		return nil, err
	}
	var err error
	if img.AddedDate, err = time.Parse(time.RFC3339, added); err != nil {
		return nil, fmt.Errorf("image %s: added_date: %w", img.ID, err)
	}
	img.Prespawn = prespawn == 1
	if err := decodeStrings(tags, &img.Tags); err != nil {
		return nil, fmt.Errorf("image %s: tags: %w", img.ID, err)
	}
	if err := decodeStrings(features, &img.Features); err != nil {
		return nil, fmt.Errorf("image %s: features: %w", img.ID, err)
	}
	if err := decodeStrings(pinned, &img.TagsPinned); err != nil {
		return nil, fmt.Errorf("image %s: tags_pinned: %w", img.ID, err)
	}
	if security.Valid {
		img.Security = new(store.Security)
		if err := decodeSecurity(security.String, img.Security); err != nil {
			return nil, fmt.Errorf("image %s: security: %w", img.ID, err)
		}
	}
	return &img, nil
}

// decodeStrings decodes a JSON array of strings, as tags and features are
// stored. Listings decode two per image, so the common form, plain strings
// without escapes, is split directly, in a tenth of json.Unmarshal's time;
// anything else goes to json.Unmarshal, and the result is the same.
func decodeStrings(s string, into *[]string) error {
	rest, ok := strings.CutPrefix(strings.TrimSpace(s), "[")
	if !ok || strings.ContainsAny(s, "\\") || !utf8.ValidString(s) {
		return json.Unmarshal([]byte(s), into)
	}
	out := []string{}
	for {
		rest = strings.TrimSpace(rest)
		if len(out) == 0 && strings.HasPrefix(rest, "]") {
			break
		}
		str, ok := strings.CutPrefix(rest, `"`)
		if !ok {
			return json.Unmarshal([]byte(s), into)
		}
		end := strings.IndexByte(str, '"')
		if end < 0 || strings.ContainsFunc(str[:end], func(r rune) bool { return r < 0x20 }) {
			return json.Unmarshal([]byte(s), into)
		}
		out = append(out, str[:end])
		rest = strings.TrimSpace(str[end+1:])
		if rest, ok = strings.CutPrefix(rest, ","); !ok {
			break
		}
	}
	if strings.TrimSpace(rest) != "]" {
		return json.Unmarshal([]byte(s), into)
	}
	*into = out
	return nil
}

// decodeSecurity decodes a Security as stored. The form json.Marshal
// writes is read field by field, in a tenth of json.Unmarshal's time;
// anything else goes to json.Unmarshal, and the result is the same.
func decodeSecurity(s string, into *store.Security) error {
	fallback := func() error { *into = store.Security{}; return json.Unmarshal([]byte(s), into) }
	rest, ok := s, true
	expect := func(prefix string) {
		if ok {
			rest, ok = strings.CutPrefix(rest, prefix)
		}
	}
	str := func() string { // up to the closing quote; escapes go to the fallback
		if !ok {
			return ""
		}
		end := strings.IndexByte(rest, '"')
		if end < 0 || strings.ContainsFunc(rest[:end], func(r rune) bool { return r < 0x20 || r == '\\' }) ||
			!utf8.ValidString(rest[:end]) {
			ok = false
			return ""
		}
		v := rest[:end]
		rest = rest[end+1:]
		return v
	}
	num := func() int {
		end := 0
		for end < len(rest) && end < 9 && rest[end] >= '0' && rest[end] <= '9' {
			end++
		}
		if !ok || end == 0 || (end > 1 && rest[0] == '0') {
			ok = false
			return 0
		}
		n, _ := strconv.Atoi(rest[:end])
		rest = rest[end:]
		return n
	}
	var v store.Security
	expect(`{"signed":`)
	switch {
	case strings.HasPrefix(rest, "true"):
		v.Signed, rest = true, rest[4:]
	case strings.HasPrefix(rest, "false"):
		rest = rest[5:]
	default:
		ok = false
	}
	expect(`,"sbom":"`)
	v.SBOM = str()
	expect(`,"last_scan":"`)
	scan := str()
	expect(`,"findings":{"critical":`)
	v.Findings.Critical = num()
	expect(`,"high":`)
	v.Findings.High = num()
	expect(`,"medium":`)
	v.Findings.Medium = num()
	expect(`,"low":`)
	v.Findings.Low = num()
	expect(`}`)
	// The optional strings, in the order json.Marshal writes them.
	for _, opt := range []struct {
		key  string
		into *string
	}{{`,"scanner":"`, &v.Scanner}, {`,"signature":"`, &v.Signature}, {`,"sbom_url":"`, &v.SBOMURL}, {`,"report_url":"`, &v.ReportURL}} {
		if ok && strings.HasPrefix(rest, opt.key) {
			rest = rest[len(opt.key):]
			*opt.into = str()
		}
	}
	expect(`}`)
	if !ok || rest != "" {
		return fallback()
	}
	// As json.Unmarshal reads a time, with the same checks.
	if err := v.LastScan.UnmarshalJSON([]byte(`"` + scan + `"`)); err != nil {
		return fallback()
	}
	*into = v
	return nil
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// FindImageByAlias returns the image an alias names on an architecture. With
// no architecture it prefers amd64, the most common, then arm64, then armhf.
func (db *DB) FindImageByAlias(ctx context.Context, alias, arch string) (*store.Image, error) {
	imgs, err := queryImages(ctx, preparedReads{db}, `SELECT `+imageColumns+` FROM images
		WHERE alias = ? AND (? = '' OR architecture = ?)
		ORDER BY CASE architecture WHEN 'amd64' THEN 0 WHEN 'arm64' THEN 1 ELSE 2 END, architecture LIMIT 1`,
		alias, arch, arch)
	if err != nil {
		return nil, fmt.Errorf("find image %s: %w", alias, err)
	}
	if len(imgs) == 0 {
		if arch != "" {
			return nil, store.Errorf(store.ENOTFOUND, "No image has the alias %q on %s.", alias, arch)
		}
		return nil, store.Errorf(store.ENOTFOUND, "No image has the alias %q.", alias)
	}
	return imgs[0], nil
}

// generationTTL is how long a read of the catalog generation is reused.
// Writes through this DB take effect at once (see touched); writes by
// another process, such as `berth catalog import`, within this delay.
const generationTTL = 100 * time.Millisecond

// generation memoises the catalog generation briefly: it is read on every
// catalog request, and a query per request would cost more than the
// cached answer it guards.
type generation struct {
	mu    sync.Mutex
	value int64
	read  time.Time
}

// Generation returns the catalog generation: a number that changes
// whenever images or their ratings change, for keying caches.
func (db *DB) Generation(ctx context.Context) (int64, error) {
	g := &db.gen
	g.mu.Lock()
	defer g.mu.Unlock()
	if !g.read.IsZero() && time.Since(g.read) < generationTTL {
		return g.value, nil
	}
	if err := db.read.QueryRowContext(ctx, `SELECT generation FROM catalog_generation WHERE id = 1`).Scan(&g.value); err != nil {
		return 0, fmt.Errorf("catalog generation: %w", err)
	}
	g.read = time.Now()
	return g.value, nil
}

// touched forgets the memoised generation after this DB changed images or
// ratings, so the next read sees the change.
func (db *DB) touched() {
	db.gen.mu.Lock()
	db.gen.read = time.Time{}
	db.gen.mu.Unlock()
}

// findGroupsSQL answers a grouped listing (see listgroup.go) with SQL: each
// alias's first build among those that pass stands for it.
func (db *DB) findGroupsSQL(ctx context.Context, tx *sql.Tx, f store.Filter, page store.ImagePage, ranked bool) (store.ImagePage, error) {
	from, fromArgs := filterFrom(f)
	where, whereArgs := filterWhere(f)
	args := append(fromArgs, whereArgs...)
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM (SELECT 1 FROM `+from+where+` GROUP BY alias LIMIT ?)`,
		append(args, store.CountCap+1)...).Scan(&page.Total); err != nil {
		return page, fmt.Errorf("count aliases: %w", err)
	}
	if page.Total > store.CountCap {
		page.Total, page.Capped = store.CountCap, true
	}
	rank, order := "", orderBy(f.Sort(), f.Order())
	if ftsQuery(f.Search) != "" {
		rank = ", m.fts_rank AS fts_rank"
		if ranked {
			order = "fts_rank, image_name, id"
		}
	}
	q := `SELECT ` + listColumns + ` FROM (SELECT images.*` + rank + `, ROW_NUMBER() OVER (PARTITION BY alias ORDER BY ` +
		archRankSQL + `, id) AS group_rn FROM ` + from + where + `) WHERE group_rn = 1 ORDER BY ` + order + ` LIMIT ? OFFSET ?`
	var err error
	page.Images, err = queryImages(ctx, tx, q, append(args, page.Limit, f.Offset())...)
	if err != nil {
		return page, fmt.Errorf("find aliases: %w", err)
	}
	if len(page.Images) == 0 {
		return page, nil
	}
	aliases := make([]string, len(page.Images))
	for i, img := range page.Images {
		aliases[i] = img.Alias
	}
	list, _ := json.Marshal(aliases)
	cond := " WHERE "
	if where != "" {
		cond = where + " AND "
	}
	builds, err := queryImages(ctx, tx, `SELECT `+listColumns+` FROM `+from+cond+`alias IN (SELECT value FROM json_each(?))`,
		append(append([]any{}, args...), string(list))...)
	if err != nil {
		return page, fmt.Errorf("find aliases: %w", err)
	}
	store.GroupBuilds(&page, builds)
	return page, nil
}
