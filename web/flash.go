package web

import (
	"net/http"
	"net/url"

	"github.com/labstack/echo/v4"
)

const flashCookie = "berth_flash"

// setFlash leaves a one-time message for the page after a redirect. It is a
// short-lived cookie rather than session data, so anonymous pages need no
// session row.
func (s *Server) setFlash(c echo.Context, msg string) {
	c.SetCookie(&http.Cookie{Name: flashCookie, Value: url.QueryEscape(msg), Path: "/", MaxAge: 60,
		HttpOnly: true, Secure: s.isSecure(c.Request()), SameSite: http.SameSiteLaxMode})
}

// takeFlash returns the pending message, if any, and clears it.
func (s *Server) takeFlash(c echo.Context) string {
	ck, err := c.Cookie(flashCookie)
	if err != nil || ck.Value == "" {
		return ""
	}
	c.SetCookie(&http.Cookie{Name: flashCookie, Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: s.isSecure(c.Request()), SameSite: http.SameSiteLaxMode})
	msg, err := url.QueryUnescape(ck.Value)
	if err != nil || len(msg) > 300 {
		return ""
	}
	return msg
}
