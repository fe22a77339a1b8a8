package web

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/berth/berth/store"
	"github.com/berth/berth/views"
)

func (s *Server) authForm(c echo.Context, signup bool) views.AuthForm {
	title := "Log in"
	if signup {
		title = "Sign up"
	}
	return views.AuthForm{
		Shell:  s.shell(c, title, "Your Berth account: library, wallet, ratings and API tokens."),
		Signup: signup,
		Next:   safeNext(c.QueryParam("next")),
	}
}

// handleSignupForm is GET /signup.
func (s *Server) handleSignupForm(c echo.Context) error {
	if !s.opts.SignupOpen {
		return store.Errorf(store.EFORBIDDEN, "Sign-up is closed on this server. Ask its operator for an account.")
	}
	if currentUser(c) != nil {
		return c.Redirect(http.StatusSeeOther, "/")
	}
	return s.render(c, http.StatusOK, views.AuthPage(s.authForm(c, true)))
}

// handleSignup is POST /signup: create the account and sign in.
func (s *Server) handleSignup(c echo.Context) error {
	if !s.opts.SignupOpen {
		return store.Errorf(store.EFORBIDDEN, "Sign-up is closed on this server. Ask its operator for an account.")
	}
	f := s.authForm(c, true)
	f.Email, f.Next = strings.TrimSpace(c.FormValue("email")), safeNext(c.FormValue("next"))
	if len(f.Email) > maxEmailEcho {
		f.Email = "" // not echoed back into the page
	}
	if ok, wait := s.limits.signupIP.allow(c.RealIP()); !ok {
		return s.tooMany(c, f, wait, "Too many accounts were created from your address.")
	}
	u, err := s.store.CreateUser(c.Request().Context(), f.Email, c.FormValue("password"))
	if err != nil {
		return s.formProblem(c, f, err)
	}
	if err := s.startSession(c, u); err != nil {
		return err
	}
	s.setFlash(c, "Welcome to Berth! Your account is ready.")
	return c.Redirect(http.StatusSeeOther, f.Next)
}

// handleLoginForm is GET /login.
func (s *Server) handleLoginForm(c echo.Context) error {
	if currentUser(c) != nil {
		return c.Redirect(http.StatusSeeOther, safeNext(c.QueryParam("next")))
	}
	return s.render(c, http.StatusOK, views.AuthPage(s.authForm(c, false)))
}

// handleLogin is POST /login. Attempts are limited per address, per
// account and address together, and (far more loosely) per account, so
// neither guessing one password nor spraying many works, and a stranger
// guessing from elsewhere does not lock the owner out. The account is
// known by its normalised email, checked first: an over-long or malformed
// address never becomes a key the limiter holds.
func (s *Server) handleLogin(c echo.Context) error {
	f := s.authForm(c, false)
	f.Email, f.Next = strings.TrimSpace(c.FormValue("email")), safeNext(c.FormValue("next"))
	if len(f.Email) > maxEmailEcho {
		f.Email = "" // not echoed back into the page
	}
	ip := c.RealIP()
	if ok, wait := s.limits.loginIP.allow(ip); !ok {
		return s.tooMany(c, f, wait, "Too many log-in attempts from your address.")
	}
	email, err := store.NormalizeEmail(c.FormValue("email"))
	if err != nil {
		return s.formProblem(c, f, err)
	}
	if ok, wait := s.limits.loginAccountIP.allow(email + "\x00" + ip); !ok {
		return s.tooMany(c, f, wait, "Too many log-in attempts for this account from your address.")
	}
	if ok, wait := s.limits.loginAccount.allow(email); !ok {
		return s.tooMany(c, f, wait, "Too many log-in attempts for this account.")
	}
	u, err := s.store.Authenticate(c.Request().Context(), email, c.FormValue("password"))
	if err != nil {
		return s.formProblem(c, f, err)
	}
	if err := s.startSession(c, u); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, f.Next)
}

// maxEmailEcho is the longest typed email shown again in a form; longer
// is no address anyway (254 at most).
const maxEmailEcho = 320

// formProblem shows the form again with what went wrong and what was typed
// (never the password), with the status the error maps to.
func (s *Server) formProblem(c echo.Context, f views.AuthForm, err error) error {
	p := s.classify(err)
	if p.status >= 500 {
		return err
	}
	f.Problem, f.Param = p.message, p.param
	return s.render(c, p.status, views.AuthPage(f))
}

