package web

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

// ctxHead marks a HEAD request answered as a GET.
const ctxHead = "berth.head"

// answerHead lets every GET route answer HEAD (RFC 9110 asks for it;
// monitors and link checkers send it). It runs before routing: the request
// is routed and handled as a GET, with the same status and headers, and
// the body is dropped on its way out.
func answerHead(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		if r.Method != http.MethodHead {
			return next(c)
		}
		r.Method = http.MethodGet
		c.Set(ctxHead, true)
		c.Response().Writer = headWriter{c.Response().Writer}
		return next(c)
	}
}

// requestMethod is the method the client sent, for logs and metrics.
func requestMethod(c echo.Context) string {
	if head, _ := c.Get(ctxHead).(bool); head {
		return http.MethodHead
	}
	return c.Request().Method
}

// headWriter drops a body while passing on the status and headers.
type headWriter struct{ http.ResponseWriter }

func (w headWriter) Write(b []byte) (int, error) { return len(b), nil }

// Unwrap lets http.ResponseController reach the connection's writer.
func (w headWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
