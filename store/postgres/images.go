package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/berth/berth/store"
)

const imageColumns = `id, alias, description, image_name, architecture, os, release, serial,
	variant, size, price_cents, added_date, prespawn, tags, based_on, features, pull_ref,
	security, docs, rating_sum, rating_count, eol_date, superseded_by, tags_pinned, source_url`

// listColumns are imageColumns without the docs body, which listings never show.
const listColumns = `id, alias, description, image_name, architecture, os, release, serial,
	variant, size, price_cents, added_date, prespawn, tags, based_on, features, pull_ref,
	security, '' AS docs, rating_sum, rating_count, eol_date, superseded_by, tags_pinned, source_url`

// orderBy returns the ORDER BY clause of a sort, as the SQLite backend
// orders: the key in the requested order, then name and id ascending.
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

// broadMatch bounds relevance ranking, as on SQLite: a search with no sort
// asked for goes by relevance when at most this many images match its
// words, and by popularity when more do.
const broadMatch = 2000

// args collects query arguments and names their placeholders.
type args []any

func (a *args) add(v any) string {
	*a = append(*a, v)
	return "$" + strconv.Itoa(len(*a))
}

// FindImages returns the page of images that match f, and the total count
// (up to store.CountCap). Search words use the GIN index on search;
// relevance is ts_rank.
func (db *DB) FindImages(ctx context.Context, f store.Filter) (store.ImagePage, error) {
	// Lookups by alias stay with SQL (one index seek), as on SQLite.
	if f.Alias == "" {
		gen, err := db.Generation(ctx)
		if err != nil {
			return store.ImagePage{Page: f.PageNumber(), Limit: f.PageLimit()}, err
		}
		if x := db.listings.Index(ctx, gen); x != nil {
			page, err := x.Find(ctx, f)
			if err != nil {
				return page, fmt.Errorf("find images: %w", err)
			}
			return page, nil
		}
	}
	return db.findImagesSQL(ctx, f)
}

// findImagesSQL answers a listing with SQL alone.
func (db *DB) findImagesSQL(ctx context.Context, f store.Filter) (store.ImagePage, error) {
	page := store.ImagePage{Page: f.PageNumber(), Limit: f.PageLimit()}
	var a args
	where := filterWhere(f, &a)
	nWhere := len(a)
	tx, err := db.pool.BeginTx(ctx, pgx.TxOptions{AccessMode: pgx.ReadOnly, IsoLevel: pgx.RepeatableRead})
	if err != nil {
		return page, fmt.Errorf("find images: %w", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	search := searchQuery(f.Search) != ""
	if search {
		// The planner cannot tell how many rows a prefix search matches.
		// Matches are counted from the GIN index as a set (10-30 ms at
		// 100,000 images, where testing each row's words took 130-300 ms),
		// and a page of a narrow search is sorted from that set; see
		// below for broad ones.
		if _, err := tx.Exec(ctx, `SET LOCAL enable_seqscan = off; SET LOCAL enable_indexscan = off`); err != nil {
			return page, fmt.Errorf("find images: %w", err)
		}
	}

	capArg := append(args{}, a...)
	limit := capArg.add(store.CountCap + 1)
	if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM (SELECT 1 FROM images`+where+` LIMIT `+limit+`) m`,
		capArg...).Scan(&page.Total); err != nil {
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
	order := orderBy(f.Sort(), f.Order())
	if q := searchQuery(f.Search); q != "" && f.Ranked() {
		// Relevance only when the words themselves are specific.
		var matches int
		if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM (SELECT 1 FROM images
			WHERE search @@ $1::tsquery LIMIT $2) m`, q, broadMatch+1).Scan(&matches); err != nil {
			return page, fmt.Errorf("find images: %w", err)
		}
		if matches <= broadMatch {
			order = "ts_rank(search, " + a.add(q) + "::tsquery) DESC, image_name, id"
		}
	}
	if f.Group != "" {
		return findGroups(ctx, tx, f, page, where, a, nWhere, order)
	}
	if search && page.Total > broadMatch {
		// Many matches: walking the sort's index and testing each row
		// reaches a page after a few rows per result (0.3 ms for "ubuntu"
		// at 100,000 images, where sorting its 31,000 matches took 160 ms),
		// as SQLite's walk does.
		if _, err := tx.Exec(ctx, `SET LOCAL enable_seqscan = on; SET LOCAL enable_indexscan = on`); err != nil {
			return page, fmt.Errorf("find images: %w", err)
		}
	}
	lim, off := a.add(page.Limit), a.add(f.Offset())
	page.Images, err = queryImages(ctx, tx, `SELECT `+listColumns+` FROM images`+where+
		` ORDER BY `+order+` LIMIT `+lim+` OFFSET `+off, a...)
	if err != nil {
		return page, fmt.Errorf("find images: %w", err)
	}
	return page, nil
}