func (s *Server) tooMany(c echo.Context, f views.AuthForm, wait time.Duration, why string) error {
	mins := int(wait.Minutes()) + 1
	c.Response().Header().Set("Retry-After", strconv.Itoa(int(wait.Seconds())+1))
	f.Problem = fmt.Sprintf("%s Wait %d minute%s and try again.", why, mins, plural(mins))
	return s.render(c, http.StatusTooManyRequests, views.AuthPage(f))
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// handleLogout is POST /logout.
func (s *Server) handleLogout(c echo.Context) error {
	if err := s.endSession(c); err != nil {
		return err
	}
	s.setFlash(c, "You are logged out.")
	return c.Redirect(http.StatusSeeOther, "/")
}

func (s *Server) account(c echo.Context) (views.Account, error) {
	u := currentUser(c)
	a := views.Account{Shell: s.shell(c, "Account", ""), Email: u.Email}
	var err error
	if a.Tokens, err = s.store.Tokens(c.Request().Context(), u.ID); err != nil {
		return a, err
	}
	if a.Sessions, err = s.store.CountSessions(c.Request().Context(), u.ID); err != nil {
		return a, err
	}
	if a.PullKeys, err = s.store.PullKeys(c.Request().Context(), u.ID); err != nil {
		return a, err
	}
	a.Pull = s.pullInfo(c)
	if a.FeedCreated, err = s.store.FeedKeyCreated(c.Request().Context(), u.ID); err != nil {
		return a, err
	}
	return a, nil
}

// handleCreatePullKey is POST /account/pull-keys: a new personal
// simplestreams remote. Its address waits in the session for the account
// page, which shows it once (see handleAccount), so a reload makes no
// second key.
func (s *Server) handleCreatePullKey(c echo.Context) error {
	secret, _, err := s.store.CreatePullKey(c.Request().Context(), currentUser(c).ID)
	if err != nil {
		p := s.classify(err)
		if p.status >= 500 {
			return err
		}
		a, aerr := s.account(c)
		if aerr != nil {
			return aerr
		}
		a.Problem = p.message
		c.Response().Header().Set("Cache-Control", "no-store")
		return s.render(c, p.status, views.AccountPage(a))
	}
	if err := s.showOnce(c, newPullKeyKey, s.publicBase(c)+"/u/"+secret+"/"); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/account#pullkeys-h")
}

// handleRevokePullKey is POST /account/pull-keys/{id}/revoke.
func (s *Server) handleRevokePullKey(c echo.Context) error {
	id, err := strconv.ParseInt(c.Param("key"), 10, 64)
	if err != nil {
		return store.Errorf(store.ENOTFOUND, "You have no such pull key.")
	}
	if err := s.store.RevokePullKey(c.Request().Context(), currentUser(c).ID, id); err != nil {
		return err
	}
	s.setFlash(c, "Pull key revoked: its remote no longer lists anything.")
	return s.redirect(c, "/account")
}

// handleCreateFeedKey is POST /account/feed: a new personal feed address,
// replacing any earlier one. Like a token, it is shown once by the account
// page the browser is sent to, so a reload neither replaces it again (which
// would break the reader just subscribed) nor shows it twice.
func (s *Server) handleCreateFeedKey(c echo.Context) error {
	key, err := s.store.CreateFeedKey(c.Request().Context(), currentUser(c).ID)
	if err != nil {
		return err
	}
	if err := s.showOnce(c, newFeedKey, s.feedSite(c).base+"/feeds/"+key+".atom"); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/account#feed-h")
}

// handleRevokeFeedKey is POST /account/feed/revoke.
func (s *Server) handleRevokeFeedKey(c echo.Context) error {
	if err := s.store.RevokeFeedKey(c.Request().Context(), currentUser(c).ID); err != nil {
		return err
	}
	s.setFlash(c, "Feed address revoked: it no longer works.")
	return c.Redirect(http.StatusSeeOther, "/account")
}

// Secrets made by a POST on /account (an API token, a pull key's remote, a
// feed address) wait in the session under these keys until the account
// page has shown them, once: the POST answers with a redirect, so reloading
// the page creates nothing.
const (
	newTokenKey   = "new_token"
	newPullKeyKey = "new_pull_key_url"
	newFeedKey    = "new_feed_url"
)

// showOnce keeps value in the session under key for the account page.
func (s *Server) showOnce(c echo.Context, key, value string) error {
	sess := currentSession(c)
	sess.Values[key] = value
	return sess.Save(c.Request(), c.Response())
}

// handleAccount is GET /account. A secret created just before is shown
// here once, and leaves the session as it is shown.
func (s *Server) handleAccount(c echo.Context) error {
	a, err := s.account(c)
	if err != nil {
		return err
	}
	if sess := currentSession(c); sess != nil {
		shown := false
		for key, field := range map[string]*string{newTokenKey: &a.NewToken, newPullKeyKey: &a.NewPullKeyURL, newFeedKey: &a.NewFeedURL} {
			if v, ok := sess.Values[key].(string); ok {
				delete(sess.Values, key)
				*field, shown = v, true
			}
		}
		if shown {
			if err := sess.Save(c.Request(), c.Response()); err != nil {
				return err
			}
		}
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	return s.render(c, http.StatusOK, views.AccountPage(a))
}

// handleCreateToken is POST /account/tokens. The new secret goes into the
// session and the browser is sent to the account page, which shows it
// once: reloading that page creates nothing and shows it no more.
func (s *Server) handleCreateToken(c echo.Context) error {
	secret, _, err := s.store.CreateToken(c.Request().Context(), currentUser(c).ID, c.FormValue("name"))
	if err != nil {
		p := s.classify(err)
		if p.status >= 500 {
			return err
		}
		a, aerr := s.account(c)
		if aerr != nil {
			return aerr
		}
		a.Problem, a.TokenName = p.message, c.FormValue("name")
		return s.render(c, p.status, views.AccountPage(a))
	}
	if err := s.showOnce(c, newTokenKey, secret); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/account#new-token-h")
}

// handleRevokeTokenForm is GET /account/tokens/{id}/revoke: the question
// before a token stops working.
func (s *Server) handleRevokeTokenForm(c echo.Context) error {
	id, err := strconv.ParseInt(c.Param("token"), 10, 64)
	if err != nil {
		return store.Errorf(store.ENOTFOUND, "You have no such token.")
	}
	tokens, err := s.store.Tokens(c.Request().Context(), currentUser(c).ID)
	if err != nil {
		return err
	}
	for _, t := range tokens {
		if t.ID == id && t.RevokedAt == nil {
			return s.render(c, http.StatusOK, views.RevokeTokenPage(views.RevokeToken{Shell: s.shell(c, "Revoke a token", ""), Token: t}))
		}
	}
	return store.Errorf(store.ENOTFOUND, "You have no such active token.")
}

// handleRevokeToken is POST /account/tokens/{id}/revoke.
func (s *Server) handleRevokeToken(c echo.Context) error {
	id, err := strconv.ParseInt(c.Param("token"), 10, 64)
	if err != nil {
		return store.Errorf(store.ENOTFOUND, "You have no such token.")
	}
	if err := s.store.RevokeToken(c.Request().Context(), currentUser(c).ID, id); err != nil {
		return err
	}
	s.setFlash(c, "Token revoked: it no longer works.")
	return c.Redirect(http.StatusSeeOther, "/account")
}

// handleEndOtherSessions is POST /account/sessions/end-others: sign out
// every other session and, when asked (revoke_tokens), revoke every API
// token too, for someone who fears a password or token got out.
func (s *Server) handleEndOtherSessions(c echo.Context) error {
	ctx, u := c.Request().Context(), currentUser(c)
	n, err := s.store.DeleteOtherSessions(ctx, u.ID, currentSession(c).ID)
	if err != nil {
		return err
	}
	msg := fmt.Sprintf("Signed out of %d other session%s.", n, plural(n))
	if c.FormValue("revoke_tokens") != "" {
		t, err := s.store.RevokeAllTokens(ctx, u.ID)
		if err != nil {
			return err
		}
		msg = fmt.Sprintf("Signed out of %d other session%s and revoked %d API token%s.", n, plural(n), t, plural(t))
	}
	s.setFlash(c, msg)
	return c.Redirect(http.StatusSeeOther, "/account")
}

// handleChangePassword is POST /account/password: with the current
// password, set a new one. Every session is ended, and this browser gets a
// new one, so whoever knew the old password is signed out. Wrong current
// passwords count against the log-in limits, so the form is no way around
// them.
func (s *Server) handleChangePassword(c echo.Context) error {
	ctx, u := c.Request().Context(), currentUser(c)
	problem := func(status int, param, msg string) error {
		a, err := s.account(c)
		if err != nil {
			return err
		}
		a.PasswordProblem, a.PasswordParam = msg, param
		return s.render(c, status, views.AccountPage(a))
	}
	if ok, wait := s.limits.loginAccountIP.allow(u.Email + "\x00" + c.RealIP()); !ok {
		c.Response().Header().Set("Retry-After", strconv.Itoa(int(wait.Seconds())+1))
		return problem(http.StatusTooManyRequests, "current_password",
			fmt.Sprintf("Too many wrong passwords for this account from your address. Wait %d seconds and try again.", int(wait.Seconds())+1))
	}
	if _, err := s.store.Authenticate(ctx, u.Email, c.FormValue("current_password")); store.ErrorCode(err) == store.EUNAUTHORIZED {
		return problem(http.StatusBadRequest, "current_password", "Your current password is not right.")
	} else if err != nil {
		return err
	}
	if err := s.store.SetPassword(ctx, u.ID, c.FormValue("new_password")); err != nil {
		p := s.classify(err)
		if p.status >= 500 {
			return err
		}
		return problem(p.status, "new_password", p.message)
	}
	if err := s.startSession(c, u); err != nil {
		return err
	}
	s.setFlash(c, "Your password is changed, and every other session is signed out.")
	return c.Redirect(http.StatusSeeOther, "/account")
}
