package listing

import (
	"encoding/binary"
	"fmt"
	"time"

	"github.com/berth/berth/store"
)

// Images listed lately are kept encoded (see Index.listed): one slice
// of bytes each, about half the memory of an Image with its strings and
// slices, and nothing in it for the garbage collector to follow, so a large
// cache of them does not lengthen every collection.

// encodeRow encodes the fields a listing shows of img. Docs is left out,
// as listings leave it out; ratings come from the index.
func encodeRow(img *store.Image) []byte {
	b := make([]byte, 0, 96+len(img.ID)+len(img.Alias)+len(img.Description)+len(img.ImageName)+len(img.PullRef))
	for _, s := range []string{img.ID, img.Alias, img.Description, img.ImageName, img.Architecture, img.OS,
		img.Release, img.Serial, img.Variant, img.BasedOn, img.PullRef, img.EOLDate, img.SupersededBy, img.SourceURL} {
		b = appendString(b, s)
	}
	b = binary.AppendVarint(b, img.Size)
	b = binary.AppendVarint(b, img.PriceCents)
	b = appendTime(b, img.AddedDate)
	b = append(b, boolByte(img.Prespawn))
	b = appendStrings(b, img.Tags)
	b = appendStrings(b, img.Features)
	b = appendStrings(b, img.TagsPinned)
	if sec := img.Security; sec == nil {
		b = append(b, 0)
	} else {
		b = append(b, 1, boolByte(sec.Signed))
		b = appendString(b, sec.SBOM)
		b = appendTime(b, sec.LastScan)
		for _, n := range []int{sec.Findings.Critical, sec.Findings.High, sec.Findings.Medium, sec.Findings.Low} {
			b = binary.AppendVarint(b, int64(n))
		}
		for _, s := range []string{sec.Scanner, sec.Signature, sec.SBOMURL, sec.ReportURL} {
			b = appendString(b, s)
		}
	}
	return b
}

// decodeRow is the inverse of encodeRow. The strings share one copy of b.
func decodeRow(b []byte) (*store.Image, error) {
	d := rowDecoder{text: string(b)}
	img := &store.Image{}
	for _, s := range []*string{&img.ID, &img.Alias, &img.Description, &img.ImageName, &img.Architecture, &img.OS,
		&img.Release, &img.Serial, &img.Variant, &img.BasedOn, &img.PullRef, &img.EOLDate, &img.SupersededBy, &img.SourceURL} {
		*s = d.string()
	}
	img.Size = d.varint()
	img.PriceCents = d.varint()
	img.AddedDate = d.time()
	img.Prespawn = d.byte() == 1
	img.Tags = d.strings()
	img.Features = d.strings()
	img.TagsPinned = d.strings()
	if d.byte() == 1 {
		sec := &store.Security{Signed: d.byte() == 1}
		sec.SBOM = d.string()
		sec.LastScan = d.time()
		for _, n := range []*int{&sec.Findings.Critical, &sec.Findings.High, &sec.Findings.Medium, &sec.Findings.Low} {
			*n = int(d.varint())
		}
		for _, s := range []*string{&sec.Scanner, &sec.Signature, &sec.SBOMURL, &sec.ReportURL} {
			*s = d.string()
		}
		img.Security = sec
	}
	if d.err != nil || d.pos != len(d.text) {
		return nil, fmt.Errorf("decode listed image: %v at byte %d of %d", d.err, d.pos, len(d.text))
	}
	return img, nil
}

func boolByte(v bool) byte {
	if v {
		return 1
	}
	return 0
}

func appendString(b []byte, s string) []byte {
	return append(binary.AppendUvarint(b, uint64(len(s))), s...)
}

// appendStrings keeps nil apart from empty: a count of 0 is nil, else the
// count plus one.
func appendStrings(b []byte, ss []string) []byte {
	if ss == nil {
		return append(b, 0)
	}
	b = binary.AppendUvarint(b, uint64(len(ss))+1)
	for _, s := range ss {
		b = appendString(b, s)
	}
	return b
}

// appendTime keeps a UTC time as nanoseconds, which decode to the very
// same time.Time, and any other as RFC 3339 text with its offset.
func appendTime(b []byte, t time.Time) []byte {
	if t.Location() == time.UTC && t.Year() > 1677 && t.Year() < 2262 { // int64 nanoseconds' range
		return binary.AppendVarint(append(b, 0), t.UnixNano())
	}
	return appendString(append(b, 1), t.Format(time.RFC3339Nano))
}

type rowDecoder struct {
	text string
	pos  int
	err  error
}

func (d *rowDecoder) fail(what string) {
	if d.err == nil {
		d.err = fmt.Errorf("bad %s", what)
	}
	d.pos = len(d.text)
}

func (d *rowDecoder) byte() byte {
	if d.pos >= len(d.text) {
		d.fail("byte")
		return 0
	}
	d.pos++
	return d.text[d.pos-1]
}

func (d *rowDecoder) uvarint() uint64 {
	v, n := binary.Uvarint([]byte(d.text[d.pos:min(len(d.text), d.pos+binary.MaxVarintLen64)]))
	if n <= 0 {
		d.fail("length")
		return 0
	}
	d.pos += n
	return v
}

// varint reads what binary.AppendVarint wrote: a uvarint, zig-zag encoded.
func (d *rowDecoder) varint() int64 {
	u := d.uvarint()
	v := int64(u >> 1)
	if u&1 != 0 {
		v = ^v
	}
	return v
}

func (d *rowDecoder) string() string {
	n := d.uvarint()
	if n > uint64(len(d.text)-d.pos) {
		d.fail("string")
		return ""
	}
	s := d.text[d.pos : d.pos+int(n)]
	d.pos += int(n)
	return s
}

func (d *rowDecoder) strings() []string {
	n := d.uvarint()
	if n == 0 {
		return nil
	}
	if n-1 > uint64(len(d.text)-d.pos) { // each string takes a byte at least
		d.fail("list")
		return nil
	}
	ss := make([]string, n-1)
	for i := range ss {
		ss[i] = d.string()
	}
	return ss
}

func (d *rowDecoder) time() time.Time {
	if d.byte() == 0 {
		return time.Unix(0, d.varint()).UTC()
	}
	t, err := time.Parse(time.RFC3339Nano, d.string())
	if err != nil {
		d.fail("time")
	}
	return t
}
