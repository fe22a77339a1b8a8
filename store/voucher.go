package store

import (
	"context"
	"crypto/rand"
	"strings"
	"time"
)

// A voucher is a one-time code worth an amount of money, created by an
// operator (berth voucher create) and redeemed by one person into their
// wallet. Only a hash of each code is stored.

// VoucherStore creates and redeems vouchers.
type VoucherStore interface {
	// CreateVouchers stores count new vouchers worth cents each, valid until
	// expires (zero: no expiry), and returns their codes: this is the only
	// time the codes exist in the clear.
	CreateVouchers(ctx context.Context, cents int64, count int, expires time.Time) ([]string, error)
	// RedeemVoucher credits the voucher's amount to the user's wallet, once:
	// marking the voucher used and writing the ledger row happen in one
	// transaction, so concurrent redemptions of a code credit it once.
	RedeemVoucher(ctx context.Context, userID int64, code string) (Redemption, error)
}

// Redemption is the outcome of redeeming a voucher.
type Redemption struct {
	CreditedCents int64
	BalanceCents  int64
}

// MaxVouchers bounds one voucher create command.
const MaxVouchers = 1000

// voucherAlphabet is Crockford's base32: no I, L, O or U, so codes read
// aloud or typed from paper are not mistaken.
const voucherAlphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// voucherLen is the number of code characters: 20 × 5 bits = 100 bits.
const voucherLen = 20

// NewVoucherCode returns a fresh random code, grouped for reading:
// BERTH-XXXX-XXXX-XXXX-XXXX-XXXX.
func NewVoucherCode() string {
	b := make([]byte, voucherLen)
	rand.Read(b)
	var sb strings.Builder
	sb.WriteString("BERTH")
	for i, c := range b {
		if i%4 == 0 {
			sb.WriteByte('-')
		}
		sb.WriteByte(voucherAlphabet[c&31])
	}
	return sb.String()
}

// NormalizeVoucherCode reduces what a person typed to the code's characters:
// case, spaces, dashes and the BERTH prefix do not matter, and the letters
// Crockford base32 reads as digits (O, I, L) are read as such.
func NormalizeVoucherCode(s string) (string, error) {
	s = strings.ToUpper(strings.TrimSpace(s))
	s = strings.TrimPrefix(s, "BERTH")
	var sb strings.Builder
	for _, r := range s {
		switch {
		case r == '-' || r == ' ':
			continue
		case r == 'O':
			r = '0'
		case r == 'I' || r == 'L':
			r = '1'
		}
		if !strings.ContainsRune(voucherAlphabet, r) {
			return "", Invalid("code", "That is not a voucher code: codes look like BERTH-7KQ2-M9XD-4TVA-PB3C-HN8E.")
		}
		sb.WriteRune(r)
	}
	if sb.Len() != voucherLen {
		return "", Invalid("code", "That is not a voucher code: codes look like BERTH-7KQ2-M9XD-4TVA-PB3C-HN8E.")
	}
	return sb.String(), nil
}

// Voucher refusals a person can act on.
var (
	ErrVoucherUnknown = &Error{Code: EINVALID, Param: "code", Message: "No voucher has this code. Check it and try again."}
	ErrVoucherUsed    = &Error{Code: ECONFLICT, Param: "code", Message: "This voucher has already been redeemed."}
	ErrVoucherExpired = &Error{Code: EINVALID, Param: "code", Message: "This voucher has expired."}
)
