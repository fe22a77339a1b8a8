package web

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/gorilla/sessions"
	"github.com/labstack/echo/v4"

	"github.com/berth/berth/store"
)

// Context keys of what the middleware learns about a request.
const (
	ctxUser    = "berth.user"
	ctxSession = "berth.session"
)

// isSecure reports whether the client reached us over TLS. A proxy's
// X-Forwarded-Proto is believed only when the operator said to trust it.
func (s *Server) isSecure(r *http.Request) bool {
	return r.TLS != nil || (s.opts.TrustProxy && strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https"))
}

// loadUser attaches the browser session and, when it belongs to someone,
// the user, to every page request.
func (s *Server) loadUser(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		sess, err := s.sessions.Get(c.Request(), sessionCookie)
		if err != nil {
			return err
		}
		c.Set(ctxSession, sess)
		if v, ok := sess.Values["user_id"].(string); ok {
			id, _ := strconv.ParseInt(v, 10, 64)
			u, err := s.store.FindUser(c.Request().Context(), id)
			if err == nil {
				c.Set(ctxUser, u)
			} else if !store.IsNotFound(err) {
				return err
			}
		}
		return next(c)
	}
}

// currentUser is the signed-in user, or nil.
func currentUser(c echo.Context) *store.User {
	u, _ := c.Get(ctxUser).(*store.User)
	return u
}

func currentSession(c echo.Context) *sessions.Session {
	sess, _ := c.Get(ctxSession).(*sessions.Session)
	return sess
}

// requireUser sends anonymous visitors to log in, and back here after.
func (s *Server) requireUser(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if currentUser(c) != nil {
			return next(c)
		}
		back := c.Request().URL.RequestURI()
		if c.Request().Method != http.MethodGet {
			back = c.Request().Header.Get("HX-Current-URL")
			if u, err := url.Parse(back); err == nil {
				back = u.RequestURI()
			}
		}
		return s.redirect(c, "/login?next="+url.QueryEscape(safeNext(back)))
	}
}

// redirect answers a form post with 303, or tells htmx to navigate.
func (s *Server) redirect(c echo.Context, to string) error {
	if c.Request().Header.Get("HX-Request") == "true" {
		c.Response().Header().Set("HX-Redirect", to)
		return c.NoContent(http.StatusNoContent)
	}
	return c.Redirect(http.StatusSeeOther, to)
}

// safeNext keeps a post-login destination on this site: a local path, not
// "//evil.example", "/\\evil.example" or "https://…", which browsers would
// follow elsewhere. Browsers drop tabs and newlines from URLs and read a
// backslash as a slash, so "/\t/evil.example" is "//evil.example" to them:
// any control character, space or backslash is refused, and what is left
// must parse as a path with neither scheme nor host.
func safeNext(next string) string {
	if next == "" || len(next) > 2048 || next[0] != '/' || strings.HasPrefix(next, "//") {
		return "/"
	}
	for _, r := range next {
		if r <= ' ' || r == 0x7f || r == '\\' || unicode.IsSpace(r) || unicode.IsControl(r) || r == utf8.RuneError {
			return "/"
		}
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" ||
		!strings.HasPrefix(u.Path, "/") || strings.HasPrefix(u.Path, "//") {
		return "/"
	}
	return next
}

// startSession signs a user in. The session id is rotated, so an id planted
// before log-in is worthless after it.
func (s *Server) startSession(c echo.Context, u *store.User) error {
	sess := currentSession(c)
	if sess.ID != "" {
		if err := s.store.DeleteSession(c.Request().Context(), sess.ID); err != nil {
			return err
		}
	}
	sess.ID = ""
	sess.Values = map[any]any{"user_id": strconv.FormatInt(u.ID, 10)}
	sess.Options = s.sessions.options(c.Request())
	return sess.Save(c.Request(), c.Response())
}

// endSession signs out: the row is deleted and the cookie expired.
func (s *Server) endSession(c echo.Context) error {
	sess := currentSession(c)
	sess.Options.MaxAge = -1
	return sess.Save(c.Request(), c.Response())
}

// requireToken authenticates API calls with "Authorization: Bearer <token>".
func (s *Server) requireToken(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Request().Header.Get("Authorization")
		scheme, token, ok := strings.Cut(h, " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(token) == "" {
			c.Response().Header().Set("WWW-Authenticate", `Bearer realm="berth"`)
			return store.Errorf(store.EUNAUTHORIZED,
				"Missing API token: send Authorization: Bearer <token>. Create a token on your account page or with `berth token create`.")
		}
		u, err := s.store.UserByToken(c.Request().Context(), strings.TrimSpace(token))
		if err != nil {
			c.Response().Header().Set("WWW-Authenticate", `Bearer realm="berth", error="invalid_token"`)
			return err
		}
		if err := s.limits.token.check(strconv.FormatInt(u.ID, 10), "API requests with this account's tokens"); err != nil {
			return err
		}
		c.Set(ctxUser, u)
		return next(c)
	}
}
