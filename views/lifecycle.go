package views

import (
	"fmt"
	"net/url"
	"time"

	"github.com/berth/berth/store"
)

// Lifecycle is what pages need to judge an image's support and the age of
// its last scan: the server's clock reading and the scan age it allows.
type Lifecycle struct {
	Now       time.Time
	StaleScan time.Duration // <= 0: never flagged
}

// Support is img's support state now.
func (l Lifecycle) Support(img *store.Image) string { return img.Support(l.Now) }

// Stale reports whether img's last scan is older than the server allows.
func (l Lifecycle) Stale(img *store.Image) bool { return img.StaleScan(l.Now, l.StaleScan) }

// SupportBadge is the short label of the support badge, "" for an image
// that is supported (the normal case needs no badge).
func (l Lifecycle) SupportBadge(img *store.Image) string {
	switch l.Support(img) {
	case store.SupportEnding:
		return "support ending"
	case store.SupportEnded:
		return "support ended"
	}
	return ""
}

// SupportText says in a sentence when upstream support ends or ended.
func (l Lifecycle) SupportText(img *store.Image) string {
	days, ok := img.DaysLeft(l.Now)
	if !ok {
		return "No end of upstream support is on record."
	}
	eol, _ := time.Parse(store.DateLayout, img.EOLDate)
	switch {
	case days <= 0:
		return "Upstream support ended on " + DateText(eol) + "."
	case days == 1:
		return "Upstream support ends tomorrow, " + DateText(eol) + "."
	default:
		return fmt.Sprintf("Upstream support ends on %s, in %d days.", DateText(eol), days)
	}
}

// StaleText explains the stale-scan flag.
func (l Lifecycle) StaleText(img *store.Image) string {
	return fmt.Sprintf("The last scan is more than %d days old: findings may be out of date.", int(l.StaleScan.Hours()/24))
}

// SuccessorURL links the image that supersedes img, on img's architecture.
func SuccessorURL(img *store.Image) string {
	return "/images/by-alias/" + img.SupersededBy + "?architecture=" + url.QueryEscape(img.Architecture)
}

// PinnedRefs are img's pull references at its pinned tags: the floating
// reference's repository with each tag.
func PinnedRefs(img *store.Image) []string {
	repo := img.PullRef
	// The tag follows the last colon after the last slash (a registry may
	// have a port); a digest reference is left as it is.
	slash := -1
	for i := len(repo) - 1; i >= 0; i-- {
		if repo[i] == '/' {
			slash = i
			break
		}
	}
	for i := len(repo) - 1; i > slash; i-- {
		if repo[i] == ':' {
			repo = repo[:i]
			break
		}
		if repo[i] == '@' {
			return nil
		}
	}
	out := make([]string, 0, len(img.TagsPinned))
	for _, t := range img.TagsPinned {
		out = append(out, repo+":"+t)
	}
	return out
}

// SupportLabel names a support state in the filter menu.
func SupportLabel(s string) string {
	switch s {
	case store.SupportSupported:
		return "Supported"
	case store.SupportEnding:
		return "Ending within 90 days"
	case store.SupportEnded:
		return "Support ended"
	}
	return s
}

// SeverityLabel names a max_severity choice in the filter menu.
func SeverityLabel(s string) string {
	if s == "none" {
		return "No findings"
	}
	return "Nothing above " + s
}
