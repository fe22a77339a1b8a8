package web

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/berth/berth/store"
)

// Registry clients (docker, skopeo, containerd) authenticate the way
// Docker's token specification describes: the first request without
// credentials gets 401 with a WWW-Authenticate challenge naming a token
// endpoint; the client sends the account's email and an API token there
// with Basic auth and gets a short-lived bearer token back. Basic auth is
// also accepted on every /v2/ request, for clients that skip the token
// step.

// registryTokenTTL is how long a registry bearer token lasts. Short, since
// it cannot be revoked: revoking the API token it came from stops new
// ones within this time.
const registryTokenTTL = 5 * time.Minute

// registryTokenPrefix tells Berth's registry tokens from API tokens.
const registryTokenPrefix = "brt1."

// registryClaims is what a registry token says: who (0 for an anonymous
// pull), and until when.
type registryClaims struct {
	User    int64 `json:"u"`
	Expires int64 `json:"e"`
}

// registryKey signs registry tokens: derived from the newest session key,
// so every instance that shares the keys accepts the others' tokens.
func registryKey(sessionKeys [][]byte) []byte {
	if len(sessionKeys) == 0 {
		k := make([]byte, 32)
		rand.Read(k)
		return k
	}
	m := hmac.New(sha256.New, sessionKeys[0])
	m.Write([]byte("berth registry token v1"))
	return m.Sum(nil)
}

func (s *Server) signRegistryToken(c registryClaims) string {
	body, _ := json.Marshal(c)
	m := hmac.New(sha256.New, s.registryKey)
	m.Write(body)
	return registryTokenPrefix + base64.RawURLEncoding.EncodeToString(body) + "." + base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

func (s *Server) verifyRegistryToken(tok string, now time.Time) (registryClaims, bool) {
	var c registryClaims
	rest, ok := strings.CutPrefix(tok, registryTokenPrefix)
	if !ok {
		return c, false
	}
	b64body, b64mac, ok := strings.Cut(rest, ".")
	if !ok {
		return c, false
	}
	body, err1 := base64.RawURLEncoding.DecodeString(b64body)
	mac, err2 := base64.RawURLEncoding.DecodeString(b64mac)
	if err1 != nil || err2 != nil {
		return c, false
	}
	m := hmac.New(sha256.New, s.registryKey)
	m.Write(body)
	if !hmac.Equal(mac, m.Sum(nil)) || json.Unmarshal(body, &c) != nil || now.Unix() >= c.Expires {
		return c, false
	}
	return c, true
}

// errBadCredentials is a Basic or bearer credential that does not hold.
var errBadCredentials = errors.New("bad registry credentials")

// basicUser checks email and API token from Basic auth.
func (s *Server) basicUser(c echo.Context, email, token string) (*store.User, error) {
	u, err := s.store.UserByToken(c.Request().Context(), token)
	if err != nil {
		if store.ErrorCode(err) == store.EUNAUTHORIZED || store.IsNotFound(err) {
			return nil, errBadCredentials
		}
		return nil, err
	}
	if !strings.EqualFold(strings.TrimSpace(email), u.Email) {
		return nil, errBadCredentials
	}
	return u, nil
}

// registryCaller is who sent a registry request: a user, or nobody when
// the request carried no credentials (or an anonymous token).
func (s *Server) registryCaller(c echo.Context) (*store.User, error) {
	h := c.Request().Header.Get("Authorization")
	if h == "" {
		return nil, nil
	}
	scheme, cred, _ := strings.Cut(h, " ")
	cred = strings.TrimSpace(cred)
	switch {
	case strings.EqualFold(scheme, "Basic"):
		email, token, ok := c.Request().BasicAuth()
		if !ok {
			return nil, errBadCredentials
		}
		return s.basicUser(c, email, token)
	case strings.EqualFold(scheme, "Bearer"):
		claims, ok := s.verifyRegistryToken(cred, time.Now())
		if !ok {
			return nil, errBadCredentials
		}
		if claims.User == 0 {
			return nil, nil
		}
		u, err := s.store.FindUser(c.Request().Context(), claims.User)
		if store.IsNotFound(err) {
			return nil, errBadCredentials
		}
		return u, err
	}
	return nil, errBadCredentials
}

// challenge sets the WWW-Authenticate header that starts the token flow.
func (s *Server) challenge(c echo.Context, scope string) {
	base := s.publicBase(c)
	v := `Bearer realm="` + base + `/v2/token",service="` + registryService(base) + `"`
	if scope != "" {
		v += `,scope="` + scope + `"`
	}
	c.Response().Header().Set("WWW-Authenticate", v)
}

// registryService is the service name in challenges and tokens: the
// public address's host.
func registryService(base string) string {
	if u, err := url.Parse(base); err == nil && u.Host != "" {
		return u.Host
	}
	return base
}

// handleRegistryToken is GET /v2/token: Basic credentials (email and API
// token) in, a short-lived bearer token out. Without credentials it hands
// out an anonymous token only when anonymous pulls are on.
func (s *Server) handleRegistryToken(c echo.Context) error {
	c.Response().Header().Set("Docker-Distribution-API-Version", "registry/2.0")
	var claims registryClaims
	if email, token, ok := c.Request().BasicAuth(); ok {
		u, err := s.basicUser(c, email, token)
		if errors.Is(err, errBadCredentials) {
			c.Response().Header().Set("WWW-Authenticate", `Basic realm="berth"`)
			return s.registryFail(c, http.StatusUnauthorized, "UNAUTHORIZED",
				"Sign in with your account's email as the user name and an API token (from your account page) as the password.")
		}
		if err != nil {
			return err
		}
		claims.User = u.ID
	} else if !s.opts.AnonymousPull {
		c.Response().Header().Set("WWW-Authenticate", `Basic realm="berth"`)
		return s.registryFail(c, http.StatusUnauthorized, "UNAUTHORIZED",
			"This registry needs you to sign in: docker login "+registryService(s.publicBase(c))+" with your email and an API token.")
	}
	now := time.Now().UTC()
	claims.Expires = now.Add(registryTokenTTL).Unix()
	tok := s.signRegistryToken(claims)
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.JSON(http.StatusOK, map[string]any{
		"token": tok, "access_token": tok,
		"expires_in": int(registryTokenTTL.Seconds()), "issued_at": now.Format(time.RFC3339),
	})
}

// publicBase is the address people reach this server at, without a
// trailing slash: --public-url when the operator set it, else the
// request's own scheme and host.
func (s *Server) publicBase(c echo.Context) string {
	if s.opts.PublicURL != "" {
		return strings.TrimRight(s.opts.PublicURL, "/")
	}
	scheme := "http"
	if s.isSecure(c.Request()) {
		scheme = "https"
	}
	return scheme + "://" + c.Request().Host
}

// registryHost is the public address as image references write it: the
// host and port, no scheme.
func (s *Server) registryHost(c echo.Context) string {
	return registryService(s.publicBase(c))
}