// filterWhere builds the WHERE clause of a filter. Values always travel as
// arguments; only fixed column names enter the SQL text.
func filterWhere(f store.Filter, a *args) string {
	var conds []string
	if f.OS != "" {
		conds = append(conds, "os = "+a.add(f.OS))
	}
	if f.Architecture != "" {
		conds = append(conds, "architecture = "+a.add(f.Architecture))
	}
	if f.Variant != "" {
		conds = append(conds, "variant = "+a.add(f.Variant))
	}
	if f.Alias != "" {
		conds = append(conds, "alias = "+a.add(f.Alias))
	}
	if f.Prespawn != nil {
		conds = append(conds, "prespawn = "+a.add(*f.Prespawn))
	}
	if f.MinPrice != nil {
		conds = append(conds, "price_cents >= "+a.add(*f.MinPrice))
	}
	if f.MaxPrice != nil {
		conds = append(conds, "price_cents <= "+a.add(*f.MaxPrice))
	}
	if f.MinRating != nil {
		// rating_tenths is a whole number, so comparing it with the
		// smallest whole number at or above the bound is the same test,
		// and one its index can answer (a float comparison casts the
		// column and scans the table: 350 ms at 100,000 images).
		conds = append(conds, "rating_tenths >= "+a.add(int64(math.Ceil(*f.MinRating*10))))
	}
	if f.Support != "" {
		after, through, none := store.SupportBounds(f.Support, f.At())
		if none {
			conds = append(conds, "(eol_date = '' OR eol_date > "+a.add(after)+")")
		} else {
			conds = append(conds, "eol_date > "+a.add(after)+" AND eol_date <= "+a.add(through))
		}
	}
	if f.Signed != nil {
		conds = append(conds, "signed = "+a.add(*f.Signed))
	}
	if r := f.MaxSeverityRank(); r >= 0 {
		conds = append(conds, "worst_severity <= "+a.add(r))
	}
	if q := searchQuery(f.Search); q != "" {
		conds = append(conds, "search @@ "+a.add(q)+"::tsquery")
	}
	if len(conds) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(conds, " AND ")
}

// FindImage returns the image with the given id.
func (db *DB) FindImage(ctx context.Context, id string) (*store.Image, error) {
	return findImage(ctx, db.pool, id)
}

// imageByIDSQL reads one image by its id.
const imageByIDSQL = `SELECT ` + imageColumns + ` FROM images WHERE id = $1`

func findImage(ctx context.Context, q querier, id string) (*store.Image, error) {
	if !store.ValidID(id) {
		return nil, store.Errorf(store.ENOTFOUND, "No image has the id %q.", id)
	}
	imgs, err := queryImages(ctx, q, imageByIDSQL, id)
	if err != nil {
		return nil, fmt.Errorf("find image %s: %w", id, err)
	}
	if len(imgs) == 0 {
		return nil, store.Errorf(store.ENOTFOUND, "No image has the id %q.", id)
	}
	return imgs[0], nil
}

// siblingOrder is the order of an image's siblings: the standard
// variant first, then by variant and architecture.
const siblingOrder = `variant = 'default' DESC, variant, architecture`

