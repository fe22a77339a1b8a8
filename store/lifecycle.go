package store

import (
	"strings"
	"time"
)

// Support states of an image, derived from its eol_date and the date it
// is asked on (see SupportOf).
const (
	SupportSupported = "supported"
	SupportEnding    = "ending"
	SupportEnded     = "ended"
)

// SupportStates lists the support states in the order forms offer them.
var SupportStates = []string{SupportSupported, SupportEnding, SupportEnded}

// EndingWindow is how long before its end of life an image counts as
// ending rather than supported.
const EndingWindow = 90 * 24 * time.Hour

// endingDays is EndingWindow in days, as dates move.
const endingDays = 90

// DateLayout is how eol_date is written: an RFC 3339 full-date.
const DateLayout = "2006-01-02"

// ValidSupport reports whether s names a support state.
func ValidSupport(s string) bool {
	for _, v := range SupportStates {
		if s == v {
			return true
		}
	}
	return false
}

// SupportOf is the support state of an image whose upstream support ends on
// eol (a DateLayout date, "" for no known end), as of now's UTC date: ended
// from the eol date on, ending in the 90 days before it, supported before
// that and whenever no end is known.
func SupportOf(eol string, now time.Time) string {
	if eol == "" {
		return SupportSupported
	}
	today, horizon := supportDates(now)
	switch {
	case eol <= today:
		return SupportEnded
	case eol <= horizon:
		return SupportEnding
	default:
		return SupportSupported
	}
}

// Support is the image's support state as of now (see SupportOf).
func (img *Image) Support(now time.Time) string { return SupportOf(img.EOLDate, now) }

// DaysLeft is the number of days from now's date to the image's eol_date,
// negative once it has passed; ok is false when no eol_date is known.
func (img *Image) DaysLeft(now time.Time) (days int, ok bool) {
	if img.EOLDate == "" {
		return 0, false
	}
	eol, err := time.Parse(DateLayout, img.EOLDate)
	if err != nil {
		return 0, false
	}
	today, _ := time.Parse(DateLayout, now.UTC().Format(DateLayout))
	return int(eol.Sub(today).Hours() / 24), true
}

// supportDates are now's UTC date and the date EndingWindow later, as
// DateLayout text, which compares in time order.
func supportDates(now time.Time) (today, horizon string) {
	d := now.UTC()
	return d.Format(DateLayout), d.AddDate(0, 0, endingDays).Format(DateLayout)
}

// SupportBounds is what a support filter keeps, for backends to test
// eol_date with: images whose eol_date is after `after` and, unless
// through is "", no later than through, as DateLayout text; and, when
// none is true, images without an eol_date too. Every backend filters
// with these bounds, so they agree with SupportOf.
func SupportBounds(support string, now time.Time) (after, through string, none bool) {
	today, horizon := supportDates(now)
	switch support {
	case SupportEnded:
		return "", today, false // any date, "" excluded, up to today
	case SupportEnding:
		return today, horizon, false
	default:
		return horizon, "", true
	}
}

// Severity names, from least to most severe, as max_severity takes them.
// "none" keeps images whose last scan found nothing.
var Severities = []string{"none", "low", "medium", "high", "critical"}

// SeverityUnscanned is the worst-severity rank of an image that has no scan
// on record: above every severity, so max_severity never keeps it.
const SeverityUnscanned = 5

// SeverityRank is the position of a severity name in Severities, -1 for an
// unknown name.
func SeverityRank(name string) int {
	for i, s := range Severities {
		if name == s {
			return i
		}
	}
	return -1
}

// WorstSeverity ranks an image's last scan by its most severe finding:
// 0 when it found nothing, 4 with a critical finding, and
// SeverityUnscanned when no scan is on record. The SQLite column
// worst_severity computes the same.
func (img *Image) WorstSeverity() int {
	s := img.Security
	switch {
	case s == nil || s.LastScan.IsZero():
		return SeverityUnscanned
	case s.Findings.Critical > 0:
		return 4
	case s.Findings.High > 0:
		return 3
	case s.Findings.Medium > 0:
		return 2
	case s.Findings.Low > 0:
		return 1
	}
	return 0
}

// Signed reports whether the image's signature is on record.
func (img *Image) Signed() bool { return img.Security != nil && img.Security.Signed }

// DefaultStaleScan is how old a scan may be before it is flagged as stale,
// unless the operator says otherwise (berth serve --stale-scan).
const DefaultStaleScan = 30 * 24 * time.Hour

// StaleScan reports whether the image's last scan is older than maxAge as
// of now; an image with no scan on record is not flagged (it says so
// already), and maxAge <= 0 turns the flag off. Dates count, not hours:
// a scan turns stale at the start of a UTC day, so one day's pages agree.
func (img *Image) StaleScan(now time.Time, maxAge time.Duration) bool {
	s := img.Security
	if s == nil || s.LastScan.IsZero() || maxAge <= 0 {
		return false
	}
	today, _ := time.Parse(DateLayout, now.UTC().Format(DateLayout))
	return s.LastScan.Before(today.Add(-maxAge))
}

// CosignVerify is the command that checks a signed image's signature: the
// keyless form with the OIDC issuer and identity the catalog records in
// security.signature ("cosign keyless; issuer ...; identity ..."), or the
// key-based form when it names a key. "" when the image is not signed or
// has no pull reference.
func (img *Image) CosignVerify() string {
	if !img.Signed() || img.PullRef == "" {
		return ""
	}
	sig := ParseSignature(img.Security.Signature)
	cmd := "cosign verify " + img.PullRef
	switch {
	case sig.Key != "":
		cmd += " \\\n  --key " + sig.Key
	case sig.Issuer != "" || sig.Identity != "":
		if sig.Issuer != "" {
			cmd += " \\\n  --certificate-oidc-issuer " + sig.Issuer
		}
		if sig.Identity != "" {
			cmd += " \\\n  --certificate-identity-regexp '" + sig.Identity + "'"
		}
	default:
		// Keyless with nothing recorded: any identity, which verifies the
		// transparency log entry but not who signed.
		cmd += " \\\n  --certificate-oidc-issuer-regexp '.*' \\\n  --certificate-identity-regexp '.*'"
	}
	return cmd
}

// Signature is security.signature read into its parts.
type Signature struct {
	Method   string // e.g. "cosign keyless"
	Issuer   string
	Identity string // a regular expression
	Key      string
}

// ParseSignature reads a signature description of the form
// "cosign keyless; issuer URL; identity REGEXP" or "cosign; key REF".
// Parts it does not know are ignored.
func ParseSignature(s string) Signature {
	var sig Signature
	for i, part := range strings.Split(s, ";") {
		part = strings.TrimSpace(part)
		if i == 0 {
			sig.Method = part
			continue
		}
		k, v, _ := strings.Cut(part, " ")
		v = strings.TrimSpace(v)
		switch strings.ToLower(k) {
		case "issuer":
			sig.Issuer = v
		case "identity":
			sig.Identity = v
		case "key":
			sig.Key = v
		}
	}
	return sig
}
