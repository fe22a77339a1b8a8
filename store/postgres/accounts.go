package postgres

import (
	"context"
	"fmt"
	"strings"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/berth/berth/store"
)

// CreateUser adds an account with an empty USD wallet.
func (db *DB) CreateUser(ctx context.Context, email, password string) (*store.User, error) {
	email, err := store.NormalizeEmail(email)
	if err != nil {
		return nil, err
	}
	if err := store.CheckPassword(password); err != nil {
		return nil, err
	}
	// Hash before the transaction: it is slow on purpose.
	hash, err := bcrypt.GenerateFromPassword([]byte(password), db.passwordCost())
	if err != nil {
		return nil, fmt.Errorf("create user: hash password: %w", err)
	}
	var u *store.User
	err = db.inTx(ctx, func(tx *Tx) error {
		u, err = createUserTx(ctx, tx, email, hash)
		return err
	})
	return u, err
}

// createUserTx inserts a user and their empty wallet.
func createUserTx(ctx context.Context, tx *Tx, email string, hash []byte) (*store.User, error) {
	u := &store.User{Email: email, CreatedAt: tx.now}
	err := tx.QueryRow(ctx, `INSERT INTO users (email, password_hash, created_at) VALUES ($1, $2, $3) RETURNING id`,
		email, string(hash), tx.now).Scan(&u.ID)
	if isUniqueViolation(err) {
		return nil, &store.Error{Code: store.ECONFLICT, Param: "email", Message: "An account with this email already exists. Log in instead."}
	} else if err != nil {
		return nil, fmt.Errorf("create user %s: %w", email, err)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO wallets (user_id) VALUES ($1)`, u.ID); err != nil {
		return nil, fmt.Errorf("create wallet of %s: %w", email, err)
	}
	return u, nil
}

// dummyHash is compared against when an email is unknown, so that a wrong
// address takes as long as a wrong password.
var dummyHash = []byte("$2a$10$3kMA.RHukqwNQEcGqT67ieoA66PjQgJglpdSof5KW3BNOys8g/HbG")

// Authenticate returns the user whose email and password match.
func (db *DB) Authenticate(ctx context.Context, email, password string) (*store.User, error) {
	wrong := store.Errorf(store.EUNAUTHORIZED, "That email and password do not match an account.")
	email, err := store.NormalizeEmail(email)
	if err != nil {
		return nil, wrong
	}
	var u store.User
	var hash string
	err = db.pool.QueryRow(ctx, `SELECT id, email, password_hash, created_at FROM users WHERE email = $1`, email).
		Scan(&u.ID, &u.Email, &hash, &u.CreatedAt)
	if noRows(err) {
		_ = bcrypt.CompareHashAndPassword(dummyHash, []byte(password))
		return nil, wrong
	} else if err != nil {
		return nil, fmt.Errorf("authenticate %s: %w", email, err)
	}
	if bcrypt.CompareHashAndPassword([]byte(hash), []byte(password)) != nil {
		return nil, wrong
	}
	u.CreatedAt = u.CreatedAt.UTC()
	return &u, nil
}

// FindUser returns the user with the given id.
func (db *DB) FindUser(ctx context.Context, id int64) (*store.User, error) {
	return db.findUser(ctx, `id = $1`, id)
}

// FindUserByEmail returns the user with the given address.
func (db *DB) FindUserByEmail(ctx context.Context, email string) (*store.User, error) {
	email, err := store.NormalizeEmail(email)
	if err != nil {
		return nil, err
	}
	return db.findUser(ctx, `email = $1`, email)
}

func (db *DB) findUser(ctx context.Context, cond string, arg any) (*store.User, error) {
	var u store.User
	err := db.pool.QueryRow(ctx, `SELECT id, email, created_at FROM users WHERE `+cond, arg).
		Scan(&u.ID, &u.Email, &u.CreatedAt)
	if noRows(err) {
		return nil, store.Errorf(store.ENOTFOUND, "No such account.")
	} else if err != nil {
		return nil, fmt.Errorf("find user: %w", err)
	}
	u.CreatedAt = u.CreatedAt.UTC()
	return &u, nil
}

// SetPassword replaces a user's password and ends every session of theirs,
// in one transaction.
func (db *DB) SetPassword(ctx context.Context, userID int64, password string) error {
	if err := store.CheckPassword(password); err != nil {
		return err
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(password), db.passwordCost())
	if err != nil {
		return fmt.Errorf("set password: hash: %w", err)
	}
	return db.inTx(ctx, func(tx *Tx) error {
		res, err := tx.Exec(ctx, `UPDATE users SET password_hash = $1 WHERE id = $2`, string(hash), userID)
		if err != nil {
			return fmt.Errorf("set password of user %d: %w", userID, err)
		}
		if res.RowsAffected() == 0 {
			return store.Errorf(store.ENOTFOUND, "No such account.")
		}
		if _, err := tx.Exec(ctx, `DELETE FROM sessions WHERE user_id = $1`, userID); err != nil {
			return fmt.Errorf("end sessions of user %d: %w", userID, err)
		}
		return nil
	})
}

// CreateToken makes a new API token for a user and returns its secret,
// which is shown once and never stored.
func (db *DB) CreateToken(ctx context.Context, userID int64, name string) (string, *store.Token, error) {
	name = strings.TrimSpace(name)
	if name == "" {
		name = "API token"
	}
	if len(name) > 80 {
		return "", nil, store.Invalid("name", "Use a token name of at most 80 characters.")
	}
	secret := store.TokenPrefix + store.NewSecret(32)
	var t *store.Token
	err := db.inTx(ctx, func(tx *Tx) error {
		t = &store.Token{Name: name, Hint: secret[len(secret)-4:], CreatedAt: tx.now}
		err := tx.QueryRow(ctx, `INSERT INTO api_tokens (user_id, name, hash, hint, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id`,
			userID, name, store.HashSecret(secret), t.Hint, tx.now).Scan(&t.ID)
		if err != nil {
			return fmt.Errorf("create token: %w", err)
		}
		return nil
	})
	if err != nil {
		return "", nil, err
	}
	return secret, t, nil
}

// UserByToken returns the owner of a live API token.
func (db *DB) UserByToken(ctx context.Context, secret string) (*store.User, error) {
	bad := store.Errorf(store.EUNAUTHORIZED, "This API token is not valid. Create a token on your account page or with `berth token create`.")
	if !strings.HasPrefix(secret, store.TokenPrefix) || len(secret) > 128 {
		return nil, bad
	}
	var u store.User
	err := db.pool.QueryRow(ctx, `SELECT u.id, u.email, u.created_at FROM api_tokens t
		JOIN users u ON u.id = t.user_id WHERE t.hash = $1 AND t.revoked_at IS NULL`, store.HashSecret(secret)).
		Scan(&u.ID, &u.Email, &u.CreatedAt)
	if noRows(err) {
		return nil, bad
	} else if err != nil {
		return nil, fmt.Errorf("find token: %w", err)
	}
	u.CreatedAt = u.CreatedAt.UTC()
	return &u, nil
}

// Tokens lists a user's tokens, newest first.
func (db *DB) Tokens(ctx context.Context, userID int64) ([]*store.Token, error) {
	rows, err := db.pool.Query(ctx, `SELECT id, name, hint, created_at, revoked_at FROM api_tokens
		WHERE user_id = $1 ORDER BY id DESC`, userID)
	if err != nil {
		return nil, fmt.Errorf("list tokens: %w", err)
	}
	defer rows.Close()
	var out []*store.Token
	for rows.Next() {
		var t store.Token
		if err := rows.Scan(&t.ID, &t.Name, &t.Hint, &t.CreatedAt, &t.RevokedAt); err != nil {
			return nil, err
		}
		t.CreatedAt = t.CreatedAt.UTC()
		if t.RevokedAt != nil {
			r := t.RevokedAt.UTC()
			t.RevokedAt = &r
		}
		out = append(out, &t)
	}
	return out, rows.Err()
}

// RevokeToken ends one of the user's tokens. Another user's token id is
// reported as not found, so ids reveal nothing.
func (db *DB) RevokeToken(ctx context.Context, userID, tokenID int64) error {
	return db.inTx(ctx, func(tx *Tx) error {
		res, err := tx.Exec(ctx, `UPDATE api_tokens SET revoked_at = COALESCE(revoked_at, $1)
			WHERE id = $2 AND user_id = $3`, tx.now, tokenID, userID)
		if err != nil {
			return fmt.Errorf("revoke token: %w", err)
		}
		if res.RowsAffected() == 0 {
			return store.Errorf(store.ENOTFOUND, "You have no such token.")
		}
		return nil
	})
}

// RevokeAllTokens ends every live API token of a user and returns how
// many it ended.
func (db *DB) RevokeAllTokens(ctx context.Context, userID int64) (int, error) {
	var n int
	err := db.inTx(ctx, func(tx *Tx) error {
		res, err := tx.Exec(ctx, `UPDATE api_tokens SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL`,
			tx.now, userID)
		if err != nil {
			return fmt.Errorf("revoke tokens of user %d: %w", userID, err)
		}
		n = int(res.RowsAffected())
		return nil
	})
	return n, err
}

// LoadSession returns the live session with the given id.
func (db *DB) LoadSession(ctx context.Context, id string) (*store.SessionRecord, error) {
	var rec store.SessionRecord
	var uid *int64
	err := db.pool.QueryRow(ctx, `SELECT user_id, data, expires_at FROM sessions WHERE id_hash = $1 AND expires_at > $2`,
		store.HashSecret(id), db.now()).Scan(&uid, &rec.Data, &rec.ExpiresAt)
	if noRows(err) {
		return nil, store.Errorf(store.ENOTFOUND, "No such session.")
	} else if err != nil {
		return nil, fmt.Errorf("load session: %w", err)
	}
	if uid != nil {
		rec.UserID = *uid
	}
	rec.ExpiresAt = rec.ExpiresAt.UTC()
	return &rec, nil
}

// now is the current time in whole seconds, as times are stored.
func (db *DB) now() time.Time { return db.Now().UTC().Truncate(time.Second) }

// SaveSession writes a session, creating it when new, and sweeps expired
// sessions.
func (db *DB) SaveSession(ctx context.Context, id string, rec store.SessionRecord) error {
	return db.inTx(ctx, func(tx *Tx) error {
		var uid any
		if rec.UserID != 0 {
			uid = rec.UserID
		}
		if _, err := tx.Exec(ctx, `INSERT INTO sessions (id_hash, user_id, data, created_at, expires_at)
			VALUES ($1, $2, $3, $4, $5) ON CONFLICT (id_hash) DO UPDATE SET user_id = excluded.user_id,
			data = excluded.data, expires_at = excluded.expires_at`,
			store.HashSecret(id), uid, rec.Data, tx.now, rec.ExpiresAt.UTC().Truncate(time.Second)); err != nil {
			return fmt.Errorf("save session: %w", err)
		}
		if _, err := tx.Exec(ctx, `DELETE FROM sessions WHERE expires_at <= $1`, tx.now); err != nil {
			return fmt.Errorf("sweep sessions: %w", err)
		}
		return nil
	})
}

// DeleteSession ends one session.
func (db *DB) DeleteSession(ctx context.Context, id string) error {
	if _, err := db.pool.Exec(ctx, `DELETE FROM sessions WHERE id_hash = $1`, store.HashSecret(id)); err != nil {
		return fmt.Errorf("delete session: %w", err)
	}
	return nil
}

// DeleteOtherSessions ends every session of a user except the one with
// keepID, and returns how many it ended.
func (db *DB) DeleteOtherSessions(ctx context.Context, userID int64, keepID string) (int, error) {
	res, err := db.pool.Exec(ctx, `DELETE FROM sessions WHERE user_id = $1 AND id_hash <> $2`, userID, store.HashSecret(keepID))
	if err != nil {
		return 0, fmt.Errorf("end other sessions: %w", err)
	}
	return int(res.RowsAffected()), nil
}

// CountSessions returns how many live sessions a user has.
func (db *DB) CountSessions(ctx context.Context, userID int64) (int, error) {
	var n int
	err := db.pool.QueryRow(ctx, `SELECT COUNT(*) FROM sessions WHERE user_id = $1 AND expires_at > $2`,
		userID, db.now()).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count sessions: %w", err)
	}
	return n, nil
}
