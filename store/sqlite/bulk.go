package sqlite

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/berth/berth/store"
	"github.com/berth/berth/store/synth"
	"golang.org/x/crypto/bcrypt"
)

// BulkAdd adds the images fill hands to add, with their synthetic raters'
// votes, in one transaction arranged for millions of rows (bulkInsertImages
// says how that stays quick): all of them or none. It is how store/synth's
// generated catalogs get in.
func (db *DB) BulkAdd(ctx context.Context, raters []string, fill func(existing int, add func(*synth.Build) error) error) (int, error) {
	raterHash, err := bcrypt.GenerateFromPassword([]byte(store.NewSecret(16)), db.passwordCost())
	if err != nil {
		return 0, err
	}
	raterIDs, err := db.ensureRaters(ctx, raters, raterHash)
	if err != nil {
		return 0, err
	}
	// Each template's JSON columns are encoded once, not per copy.
	type jsonCols struct {
		tags, features, pinned string
		security               any
	}
	encoded := map[int]jsonCols{}
	written := 0
	err = db.bulkInsertImages(ctx, func(ctx context.Context, tx *Tx) error {
		var existing int
		if err := tx.QueryRowContext(ctx, `SELECT /* full scan: once per bulk load */ COUNT(*) FROM images`).Scan(&existing); err != nil {
			return err
		}
		// OR ROLLBACK: a failed row ends the whole load, as any error here
		// does, so SQLite keeps no statement journal of the pages each
		// multi-row INSERT touches (a tenth of the load's time).
		images := newRowBatch(`INSERT OR ROLLBACK INTO images (id, alias, description, image_name, architecture,
			os, release, serial, variant, size, price_cents, added_date, prespawn, tags, based_on, features,
			pull_ref, security, docs, rating_sum, rating_count, eol_date, superseded_by, tags_pinned, source_url) VALUES `,
			`(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, imagesPerStatement)
		var cast []generatedVote // all votes, inserted after the images
		err := fill(existing, func(b *synth.Build) error {
			img := &b.Image
			js, ok := encoded[b.Template]
			if !ok {
				tags, _ := json.Marshal(store.NonNil(img.Tags))
				features, _ := json.Marshal(store.NonNil(img.Features))
				pinned, _ := json.Marshal(store.NonNil(img.TagsPinned))
				js = jsonCols{tags: string(tags), features: string(features), pinned: string(pinned)}
				if img.Security != nil {
					sec, _ := json.Marshal(img.Security)
					js.security = string(sec)
				}
				encoded[b.Template] = js
			}
			if len(b.Votes) > len(raterIDs) {
				return fmt.Errorf("%d votes for %d raters", len(b.Votes), len(raterIDs))
			}
			added := img.AddedDate.UTC().Format(time.RFC3339)
			images.add(img.ID, img.Alias, img.Description, img.ImageName, img.Architecture,
				img.OS, img.Release, img.Serial, img.Variant, img.Size, img.PriceCents, added, boolInt(img.Prespawn),
				js.tags, img.BasedOn, js.features, img.PullRef, js.security, img.Docs, img.RatingSum, img.RatingCount,
				img.EOLDate, img.SupersededBy, js.pinned, img.SourceURL)
			for i, v := range b.Votes {
				cast = append(cast, generatedVote{raterIDs[i], img.ID, v, added})
			}
			written++
			if images.full() {
				return images.flush(ctx, tx, false)
			}
			return nil
		})
		if err != nil {
			return err
		}
		if err := images.flush(ctx, tx, true); err != nil {
			return err
		}
		return insertVotes(ctx, tx, cast)
	})
	if err != nil {
		return 0, fmt.Errorf("bulk add: %w", err)
	}
	return written, db.analyze(ctx)
}

// generatedVote is one synthetic rater's import and rating of an image. The
// votes wait in memory until their images are in: some 30 MB a million images.
type generatedVote struct {
	rater  int64
	image  string
	rating int
	at     string
}

// insertVotes adds the votes' library and rating rows once their images are
// in, in primary key order: each row then lands at the end of its table's
// key, and the check of its image's foreign key walks the images' id index
// in order, where the order the votes were drawn in made both random. With
// the foreign keys checked at commit and OR ROLLBACK, no statement can fail
// halfway, so SQLite keeps no statement journal for them either.
func insertVotes(ctx context.Context, tx *Tx, votes []generatedVote) error {
	slices.SortFunc(votes, func(a, b generatedVote) int {
		return cmp.Or(cmp.Compare(a.rater, b.rater), strings.Compare(a.image, b.image))
	})
	if _, err := tx.ExecContext(ctx, `PRAGMA defer_foreign_keys = ON`); err != nil {
		return err
	}
	lib := newRowBatch(`INSERT OR ROLLBACK INTO library (user_id, image_id, how, price_cents, acquired_at) VALUES `,
		`(?, ?, 'import', 0, ?)`, votesPerStatement)
	rate := newRowBatch(`INSERT OR ROLLBACK INTO ratings (user_id, image_id, rating, updated_at) VALUES `,
		`(?, ?, ?, ?)`, votesPerStatement)
	flush := func(all bool) error {
		if err := lib.flush(ctx, tx, all); err != nil {
			return err
		}
		return rate.flush(ctx, tx, all)
	}
	for _, v := range votes {
		lib.add(v.rater, v.image, v.at)
		rate.add(v.rater, v.image, v.rating, v.at)
		if rate.full() {
			if err := flush(false); err != nil {
				return err
			}
		}
	}
	return flush(true)
}

// Rows per multi-row INSERT: one statement a row cost some 10 s a million
// images in the per-statement work of database/sql and the driver. Far
// below SQLite's limit of 32766 bound values a statement.
const (
	imagesPerStatement = 200
	votesPerStatement  = 500
)

// bulkInsertImages runs fill, which adds images (and rows that refer to
// them), in one write transaction arranged for millions of rows:
//
//   - The images' secondary indexes and triggers are dropped first and
//     rebuilt from the schema's own SQL at the end: building an index by
//     sorting once is far cheaper than growing it row by row. The full-text
//     index gets the new rows in one statement too (indexNewImages).
//   - The connection's settings are tuned for the load (tuneForBulkLoad)
//     and put back before this returns.
//
// The catalog generation moves once, as the dropped triggers would have.
func (db *DB) bulkInsertImages(ctx context.Context, fill func(context.Context, *Tx) error) (err error) {
	// Settings belong to a connection, so hold the one writer connection
	// until they are put back; nothing else writes meanwhile anyway.
	conn, err := db.write.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	settings, err := tuneForBulkLoad(ctx, conn)
	if err != nil {
		return err
	}
	defer func() {
		err = errors.Join(err, settings.restore(context.WithoutCancel(ctx)))
	}()

	sqlTx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	tx := &Tx{Tx: sqlTx, now: db.Now().UTC(), db: db}
	defer tx.Rollback()
	var last int64
	if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(seq), 0) FROM images`).Scan(&last); err != nil {
		return err
	}
	schema, err := dropImageIndexes(ctx, tx)
	if err != nil {
		return err
	}
	if err := fill(ctx, tx); err != nil {
		return err
	}
	if err := settings.forIndexBuilds(ctx, tx); err != nil {
		return err
	}
	for _, stmt := range schema {
		if _, err := tx.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("rebuild %q: %w", stmt, err)
		}
	}
	if err := indexNewImages(ctx, tx, last); err != nil {
		return fmt.Errorf("search index: %w", err)
	}
	// The triggers that move the generation were off during the load.
	if _, err := tx.ExecContext(ctx, `UPDATE catalog_generation SET generation = generation + 1 WHERE id = 1`); err != nil {
		return err
	}
	return tx.Commit()
}

// indexNewImages adds the images after seq last to the full-text index, as
// the dropped insert trigger would have, but in one statement. FTS5 keeps
// pending terms in memory up to its hashsize (1 MB by default) and writes a
// segment each time it fills, merging segments as they pile up; at a million
// rows that merging was most of the work, so a much larger hashsize is set
// for this statement and the stored configuration put back as it was.
func indexNewImages(ctx context.Context, tx *Tx, last int64) error {
	var saved any
	err := tx.QueryRowContext(ctx, `SELECT v FROM images_fts_config WHERE k = 'hashsize'`).Scan(&saved)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return err
	}
	wasSet := err == nil
	if _, err := tx.ExecContext(ctx, `INSERT INTO images_fts (images_fts, rank) VALUES ('hashsize', ?)`, ftsHashSize); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO images_fts (rowid, image_name, alias, description, tags)
		SELECT seq, image_name, alias, description, tags FROM images WHERE seq > ? ORDER BY seq`, last); err != nil {
		return err
	}
	if wasSet {
		_, err = tx.ExecContext(ctx, `INSERT INTO images_fts (images_fts, rank) VALUES ('hashsize', ?)`, saved)
		return err
	}
	// Back to the built-in default, which also tells other connections that
	// the configuration changed, and then to no row at all, as before.
	if _, err := tx.ExecContext(ctx, `INSERT INTO images_fts (images_fts, rank) VALUES ('hashsize', ?)`, ftsDefaultHashSize); err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `DELETE FROM images_fts_config WHERE k = 'hashsize'`)
	return err
}

const (
	ftsHashSize        = 64 << 20
	ftsDefaultHashSize = 1 << 20
)

// bulkSettings are a connection's settings as they were before
// tuneForBulkLoad changed them.
type bulkSettings struct {
	conn                          *sql.Conn
	journal, cache, temp, threads string
	journalChanged                bool
}

// tuneForBulkLoad prepares conn for one very large transaction:
//
//   - A rollback journal instead of WAL, when no other connection has the
//     database open; SQLite refuses the switch otherwise (a running server),
//     and the load goes ahead in WAL, where readers keep working. In WAL
//     every page is written twice, to the log and by the checkpoint, and
//     while the transaction is open each read of a page that is not cached
//     searches the whole, ever longer, log. With a rollback journal, pages
//     past the old end of the file need no journal at all. Synchronous stays
//     FULL, so the commit is as durable, and WAL comes back after it (and,
//     should the process die first, on the next Open). Meanwhile another
//     process that opens the database waits for the lock and then reports
//     it busy, where in WAL it could have read.
//   - A large page cache for the random inserts into the unique indexes.
//   - Statement journals in memory: each multi-row INSERT into the library
//     and ratings keeps one, since a foreign key may fail mid-statement, and
//     the pages saved in it went to a temporary file, a write call each.
//     (The images are inserted OR ROLLBACK, which needs none.)
func tuneForBulkLoad(ctx context.Context, conn *sql.Conn) (*bulkSettings, error) {
	s := &bulkSettings{conn: conn}
	for _, p := range []struct {
		name string
		v    *string
	}{{"journal_mode", &s.journal}, {"cache_size", &s.cache}, {"temp_store", &s.temp}, {"threads", &s.threads}} {
		if err := conn.QueryRowContext(ctx, "PRAGMA "+p.name).Scan(p.v); err != nil {
			return nil, fmt.Errorf("read %s: %w", p.name, err)
		}
	}
	if strings.EqualFold(s.journal, "wal") {
		var mode string
		err := conn.QueryRowContext(ctx, `PRAGMA journal_mode = DELETE`).Scan(&mode)
		if err != nil && !isBusy(err) {
			return nil, err
		}
		s.journalChanged = err == nil && !strings.EqualFold(mode, s.journal)
	}
	if _, err := conn.ExecContext(ctx, `PRAGMA cache_size = -262144; PRAGMA temp_store = MEMORY`); err != nil {
		return nil, errors.Join(err, s.restore(context.WithoutCancel(ctx)))
	}
	return s, nil
}

// forIndexBuilds prepares the transaction's connection for CREATE INDEX.
// SQLite sorts an index in worker threads, but only when its temporary
// files may be on disk and when the keys outgrow the sorter's memory, which
// is the page cache's size. So the temporary store goes back to what it was,
// the cache shrinks (the table is read in order, so a small cache costs
// little) and the workers may use every CPU: the builds took some 30% less.
func (s *bulkSettings) forIndexBuilds(ctx context.Context, tx *Tx) error {
	_, err := tx.ExecContext(ctx, fmt.Sprintf(`PRAGMA temp_store = %s; PRAGMA cache_size = -2000; PRAGMA threads = %d`,
		s.temp, min(runtime.GOMAXPROCS(0), 8)))
	return err
}

// restore puts the connection's settings back as they were.
func (s *bulkSettings) restore(ctx context.Context) error {
	var errs []error
	if s.journalChanged {
		var mode string
		if err := s.conn.QueryRowContext(ctx, `PRAGMA journal_mode = `+s.journal).Scan(&mode); err != nil {
			errs = append(errs, fmt.Errorf("journal mode back to %s: %w", s.journal, err))
		}
	}
	if _, err := s.conn.ExecContext(ctx, fmt.Sprintf(`PRAGMA cache_size = %s; PRAGMA temp_store = %s; PRAGMA threads = %s`,
		s.cache, s.temp, s.threads)); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// rowBatch gathers rows for multi-row INSERTs into one table.
type rowBatch struct {
	head, row string // "INSERT ... VALUES " and one row's "(?, ...)"
	cols, per int    // values a row, rows a full statement
	stmt      *sql.Stmt
	args      []any
}

func newRowBatch(head, row string, per int) *rowBatch {
	cols := strings.Count(row, "?")
	return &rowBatch{head: head, row: row, cols: cols, per: per, args: make([]any, 0, cols*per)}
}

func (b *rowBatch) add(values ...any) { b.args = append(b.args, values...) }

func (b *rowBatch) full() bool { return len(b.args) >= b.cols*b.per }

// sql is the statement that inserts rows rows.
func (b *rowBatch) sql(rows int) string {
	var sb strings.Builder
	sb.Grow(len(b.head) + rows*(len(b.row)+2))
	sb.WriteString(b.head)
	for i := range rows {
		if i > 0 {
			sb.WriteString(", ")
		}
		sb.WriteString(b.row)
	}
	return sb.String()
}

// flush writes the gathered rows in full statements, keeping the rest for
// later, or writes the rest too when all is set.
func (b *rowBatch) flush(ctx context.Context, tx *Tx, all bool) error {
	n := b.cols * b.per
	done := 0
	for ; len(b.args)-done >= n; done += n {
		if b.stmt == nil {
			stmt, err := tx.PrepareContext(ctx, b.sql(b.per))
			if err != nil {
				return err
			}
			b.stmt = stmt
		}
		if _, err := b.stmt.ExecContext(ctx, b.args[done:done+n]...); err != nil {
			return err
		}
	}
	if all && done < len(b.args) {
		if _, err := tx.ExecContext(ctx, b.sql((len(b.args)-done)/b.cols), b.args[done:]...); err != nil {
			return err
		}
		done = len(b.args)
	}
	rest := copy(b.args, b.args[done:])
	clear(b.args[rest:]) // let the strings go
	b.args = b.args[:rest]
	return nil
}

// analyze refreshes the statistics the query planner uses to choose between
// indexes (a filter's or a sort's), sampling so it stays quick at scale.
func (db *DB) analyze(ctx context.Context) error {
	if _, err := db.write.ExecContext(ctx, `PRAGMA analysis_limit = 1000; ANALYZE`); err != nil {
		return fmt.Errorf("analyze: %w", err)
	}
	return nil
}

// dropImageIndexes drops the images table's own indexes and triggers and
// returns the SQL that recreates them, read from the schema itself.
func dropImageIndexes(ctx context.Context, tx *Tx) ([]string, error) {
	rows, err := tx.QueryContext(ctx, `SELECT type, name, sql FROM sqlite_master
		WHERE tbl_name = 'images' AND type IN ('index', 'trigger') AND sql IS NOT NULL`)
	if err != nil {
		return nil, err
	}
	var schema, drops []string
	for rows.Next() {
		var typ, name, sql string
		if err := rows.Scan(&typ, &name, &sql); err != nil {
			rows.Close()
			return nil, err
		}
		schema = append(schema, sql)
		drops = append(drops, "DROP "+strings.ToUpper(typ)+" "+name)
	}
	rows.Close()
	for _, d := range drops {
		if _, err := tx.ExecContext(ctx, d); err != nil {
			return nil, fmt.Errorf("%s: %w", d, err)
		}
	}
	return schema, rows.Err()
}

// ensureRaters makes (or finds) the synthetic people whose ratings bulk
// loads carry. Their passwords are random and thrown away.
func (db *DB) ensureRaters(ctx context.Context, emails []string, hash []byte) ([]int64, error) {
	tx, err := db.begin(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	ids := make([]int64, len(emails))
	for i, email := range emails {
		err := tx.QueryRowContext(ctx, `SELECT id FROM users WHERE email = ?`, email).Scan(&ids[i])
		if err == nil {
			continue
		}
		u, err := createUserTx(ctx, tx, email, hash)
		if err != nil {
			return nil, err
		}
		ids[i] = u.ID
	}
	return ids, tx.Commit()
}