// FindSiblings returns every image of the same os and release as img, img
// included, ordered by variant (the standard one first) then architecture.
func (db *DB) FindSiblings(ctx context.Context, img *store.Image) ([]*store.Image, error) {
	imgs, err := queryImages(ctx, db.pool, `SELECT `+imageColumns+` FROM images
		WHERE os = $1 AND release = $2 ORDER BY `+siblingOrder,
		img.OS, img.Release)
	if err != nil {
		return nil, fmt.Errorf("find variants of %s: %w", img.Alias, err)
	}
	return imgs, nil
}

// FindFacets returns the operating systems and variants in the catalog,
// each by a loose index scan: one index seek per distinct value.
func (db *DB) FindFacets(ctx context.Context) (store.Facets, error) {
	var f store.Facets
	var err error
	if f.OS, err = queryStrings(ctx, db.pool, `WITH RECURSIVE v(x) AS (
		SELECT MIN(os) FROM images UNION ALL SELECT (SELECT MIN(os) FROM images WHERE os > v.x) FROM v WHERE v.x IS NOT NULL)
		SELECT x FROM v WHERE x IS NOT NULL`); err != nil {
		return f, fmt.Errorf("find facets: %w", err)
	}
	if f.Variants, err = queryStrings(ctx, db.pool, `WITH RECURSIVE v(x) AS (
		SELECT MIN(variant) FROM images UNION ALL SELECT (SELECT MIN(variant) FROM images WHERE variant > v.x) FROM v WHERE v.x IS NOT NULL)
		SELECT x FROM v WHERE x IS NOT NULL ORDER BY x = 'default' DESC, x`); err != nil {
		return f, fmt.Errorf("find facets: %w", err)
	}
	return f, nil
}

// CountImages returns the number of images in the catalog.
func (db *DB) CountImages(ctx context.Context) (int, error) {
	var n int
	if err := db.pool.QueryRow(ctx, `SELECT /* full scan: a count for operators and tests, on no request path */ COUNT(*) FROM images`).Scan(&n); err != nil {
		return 0, fmt.Errorf("count images: %w", err)
	}
	return n, nil
}

// FindImageByAlias returns the image an alias names on an architecture;
// with none given, amd64 first, then arm64, then armhf.
func (db *DB) FindImageByAlias(ctx context.Context, alias, arch string) (*store.Image, error) {
	imgs, err := queryImages(ctx, db.pool, `SELECT `+imageColumns+` FROM images
		WHERE alias = $1 AND ($2 = '' OR architecture = $2)
		ORDER BY CASE architecture WHEN 'amd64' THEN 0 WHEN 'arm64' THEN 1 ELSE 2 END, architecture LIMIT 1`,
		alias, arch)
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

func queryStrings(ctx context.Context, q querier, query string, args ...any) ([]string, error) {
	rows, err := q.Query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, err
	}
	return out, nil
}

// queryImages runs a SELECT of imageColumns and scans every row into a new
// Image.
func queryImages(ctx context.Context, q querier, query string, args ...any) ([]*store.Image, error) {
	rows, err := q.Query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	return collectImages(rows)
}

