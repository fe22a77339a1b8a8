package web

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/berth/berth/store"
	"github.com/berth/berth/views"
)

// statusOf maps domain error codes to HTTP statuses, in one place.
var statusOf = map[string]int{
	store.ENOTFOUND:     http.StatusNotFound,
	store.EINVALID:      http.StatusBadRequest,
	store.EUNAUTHORIZED: http.StatusUnauthorized,
	store.EFORBIDDEN:    http.StatusForbidden,
	store.EFUNDS:        http.StatusPaymentRequired,
	store.ECONFLICT:     http.StatusConflict,
	store.EINTERNAL:     http.StatusInternalServerError,
}

// statusClientClosed is logged for requests whose client went away
// before the answer was ready (marked ctxGone).
const (
	statusClientClosed = 499
	ctxGone            = "berth.gone"
)

// problem is an error as a response shows it.
type problem struct {
	status      int
	message     string
	param       string
	suggestions []string // closest aliases, for a failed alias lookup
	price       *float64 // the current price (USD), for a purchase refused because it changed
}

// tooManyError is a refused request over a rate limit.
type tooManyError struct {
	message string
	wait    time.Duration
}

func (e *tooManyError) Error() string { return e.message }

func (s *Server) classify(err error) problem {
	var tm *tooManyError
	if errors.As(err, &tm) {
		return problem{status: http.StatusTooManyRequests, message: tm.message}
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return problem{status: http.StatusServiceUnavailable, message: "The request took too long. Try again in a moment."}
	}
	if msg, ok := s.store.Unavailable(err); ok {
		return problem{status: http.StatusServiceUnavailable, message: msg}
	}
	var he *echo.HTTPError
	if errors.As(err, &he) {
		p := problem{status: he.Code, message: http.StatusText(he.Code)}
		switch he.Code {
		case http.StatusNotFound:
			p.message = "Nothing lives at this address."
		case http.StatusMethodNotAllowed:
			p.message = "This address does not accept that method."
		case http.StatusRequestEntityTooLarge:
			p.message = "The request body is too large."
		}
		if he.Code >= 500 {
			p.message = "Internal error."
		}
		return p
	}
	code := store.ErrorCode(err)
	status, ok := statusOf[code]
	if !ok {
		status = http.StatusInternalServerError
	}
	p := problem{status: status, message: store.ErrorMessage(err), param: store.ErrorParam(err)}
	var ae *store.AliasError
	if errors.As(err, &ae) {
		p.suggestions = ae.Suggestions
	}
	var pc *store.PriceChangedError
	if errors.As(err, &pc) {
		usd := store.CentsToUSD(pc.PriceCents)
		p.price = &usd
	}
	return p
}

func isAPI(c echo.Context) bool {
	return strings.HasPrefix(c.Request().URL.Path, "/api/")
}

// handleError is Echo's error handler: it logs server faults with their
// cause, and answers with the envelope on the API and an error page
// elsewhere. Internal details never reach the client.
func (s *Server) handleError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	// A client that went away cancels the request's context, and whatever
	// the handler was doing fails with it: that is the client's doing, not
	// a fault, so logRequests logs it as 499 (nginx's "client closed
	// request") at info. A 503 is still written, for the one case where
	// someone reads it: the server shutting down cancels requests too.
	gone := errors.Is(c.Request().Context().Err(), context.Canceled)
	// The answer must be written even when the request's deadline passed.
	c.SetRequest(c.Request().WithContext(context.WithoutCancel(c.Request().Context())))
	p := s.classify(err)
	if gone {
		c.Set(ctxGone, true)
		p = problem{status: http.StatusServiceUnavailable, message: "The request was cancelled before it finished. Try again."}
	}
	if p.status >= 500 && !gone {
		s.logger.Error("request failed", "method", c.Request().Method, "path", redactPath(c.Request().URL.Path),
			"id", c.Get("request_id"), "err", err)
	}
	var tm *tooManyError
	if errors.As(err, &tm) {
		c.Response().Header().Set("Retry-After", strconv.Itoa(int(tm.wait.Seconds())+1))
	}
	var werr error
	switch {
	case isRegistry(c):
		code := map[int]string{http.StatusNotFound: "NAME_UNKNOWN", http.StatusUnauthorized: "UNAUTHORIZED",
			http.StatusForbidden: "DENIED", http.StatusTooManyRequests: "TOOMANYREQUESTS"}[p.status]
		if code == "" {
			code = "UNKNOWN"
		}
		werr = s.registryFail(c, p.status, code, p.message)
	case c.Request().Method == http.MethodHead:
		werr = c.NoContent(p.status)
	case isAPI(c):
		werr = c.JSON(p.status, errorEnvelope(p))
	default:
		heading := http.StatusText(p.status)
		if p.status == http.StatusNotFound {
			heading = "Not found"
		}
		werr = s.render(c, p.status, views.Error(views.ErrorPage{
			Shell:   s.shell(c, heading, ""),
			Status:  p.status,
			Heading: heading,
			Message: p.message,
		}))
	}
	if werr != nil {
		s.logger.Error("write error response", "path", redactPath(c.Request().URL.Path), "err", werr)
	}
}
