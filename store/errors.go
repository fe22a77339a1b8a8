package store

import (
	"errors"
	"fmt"
)

// Error codes name the kinds of failure callers react to. The web layer maps
// each code to one HTTP status in one place.
const (
	ENOTFOUND     = "not_found"
	EINVALID      = "invalid"
	EUNAUTHORIZED = "unauthorized"
	EFORBIDDEN    = "forbidden"
	EFUNDS        = "insufficient_funds"
	ECONFLICT     = "conflict"
	EINTERNAL     = "internal"
)

// Error is a domain error whose Message is safe to show to a person.
// Param names the offending input, when there is one.
type Error struct {
	Code    string
	Param   string
	Message string
	// Err, when set, names the rule that refused the request (such as
	// ErrNeedsPurchase), so callers can add what only they know: the web
	// layer names the API call to use instead.
	Err error
}

// Unwrap exposes the rule behind the error to errors.Is.
func (e *Error) Unwrap() error { return e.Err }

// Rules whose refusals callers may explain in their own terms.
var (
	// ErrNeedsPurchase refuses importing a paid image: it must be bought.
	ErrNeedsPurchase = errors.New("paid image: buy it instead")
	// ErrNeedsImport refuses buying a free image: it is imported.
	ErrNeedsImport = errors.New("free image: import it instead")
)

// PriceChangedError refuses a purchase confirmed at a price the image no
// longer has: nothing is charged, and the buyer is asked again at the
// current price. It is the Err of an ECONFLICT *Error naming
// expected_price.
type PriceChangedError struct {
	ExpectedCents, PriceCents int64
}

func (e *PriceChangedError) Error() string {
	return fmt.Sprintf("price changed from %s to %s", FormatUSD(e.ExpectedCents), FormatUSD(e.PriceCents))
}

func (e *Error) Error() string {
	if e.Param != "" {
		return fmt.Sprintf("%s (%s): %s", e.Code, e.Param, e.Message)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

// Errorf returns an *Error with a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Invalid returns an EINVALID error that names the parameter at fault.
func Invalid(param, format string, args ...any) *Error {
	return &Error{Code: EINVALID, Param: param, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the first *Error in err's chain, EINTERNAL for
// any other non-nil error, and "" for nil.
func ErrorCode(err error) string {
	var e *Error
	switch {
	case err == nil:
		return ""
	case errors.As(err, &e):
		return e.Code
	default:
		return EINTERNAL
	}
}

// ErrorMessage returns the person-facing message of err; internal errors get
// a generic text so that SQL and paths never leak.
func ErrorMessage(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "Internal error."
}

// ErrorParam returns the parameter named by err, if any.
func ErrorParam(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Param
	}
	return ""
}
