// Package auth holds the rules about who may sign in and what a role may do:
// the roles and their order, password hashing, API token secrets, user
// name, password and token rules. It knows nothing of HTTP, sessions or
// SQL and imports no other portpanel package, so change, handlers, web,
// cli and views can all use it.
package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"regexp"
	"runtime/debug"
	"sync"
	"unicode/utf8"

	"github.com/alexedwards/argon2id"
)

// params are OWASP's argon2id recommendation (19 MiB, t=2, p=1). The PHC
// string stores them with each hash, so raising them later is safe.
// argon2id.DefaultParams uses p=NumCPU, which ties hashes to the machine.
var params = &argon2id.Params{Memory: 19456, Iterations: 2, Parallelism: 1, SaltLength: 16, KeyLength: 32}

// Password length bounds. The upper bound keeps a hash from being a cheap
// denial of service.
const (
	MinPasswordLen = 12
	MaxPasswordLen = 1024
)

// HashPassword returns the argon2id PHC string for password.
func HashPassword(password string) (string, error) {
	h, err := argon2id.CreateHash(password, params)
	releaseWorkingSet()
	if err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	return h, nil
}

// releaseWorkingSet hands argon2id's 19 MiB block back to the kernel at
// once. The Go runtime would keep it for minutes, so one sign-in tripled
// the resident memory of a server that otherwise needs under 20 MB
// (BENCHMARKS.md). Sign-ins are rare and throttled, and the garbage
// collection this forces costs far less than the hash itself.
func releaseWorkingSet() { debug.FreeOSMemory() }

// CheckPassword reports whether password matches the stored hash.
func CheckPassword(password, hash string) bool {
	if len(password) > MaxPasswordLen {
		return false
	}
	ok, err := argon2id.ComparePasswordAndHash(password, hash)
	releaseWorkingSet()
	return err == nil && ok
}

// dummyHash is compared against when a user name does not exist, so a
// failed login costs the same time either way and does not reveal names.
// Made on first use, not at start: argon2id's 19 MiB working set would
// otherwise stay resident in an idle server (see BENCHMARKS.md).
var dummyHash = sync.OnceValue(func() string {
	h, _ := argon2id.CreateHash("portpanel-no-such-user", params)
	releaseWorkingSet()
	return h
})

// BurnTime spends the time of one password check.
func BurnTime(password string) { CheckPassword(password, dummyHash()) }

// CheckNewPassword returns a sentence saying what is wrong with a new
// password (too short, too long, common), or "" when it is acceptable.
// CheckPasswordFor also knows the user name.
func CheckNewPassword(password string) string {
	n := utf8.RuneCountInString(password)
	switch {
	case n < MinPasswordLen:
		return fmt.Sprintf("Use at least %d characters (this one has %d).", MinPasswordLen, n)
	case len(password) > MaxPasswordLen:
		return fmt.Sprintf("Use at most %d bytes.", MaxPasswordLen)
	case IsCommonPassword(password):
		return "This is one of the most common passwords, the first an attacker tries. Choose another; a few unrelated words make a strong one."
	}
	return ""
}

var userName = regexp.MustCompile(`^[a-z][a-z0-9._-]{0,31}$`)

// CheckUserName returns a sentence saying what is wrong with a user name,
// or "" when it is acceptable.
func CheckUserName(name string) string {
	if !userName.MatchString(name) {
		return "Use 1 to 32 lower-case letters, digits, '.', '_' or '-', starting with a letter."
	}
	return ""
}

// NewSecret returns a random 256-bit secret, URL-safe, for API and setup
// tokens.
func NewSecret() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("read random bytes: %w", err)
	}
	return "pp_" + base64.RawURLEncoding.EncodeToString(b), nil
}

// HashToken is what the database stores for an API token: its SHA-256.
// A fast hash is right here: the secret has 256 bits of entropy.
func HashToken(secret string) []byte {
	sum := sha256.Sum256([]byte(secret))
	return sum[:]
}
