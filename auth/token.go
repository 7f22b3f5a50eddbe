package auth

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// MaxTokenNameLen is the longest token name, in characters.
const MaxTokenNameLen = 100

// MaxTokenDays is the longest expiry given in days (ten years).
const MaxTokenDays = 3650

// TokenRole is what a token with role tokenRole may do for an owner whose
// role is now ownerRole: never more than the owner, so demoting a user
// demotes their tokens. "" (tokens from before roles) is the owner's role.
func TokenRole(tokenRole, ownerRole string) string {
	if tokenRole == "" {
		return ownerRole
	}
	return Lower(tokenRole, ownerRole)
}

// MayManageToken reports whether a user (actorID, actorRole) may create or
// revoke tokens of ownerID: their own, or anyone's as an admin.
func MayManageToken(actorID int64, actorRole string, ownerID int64) bool {
	return actorID == ownerID || Allows(actorRole, RoleAdmin)
}

// CheckTokenName returns a sentence saying what is wrong with a token
// name, or "" when it is acceptable.
func CheckTokenName(name string) string {
	n := utf8.RuneCountInString(name)
	switch {
	case strings.TrimSpace(name) == "":
		return "Give the token a name, such as the script or host that will use it."
	case !utf8.ValidString(name):
		return "Use text only in the name."
	case n > MaxTokenNameLen:
		return fmt.Sprintf("Use at most %d characters (this one has %d).", MaxTokenNameLen, n)
	case strings.IndexFunc(name, unicode.IsControl) >= 0:
		return "Use no line breaks or other control characters in the name."
	}
	return ""
}

// CheckTokenRole returns a sentence saying why a token of a user with
// ownerRole may not have role, or "" when it may.
func CheckTokenRole(role, ownerRole string) string {
	switch {
	case !ValidRole(role):
		return "Pick the token's role from the list."
	case !Allows(ownerRole, role):
		return fmt.Sprintf("The token's role can be at most %s, the role of its user; %s is higher.", ownerRole, role)
	}
	return ""
}

// ParseExpiry reads when a token expires: "" or "never" (nil), a number
// of days from now ("90d"), or a date ("2026-12-31"), on which the token
// stops working at 00:00 UTC. When s is not acceptable it returns a
// sentence saying why.
func ParseExpiry(s string, now time.Time) (*time.Time, string) {
	s = strings.TrimSpace(s)
	if s == "" || s == "never" {
		return nil, ""
	}
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil || n < 1 || n > MaxTokenDays {
			return nil, fmt.Sprintf("Give the expiry in days as 1d to %dd.", MaxTokenDays)
		}
		at := now.UTC().AddDate(0, 0, n)
		return &at, ""
	}
	at, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return nil, "Give the expiry as never, a number of days (90d) or a date (2026-12-31)."
	}
	if !at.After(now) {
		return nil, fmt.Sprintf("The date %s has passed; pick a later one.", s)
	}
	return &at, ""
}

// ExpiryText is how an expiry time reads in messages: "2026-12-31 00:00 UTC".
func ExpiryText(t time.Time) string {
	return t.UTC().Format("2006-01-02 15:04") + " UTC"
}
