package store

import "context"

// Moving a Berth from one backend to another (berth migrate-to) copies
// every row of every table. The rows travel in a form no backend owns:
// each column has a Kind, and its values are the Go types the Kind names,
// whatever the backend stores (SQLite keeps times as text and lists as
// JSON; PostgreSQL as timestamptz and text[]).

// Kind is how a column's values travel between backends.
type Kind int

// Column kinds and the Go types of their values.
const (
	KindInt      Kind = iota // int64
	KindText                 // string
	KindTime                 // time.Time, UTC
	KindBool                 // bool
	KindStrings              // []string, never nil
	KindNullInt              // *int64
	KindNullText             // *string
	KindNullTime             // *time.Time, UTC
)

// Column is one column of a copied table.
type Column struct {
	Name string
	Kind Kind
}

// DumpTable is the layout of one table as it is copied.
type DumpTable struct {
	Name    string
	Columns []Column
}

// DumpTables lists every table a Berth database holds, in an order in
// which each table's rows refer only to rows of tables before it.
var DumpTables = []DumpTable{
	{"images", []Column{{"id", KindText}, {"alias", KindText}, {"description", KindText}, {"image_name", KindText},
		{"architecture", KindText}, {"os", KindText}, {"release", KindText}, {"serial", KindText}, {"variant", KindText},
		{"size", KindInt}, {"price_cents", KindInt}, {"added_date", KindTime}, {"prespawn", KindBool}, {"tags", KindStrings},
		{"based_on", KindText}, {"features", KindStrings}, {"pull_ref", KindText}, {"security", KindNullText}, {"docs", KindText},
		{"rating_sum", KindInt}, {"rating_count", KindInt}, {"eol_date", KindText}, {"superseded_by", KindText},
		{"tags_pinned", KindStrings}, {"source_url", KindText}}},
	{"users", []Column{{"id", KindInt}, {"email", KindText}, {"password_hash", KindText}, {"created_at", KindTime}}},
	{"wallets", []Column{{"user_id", KindInt}, {"currency", KindText}, {"balance_cents", KindInt}}},
	{"api_tokens", []Column{{"id", KindInt}, {"user_id", KindInt}, {"name", KindText}, {"hash", KindText}, {"hint", KindText},
		{"created_at", KindTime}, {"revoked_at", KindNullTime}}},
	{"sessions", []Column{{"id_hash", KindText}, {"user_id", KindNullInt}, {"data", KindText}, {"created_at", KindTime}, {"expires_at", KindTime}}},
	{"ledger", []Column{{"id", KindInt}, {"user_id", KindInt}, {"kind", KindText}, {"amount_cents", KindInt}, {"image_id", KindNullText},
		{"memo", KindText}, {"created_at", KindTime}}},
	{"library", []Column{{"user_id", KindInt}, {"image_id", KindText}, {"how", KindText}, {"price_cents", KindInt}, {"acquired_at", KindTime}}},
	{"ratings", []Column{{"user_id", KindInt}, {"image_id", KindText}, {"rating", KindInt}, {"updated_at", KindTime}}},
	{"idempotency_keys", []Column{{"user_id", KindInt}, {"key", KindText}, {"request_hash", KindText}, {"response", KindText}, {"created_at", KindTime}}},
	{"vouchers", []Column{{"id", KindInt}, {"code_hash", KindText}, {"hint", KindText}, {"amount_cents", KindInt}, {"created_at", KindTime},
		{"expires_at", KindNullTime}, {"redeemed_by", KindNullInt}, {"redeemed_at", KindNullTime}}},
	{"image_events", []Column{{"event_seq", KindInt}, {"image_id", KindText}, {"kind", KindText}, {"build", KindText},
		{"at", KindTime}, {"summary", KindText}}},
	{"feed_keys", []Column{{"user_id", KindInt}, {"key_hash", KindText}, {"created_at", KindTime}}},
	{"builds", []Column{{"image_id", KindText}, {"kind", KindText}, {"digest", KindText}, {"media_type", KindText},
		{"size", KindInt}, {"loaded_at", KindTime}}},
	{"build_blobs", []Column{{"image_id", KindText}, {"kind", KindText}, {"digest", KindText}, {"size", KindInt},
		{"media_type", KindText}, {"role", KindText}}},
	{"pulls", []Column{{"user_id", KindInt}, {"image_id", KindText}, {"count", KindInt}, {"last_pulled_at", KindTime}}},
	{"pull_keys", []Column{{"id", KindInt}, {"user_id", KindInt}, {"hash", KindText}, {"hint", KindText},
		{"created_at", KindTime}, {"revoked_at", KindNullTime}}},
}

// Dumper is a backend whose every row can be copied out.
type Dumper interface {
	// Dump reads one consistent snapshot and calls put for each table of
	// DumpTables in order, with its rows: each row's values in the
	// table's column order, of the types their Kinds name.
	Dump(ctx context.Context, put func(t DumpTable, rows [][]any) error) error
}

// Restorer is a backend that can take every row of another one.
type Restorer interface {
	// Restore copies into this database, which must hold no images and no
	// accounts, everything fill puts, in one transaction: all or nothing.
	Restore(ctx context.Context, fill func(put func(t DumpTable, rows [][]any) error) error) error
}