// collectImages reads imageColumns from every row and closes rows.
func collectImages(rows pgx.Rows) ([]*store.Image, error) {
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
func scanImage(rows pgx.Rows, extra ...any) (*store.Image, error) {
	return scanImageAfter(rows, nil, extra...)
}

// scanImageAfter is scanImage for a row whose imageColumns follow the
// columns read into before.
func scanImageAfter(rows pgx.Rows, before []any, extra ...any) (*store.Image, error) {
	var (
		img      store.Image
		added    time.Time
		security *string
	)
	dest := append(append(before[:len(before):len(before)], &img.ID, &img.Alias, &img.Description, &img.ImageName, &img.Architecture,
		&img.OS, &img.Release, &img.Serial, &img.Variant, &img.Size, &img.PriceCents, &added,
		&img.Prespawn, &img.Tags, &img.BasedOn, &img.Features, &img.PullRef, &security, &img.Docs,
		&img.RatingSum, &img.RatingCount, &img.EOLDate, &img.SupersededBy, &img.TagsPinned, &img.SourceURL), extra...)
	if err := rows.Scan(dest...); err != nil {
		return nil, err
	}
	img.AddedDate = added.UTC()
	img.Tags, img.Features, img.TagsPinned = store.NonNil(img.Tags), store.NonNil(img.Features), store.NonNil(img.TagsPinned)
	if security != nil {
		img.Security = new(store.Security)
		if err := json.Unmarshal([]byte(*security), img.Security); err != nil {
			return nil, fmt.Errorf("image %s: security: %w", img.ID, err)
		}
	}
	return &img, nil
}

// noRows tells whether err is pgx's "no rows in result set".
func noRows(err error) bool { return errors.Is(err, pgx.ErrNoRows) }

// archRank is store.ArchRank of table's architecture as an SQL expression.
func archRank(table string) string {
	var b strings.Builder
	b.WriteString("CASE " + table + ".architecture")
	for i, a := range store.Architectures {
		fmt.Fprintf(&b, " WHEN '%s' THEN %d", a, i)
	}
	fmt.Fprintf(&b, " ELSE %d END", len(store.Architectures))
	return b.String()
}

// findGroups answers a grouped listing (store.GroupAlias) as SQLite's
// findGroupsSQL does: of each alias's builds that pass the filter, the
// first by store.ArchRank (then id) stands for it; the page's aliases then
// bring every build of theirs that passes.
//
// A build stands for its alias when no other build of the alias that
// passes comes before it, which the unique (alias, architecture) index
// answers row by row, so a page walks the sort's index and stops after
// it, as an ungrouped page does (0.7 ms for a page at 20,000 images,
// where numbering every build that passes with ROW_NUMBER() read and
// sorted the whole table). The count still reads the alias of every build
// that passes: no index gives aliases by filter value.
func findGroups(ctx context.Context, tx pgx.Tx, f store.Filter, page store.ImagePage, where string, a args, nWhere int, order string) (store.ImagePage, error) {
	countArgs := append(args{}, a[:nWhere]...)
	limit := countArgs.add(store.CountCap + 1)
	if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM (SELECT 1 FROM images`+where+` GROUP BY alias LIMIT `+limit+`) m`,
		countArgs...).Scan(&page.Total); err != nil {
		return page, fmt.Errorf("count aliases: %w", err)
	}
	if page.Total > store.CountCap {
		page.Total, page.Capped = store.CountCap, true
	}
	pageArgs := append(args{}, a...)
	lim, off := pageArgs.add(page.Limit), pageArgs.add(f.Offset())
	cond := " WHERE "
	if where != "" {
		cond = where + " AND "
	}
	// The filter again inside the subquery, with the same arguments: its
	// unqualified columns there are b's.
	passes := strings.TrimPrefix(where, " WHERE ")
	if passes != "" {
		passes += " AND "
	}
	imgs, err := queryImages(ctx, tx, `SELECT `+listColumns+` FROM images`+cond+`NOT EXISTS (SELECT 1 FROM images b WHERE `+
		passes+`b.alias = images.alias AND (`+archRank("b")+`, b.id) < (`+archRank("images")+`, images.id))
		ORDER BY `+order+` LIMIT `+lim+` OFFSET `+off, pageArgs...)
	if err != nil {
		return page, fmt.Errorf("find aliases: %w", err)
	}
	page.Images = imgs
	if len(imgs) == 0 {
		return page, nil
	}
	aliases := make([]string, len(imgs))
	for i, img := range imgs {
		aliases[i] = img.Alias
	}
	buildArgs := append(args{}, a[:nWhere]...)
	builds, err := queryImages(ctx, tx, `SELECT `+listColumns+` FROM images`+cond+`alias = ANY(`+buildArgs.add(aliases)+`)`, buildArgs...)
	if err != nil {
		return page, fmt.Errorf("find aliases: %w", err)
	}
	store.GroupBuilds(&page, builds)
	return page, nil
}
