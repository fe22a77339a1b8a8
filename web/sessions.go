package web

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/gorilla/securecookie"
	"github.com/gorilla/sessions"

	"github.com/berth/berth/store"
)

// sessionCookie names the browser session cookie.
const sessionCookie = "berth_session"

// sessionMaxAge is how long a session lives without use.
const sessionMaxAge = 30 * 24 * time.Hour

// sessionStore is a gorilla sessions.Store kept in SQLite. The cookie holds
// only a random id, signed so tampering is detected early; the data lives in
// the sessions table, so a session can be revoked, its id rotated at log-in
// and deleted at log-out, which a cookie-only store cannot do.
type sessionStore struct {
	db     store.Store
	codecs []securecookie.Codec
	secure func(r *http.Request) bool
}

// newSessionStore signs cookies with the given keys, newest first; older
// keys still verify, so keys can be rotated without logging people out.
func newSessionStore(db store.Store, keys [][]byte, secure func(*http.Request) bool) *sessionStore {
	codecs := make([]securecookie.Codec, 0, len(keys))
	for _, k := range keys {
		sc := securecookie.New(k, nil)
		sc.MaxAge(int(sessionMaxAge / time.Second))
		codecs = append(codecs, sc)
	}
	return &sessionStore{db: db, codecs: codecs, secure: secure}
}

func (st *sessionStore) options(r *http.Request) *sessions.Options {
	return &sessions.Options{
		Path:     "/",
		MaxAge:   int(sessionMaxAge / time.Second),
		HttpOnly: true,
		Secure:   st.secure(r),
		SameSite: http.SameSiteLaxMode,
	}
}

// Get returns the request's session, cached for the request by gorilla's registry.
func (st *sessionStore) Get(r *http.Request, name string) (*sessions.Session, error) {
	return sessions.GetRegistry(r).Get(st, name)
}

// New loads the session named by the cookie, or starts an empty one when
// there is no valid cookie or the session was ended.
func (st *sessionStore) New(r *http.Request, name string) (*sessions.Session, error) {
	s := sessions.NewSession(st, name)
	s.Options = st.options(r)
	s.IsNew = true
	c, err := r.Cookie(name)
	if err != nil {
		return s, nil
	}
	var id string
	if err := securecookie.DecodeMulti(name, c.Value, &id, st.codecs...); err != nil {
		return s, nil // a stale or forged cookie is just no session
	}
	rec, err := st.db.LoadSession(r.Context(), id)
	if store.IsNotFound(err) {
		// A pre-session (see startPreSession), or one that ended: it
		// holds nothing, but its id still binds CSRF tokens.
		s.ID = id
		return s, nil
	} else if err != nil {
		return s, err
	}
	var values map[string]string
	if err := json.Unmarshal([]byte(rec.Data), &values); err != nil {
		return s, fmt.Errorf("session data: %w", err)
	}
	for k, v := range values {
		s.Values[k] = v
	}
	s.ID, s.IsNew = id, false
	return s, nil
}

// Save writes the session and its cookie; a negative MaxAge deletes both.
// Values must be strings under string keys.
func (st *sessionStore) Save(r *http.Request, w http.ResponseWriter, s *sessions.Session) error {
	if s.Options.MaxAge < 0 {
		if s.ID != "" {
			if err := st.db.DeleteSession(r.Context(), s.ID); err != nil {
				return err
			}
		}
		http.SetCookie(w, sessions.NewCookie(s.Name(), "", s.Options))
		return nil
	}
	values := map[string]string{}
	for k, v := range s.Values {
		ks, ok1 := k.(string)
		vs, ok2 := v.(string)
		if !ok1 || !ok2 {
			return fmt.Errorf("session value %v: only strings can be stored", k)
		}
		values[ks] = vs
	}
	data, _ := json.Marshal(values)
	if s.ID == "" {
		s.ID = store.NewSecret(32)
	}
	var uid int64
	if v, ok := values["user_id"]; ok {
		fmt.Sscan(v, &uid)
	}
	if err := st.db.SaveSession(r.Context(), s.ID, store.SessionRecord{
		UserID: uid, Data: string(data), ExpiresAt: time.Now().Add(sessionMaxAge),
	}); err != nil {
		return err
	}
	encoded, err := securecookie.EncodeMulti(s.Name(), s.ID, st.codecs...)
	if err != nil {
		return fmt.Errorf("encode session cookie: %w", err)
	}
	http.SetCookie(w, sessions.NewCookie(s.Name(), encoded, s.Options))
	return nil
}

// startPreSession gives a visitor without a session an id of their own, in
// the signed session cookie but with no row: it exists to bind the CSRF
// tokens of signed-out forms (log-in, sign-up), and costs no write. Log-in
// replaces it (see startSession), so a planted id is worth nothing after.
func (st *sessionStore) startPreSession(r *http.Request, w http.ResponseWriter, s *sessions.Session) error {
	id := store.NewSecret(32)
	encoded, err := securecookie.EncodeMulti(s.Name(), id, st.codecs...)
	if err != nil {
		return fmt.Errorf("encode session cookie: %w", err)
	}
	s.ID = id
	http.SetCookie(w, sessions.NewCookie(s.Name(), encoded, s.Options))
	return nil
}
