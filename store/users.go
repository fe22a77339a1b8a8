package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/crypto/bcrypt"
	"golang.org/x/text/unicode/norm"
)

// User is a person with an account.
type User struct {
	ID        int64
	Email     string
	CreatedAt time.Time
}

// Password rules. bcrypt reads at most 72 bytes, so longer passwords are
// refused rather than silently cut.
const (
	MinPasswordLen = 8
	MaxPasswordLen = 72
)

// NormalizeEmail trims, lower-cases and NFC-normalises an address and
// checks its shape, so that one person cannot hold two accounts by changing
// case, or by writing an accented letter as one code point or as a letter
// and a combining accent, which look the same.
func NormalizeEmail(s string) (string, error) {
	s = norm.NFC.String(strings.ToLower(strings.TrimSpace(s)))
	if s == "" {
		return "", Invalid("email", "Enter your email address.")
	}
	if len(s) > 254 {
		return "", Invalid("email", "An email address has at most 254 characters.")
	}
	addr, err := mail.ParseAddress(s)
	if err != nil || addr.Address != s || len(s) > 254 || !strings.Contains(s[strings.LastIndexByte(s, '@'):], ".") {
		return "", Invalid("email", "%q is not an email address we can use.", s)
	}
	return s, nil
}

func checkPassword(p string) error {
	switch {
	case utf8.RuneCountInString(p) < MinPasswordLen:
		return Invalid("password", "Use a password of at least %d characters.", MinPasswordLen)
	case len(p) > MaxPasswordLen:
		return Invalid("password", "Use a password of at most %d bytes.", MaxPasswordLen)
	case isCommonPassword(p):
		return Invalid("password", "That password is one of the most common ones, which are guessed first. Choose another.")
	}
	return nil
}

// CreateUser adds an account with an empty USD wallet.
func (db *DB) CreateUser(ctx context.Context, email, password string) (*User, error) {
	email, err := NormalizeEmail(email)
	if err != nil {
		return nil, err
	}
	if err := checkPassword(password); err != nil {
		return nil, err
	}
	// Hash before the transaction: it is slow on purpose and must not hold
	// the write lock.
	hash, err := bcrypt.GenerateFromPassword([]byte(password), db.passwordCost())
	if err != nil {
		return nil, fmt.Errorf("create user: hash password: %w", err)
	}
	tx, err := db.begin(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	u, err := createUserTx(ctx, tx, email, hash)
	if err != nil {
		return nil, err
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("create user %s: %w", email, err)
	}
	return u, nil
}

// createUserTx inserts a user with a normalised email and a password hash,
// and their empty wallet.
func createUserTx(ctx context.Context, tx *Tx, email string, hash []byte) (*User, error) {
	u := &User{Email: email, CreatedAt: tx.now}
	res, err := tx.ExecContext(ctx, `INSERT INTO users (email, password_hash, created_at) VALUES (?, ?, ?)`,
		email, string(hash), tx.now.Format(time.RFC3339))
	if isUniqueViolation(err) {
		return nil, &Error{Code: ECONFLICT, Param: "email", Message: "An account with this email already exists. Log in instead."}
	} else if err != nil {
		return nil, fmt.Errorf("create user %s: %w", email, err)
	}
	if u.ID, err = res.LastInsertId(); err != nil {
		return nil, err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO wallets (user_id) VALUES (?)`, u.ID); err != nil {
		return nil, fmt.Errorf("create wallet of %s: %w", email, err)
	}
	return u, nil
}

func (db *DB) passwordCost() int {
	if db.PasswordCost != 0 {
		return db.PasswordCost
	}
	return bcrypt.DefaultCost
}

// dummyHash is compared against when an email is unknown, so that a wrong
// address takes as long as a wrong password and does not reveal accounts.
var dummyHash = []byte("$2a$10$3kMA.RHukqwNQEcGqT67ieoA66PjQgJglpdSof5KW3BNOys8g/HbG")

// Authenticate returns the user whose email and password match.
func (db *DB) Authenticate(ctx context.Context, email, password string) (*User, error) {
	wrong := Errorf(EUNAUTHORIZED, "That email and password do not match an account.")
	email, err := NormalizeEmail(email)
	if err != nil {
		return nil, wrong
	}
	var u User
	var hash, created string
	err = db.read.QueryRowContext(ctx, `SELECT id, email, password_hash, created_at FROM users WHERE email = ?`, email).
		Scan(&u.ID, &u.Email, &hash, &created)
	if errors.Is(err, sql.ErrNoRows) {
		_ = bcrypt.CompareHashAndPassword(dummyHash, []byte(password))
		return nil, wrong
	} else if err != nil {
		return nil, fmt.Errorf("authenticate %s: %w", email, err)
	}
	if bcrypt.CompareHashAndPassword([]byte(hash), []byte(password)) != nil {
		return nil, wrong
	}
	u.CreatedAt, _ = time.Parse(time.RFC3339, created)
	return &u, nil
}

// FindUser returns the user with the given id.
func (db *DB) FindUser(ctx context.Context, id int64) (*User, error) {
	return db.findUser(ctx, `id = ?`, id)
}

// FindUserByEmail returns the user with the given address.
func (db *DB) FindUserByEmail(ctx context.Context, email string) (*User, error) {
	email, err := NormalizeEmail(email)
	if err != nil {
		return nil, err
	}
	return db.findUser(ctx, `email = ?`, email)
}

func (db *DB) findUser(ctx context.Context, cond string, arg any) (*User, error) {
	var u User
	var created string
	err := db.read.QueryRowContext(ctx, `SELECT id, email, created_at FROM users WHERE `+cond, arg).
		Scan(&u.ID, &u.Email, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, Errorf(ENOTFOUND, "No such account.")
	} else if err != nil {
		return nil, fmt.Errorf("find user: %w", err)
	}
	u.CreatedAt, _ = time.Parse(time.RFC3339, created)
	return &u, nil
}
