package store

import (
	"fmt"
	"strings"
	"time"
)

// Kinds of catalog events, which the Atom feeds are made of.
const (
	EventAdded    = "added"    // a new image joined the catalog
	EventSerial   = "serial"   // an image got a new build
	EventSecurity = "security" // an image's signature, SBOM or scan changed
)

// FeedLimit is how many entries a feed holds: the latest events.
const FeedLimit = 50

// ImageEvent is one change of the catalog, as a feed entry tells it.
type ImageEvent struct {
	Seq     int64 // in the order events happened; never reused
	Kind    string
	At      time.Time
	Serial  string // the image's serial after the event
	Summary string // what changed, in a sentence
	Image   *Image // the image as it is now
}

// FeedKeyPrefix starts every personal feed key, so a leaked one is easy
// to recognise.
const FeedKeyPrefix = "berthfeed_"

// ImageChanges are the events an import makes of an image's old and new
// states: added when old is nil, else a new serial and a security change
// as they happened.
func ImageChanges(old, img *Image) []ImageEvent {
	if old == nil {
		return []ImageEvent{{Kind: EventAdded, Serial: img.Serial, Summary: "New image " + img.Alias + " (" + img.Architecture + "), build " + img.Serial + "."}}
	}
	var out []ImageEvent
	if old.Serial != img.Serial {
		out = append(out, ImageEvent{Kind: EventSerial, Serial: img.Serial,
			Summary: fmt.Sprintf("New build %s of %s (%s), replacing %s.", img.Serial, img.Alias, img.Architecture, old.Serial)})
	}
	if s := SecurityChange(old.Security, img.Security); s != "" {
		out = append(out, ImageEvent{Kind: EventSecurity, Serial: img.Serial, Summary: s})
	}
	return out
}

// SecurityChange describes how an image's security record changed, ""
// when it did not in any way a person acts on.
func SecurityChange(old, cur *Security) string {
	var a, b Security
	if old != nil {
		a = *old
	}
	if cur != nil {
		b = *cur
	}
	var parts []string
	if a.Signed != b.Signed {
		if b.Signed {
			parts = append(parts, "now signed")
		} else {
			parts = append(parts, "no longer signed")
		}
	}
	if a.Signature != b.Signature && b.Signed && a.Signed {
		parts = append(parts, "signature changed to "+b.Signature)
	}
	if !a.LastScan.Equal(b.LastScan) || a.Findings != b.Findings {
		if b.LastScan.IsZero() {
			parts = append(parts, "no scan on record")
		} else {
			parts = append(parts, fmt.Sprintf("scanned %s: %s", b.LastScan.UTC().Format(DateLayout), findingsText(b.Findings)))
		}
		if a.Findings != b.Findings && !a.LastScan.IsZero() {
			parts = append(parts, "was "+findingsText(a.Findings))
		}
	}
	if a.SBOM != b.SBOM && b.SBOM != "" {
		parts = append(parts, b.SBOM+" SBOM")
	}
	if len(parts) == 0 {
		return ""
	}
	s := strings.Join(parts, "; ")
	return strings.ToUpper(s[:1]) + s[1:] + "."
}

func findingsText(f Findings) string {
	if f.Total() == 0 {
		return "no findings"
	}
	return fmt.Sprintf("%d critical, %d high, %d medium, %d low", f.Critical, f.High, f.Medium, f.Low)
}
