package web

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/berth/berth/store"
)

// CSRF protection. A token is an HMAC of the browser's session id under a
// key derived from the session key, so it is bound to a session an
// attacker cannot read. (A double-submit cookie is not: any sibling port
// or subdomain can set the cookie, and so choose the token.) A visitor who
// is not signed in gets a pre-session: a random id in the signed session
// cookie, with no row, so log-in and sign-up forms are protected too.
// State-changing requests must also come from this origin: a browser's
// Sec-Fetch-Site of same-site or cross-site, or a foreign Origin, is
// refused whatever the token.

// csrfKeys derives one token key per session key, newest first, so tokens
// follow a key rotation like session cookies do.
func csrfKeys(sessionKeys [][]byte) [][]byte {
	out := make([][]byte, 0, len(sessionKeys))
	for _, k := range sessionKeys {
		m := hmac.New(sha256.New, k)
		m.Write([]byte("berth csrf token key v1"))
		out = append(out, m.Sum(nil))
	}
	return out
}

func csrfMAC(key []byte, sessionID string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(sessionID))
	return m.Sum(nil)
}

// csrfToken is the token of a session id under the newest key.
func (s *Server) csrfToken(sessionID string) string {
	return base64.RawURLEncoding.EncodeToString(csrfMAC(s.csrfKeys[0], sessionID))
}

// csrfValid reports whether token belongs to the session id. An empty
// token or session never matches.
func (s *Server) csrfValid(sessionID, token string) bool {
	got, err := base64.RawURLEncoding.DecodeString(token)
	if sessionID == "" || token == "" || err != nil || len(got) != sha256.Size {
		return false
	}
	for _, k := range s.csrfKeys {
		if hmac.Equal(got, csrfMAC(k, sessionID)) {
			return true
		}
	}
	return false
}

// csrfFor returns the token for the forms of the page being answered,
// giving the visitor a pre-session first when they have no session.
func (s *Server) csrfFor(c echo.Context) string {
	sess, _ := s.sessions.Get(c.Request(), sessionCookie)
	if sess == nil {
		return ""
	}
	if sess.ID == "" {
		if err := s.sessions.startPreSession(c.Request(), c.Response(), sess); err != nil {
			s.logger.Error("start pre-session", "err", err)
			return ""
		}
	}
	return s.csrfToken(sess.ID)
}

var errCSRF = store.Errorf(store.EFORBIDDEN,
	"This form has expired or was sent from another site. Reload the page and try again.")

// csrf refuses every state-changing page request that does not come from
// this origin with its session's token, read only from the X-CSRF-Token
// header (htmx) or the form body's _csrf field, never from the URL. API
// calls are skipped: they authenticate with bearer tokens, which browsers
// never attach on their own.
func (s *Server) csrf(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		switch r.Method {
		case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace:
			return next(c)
		}
		if isAPI(c) || isRegistry(c) {
			return next(c)
		}
		if !s.fromThisOrigin(r) {
			return errCSRF
		}
		sess, err := s.sessions.Get(r, sessionCookie)
		if err != nil {
			return err
		}
		token := r.Header.Get("X-CSRF-Token")
		if token == "" {
			token = r.PostFormValue("_csrf") // the body only, unlike FormValue
		}
		if !s.csrfValid(sess.ID, token) {
			return errCSRF
		}
		return next(c)
	}
}

// fromThisOrigin reports whether a browser says the request came from a
// page of this origin. Sec-Fetch-Site is set by current browsers and
// cannot be set by a page; "none" is the user's own navigation. Origin is
// compared by host (the scheme too when we know the request is TLS, since
// a plain-HTTP page must not post to the TLS site). Clients that send
// neither header (curl, older browsers) rely on the token alone.
func (s *Server) fromThisOrigin(r *http.Request) bool {
	switch r.Header.Get("Sec-Fetch-Site") {
	case "", "same-origin", "none":
	default:
		return false
	}
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true
	}
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return false // including "null", sent from sandboxed frames and opaque origins
	}
	if s.isSecure(r) && u.Scheme != "https" {
		return false
	}
	if strings.EqualFold(u.Host, r.Host) {
		return true
	}
	return s.opts.TrustProxy && strings.EqualFold(u.Host, r.Header.Get("X-Forwarded-Host"))
}
