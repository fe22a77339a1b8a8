package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/berth/berth/store"
)

var _ store.Dumper = (*DB)(nil)

// Dump reads every table in one read transaction (one snapshot) and hands
// each to put with its values converted from SQLite's storage (RFC 3339
// text, 0/1, JSON lists) to the kinds store.DumpTables names.
func (db *DB) Dump(ctx context.Context, put func(t store.DumpTable, rows [][]any) error) error {
	tx, err := db.read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return fmt.Errorf("dump: %w", err)
	}
	defer tx.Rollback()
	for _, t := range store.DumpTables {
		names := make([]string, len(t.Columns))
		for i, c := range t.Columns {
			names[i] = c.Name
		}
		rows, err := tx.QueryContext(ctx, `SELECT /* full scan: a dump reads everything */ `+strings.Join(names, ", ")+` FROM `+t.Name)
		if err != nil {
			return fmt.Errorf("dump %s: %w", t.Name, err)
		}
		var out [][]any
		for rows.Next() {
			raw := make([]any, len(names))
			ptrs := make([]any, len(names))
			for i := range raw {
				ptrs[i] = &raw[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				rows.Close()
				return fmt.Errorf("dump %s: %w", t.Name, err)
			}
			row := make([]any, len(names))
			for i, c := range t.Columns {
				if row[i], err = neutral(c.Kind, raw[i]); err != nil {
					rows.Close()
					return fmt.Errorf("dump %s.%s: %w", t.Name, c.Name, err)
				}
			}
			out = append(out, row)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("dump %s: %w", t.Name, err)
		}
		if err := put(t, out); err != nil {
			return err
		}
	}
	return nil
}

// neutral converts one stored SQLite value to the Go type of its kind.
func neutral(k store.Kind, v any) (any, error) {
	text := func() (string, bool) {
		switch s := v.(type) {
		case string:
			return s, true
		case []byte:
			return string(s), true
		}
		return "", false
	}
	switch k {
	case store.KindInt:
		n, ok := v.(int64)
		if !ok {
			return nil, fmt.Errorf("%v is not an integer", v)
		}
		return n, nil
	case store.KindText:
		s, ok := text()
		if !ok {
			return nil, fmt.Errorf("%v is not text", v)
		}
		return s, nil
	case store.KindBool:
		n, ok := v.(int64)
		if !ok {
			return nil, fmt.Errorf("%v is not 0 or 1", v)
		}
		return n != 0, nil
	case store.KindTime:
		s, _ := text()
		t, err := time.Parse(time.RFC3339, s)
		return t.UTC(), err
	case store.KindStrings:
		s, _ := text()
		var list []string
		if err := json.Unmarshal([]byte(s), &list); err != nil {
			return nil, err
		}
		return store.NonNil(list), nil
	}
	if v == nil {
		switch k {
		case store.KindNullInt:
			return (*int64)(nil), nil
		case store.KindNullText:
			return (*string)(nil), nil
		default:
			return (*time.Time)(nil), nil
		}
	}
	switch k {
	case store.KindNullInt:
		n, ok := v.(int64)
		if !ok {
			return nil, fmt.Errorf("%v is not an integer", v)
		}
		return &n, nil
	case store.KindNullText:
		s, _ := text()
		return &s, nil
	default:
		s, _ := text()
		t, err := time.Parse(time.RFC3339, s)
		t = t.UTC()
		return &t, err
	}
}
