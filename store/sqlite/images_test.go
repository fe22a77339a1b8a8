package sqlite

import (
	"encoding/json"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/berth/berth/store"
)

// decodeStrings must decode exactly as json.Unmarshal does, fast path or not.
func TestDecodeStringsAgreesWithJSON(t *testing.T) {
	inputs := []string{`[]`, ` [ ] `, `["a"]`, `["a","b c", "d,e"]`, `[ "x" , "y" ]`, `["é", "日本"]`,
		`["a\"b"]`, `["a\\b"]`, `["\u00e9"]`, `["a",]`, `["a" "b"]`, `[`, `]`, `null`, `["a"]x`, `[1]`,
		`["a", 2]`, "[\"a\tb\"]", `[""]`, `["",""]`, `{}`, ``, "[\"\xff\"]", `["]"]`, `["[",","]`}
	rng := rand.New(rand.NewPCG(3, 4))
	pieces := []string{`[`, `]`, `"`, `,`, ` `, `a`, `\`, `"x"`, `é`, "\x01"}
	for range 3000 {
		var b strings.Builder
		for range rng.IntN(8) {
			b.WriteString(pieces[rng.IntN(len(pieces))])
		}
		inputs = append(inputs, b.String())
	}
	for _, in := range inputs {
		var want, got []string
		wantErr := json.Unmarshal([]byte(in), &want)
		gotErr := decodeStrings(in, &got)
		if (wantErr == nil) != (gotErr == nil) {
			t.Fatalf("%q: error %v, json.Unmarshal says %v", in, gotErr, wantErr)
		}
		if wantErr == nil && (!slices.Equal(got, want) || (got == nil) != (want == nil)) {
			t.Fatalf("%q: got %#v, json.Unmarshal gives %#v", in, got, want)
		}
	}
}

// decodeSecurity must decode exactly as json.Unmarshal does, fast path or not.
func TestDecodeSecurityAgreesWithJSON(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	inputs := []string{`{}`, `null`, `{"signed":true}`, `{"signed":true,"sbom":"spdx","last_scan":"2026-01-02T03:04:05Z","findings":{"critical":1,"high":2,"medium":3,"low":4}} `,
		`{"signed":false,"sbom":"a\"b","last_scan":"2026-01-02T03:04:05Z","findings":{"critical":0,"high":0,"medium":0,"low":0}}`,
		`{"signed":true,"sbom":"","last_scan":"2026-01-02T03:04:05+02:00","findings":{"critical":01,"high":0,"medium":0,"low":0}}`,
		`{"signed":true,"sbom":"","last_scan":"not a time","findings":{"critical":0,"high":0,"medium":0,"low":0}}`,
		`{"signed":true,"sbom":"","last_scan":"2026-01-02T03:04:05Z","findings":{"critical":-1,"high":0,"medium":0,"low":0}}`,
		`{"signed":true,"sbom":"","last_scan":"2026-01-02T03:04:05Z","findings":{"critical":99999999999,"high":0,"medium":0,"low":0}}`}
	for range 500 {
		v := store.Security{Signed: rng.IntN(2) == 0, SBOM: []string{"", "spdx", "cyclonedx 1.5", "é"}[rng.IntN(4)],
			LastScan: time.Date(2020+rng.IntN(10), time.Month(1+rng.IntN(12)), 1+rng.IntN(28), rng.IntN(24), 0, rng.IntN(60), rng.IntN(3)*500_000_000, time.UTC),
			Findings: store.Findings{Critical: rng.IntN(3), High: rng.IntN(30), Medium: rng.IntN(300), Low: rng.IntN(3000)}}
		b, _ := json.Marshal(v)
		inputs = append(inputs, string(b))
		// And a copy with one byte changed.
		m := []byte(string(b))
		m[rng.IntN(len(m))] = "0a\"\\:,{}- "[rng.IntN(10)]
		inputs = append(inputs, string(m))
	}
	for _, in := range inputs {
		var want, got store.Security
		wantErr := json.Unmarshal([]byte(in), &want)
		gotErr := decodeSecurity(in, &got)
		if (wantErr == nil) != (gotErr == nil) {
			t.Fatalf("%s: error %v, json.Unmarshal says %v", in, gotErr, wantErr)
		}
		if wantErr == nil && (got != want || got.LastScan.Location().String() != want.LastScan.Location().String()) {
			t.Fatalf("%s: got %+v, json.Unmarshal gives %+v", in, got, want)
		}
	}
}
