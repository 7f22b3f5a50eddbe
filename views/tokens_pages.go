package views

import "portpanel/db"

// TokenForm is the new-token form's values and its errors by field
// ("name", "user", "role", "expires").
type TokenForm struct {
	Name string
	// User is the owner's name; only admins may name someone else.
	User string
	Role string
	// Expires is one of TokenExpiries; ExpiresOn is the date (YYYY-MM-DD)
	// used when it is "date".
	Expires, ExpiresOn string
	Errors             map[string]string
}

// TokenExpiries are the form's expiry choices: days, "never" or "date".
var TokenExpiries = []string{"30", "90", "365", "never", "date"}

// DefaultTokenExpiry is preselected: a token nobody remembers should not
// work forever.
const DefaultTokenExpiry = "90"

// TokenRow is one token as the list shows it.
type TokenRow struct {
	db.OwnedToken
	// Acts is the role the token acts with now: its own, capped by its
	// owner's current role.
	Acts      string
	Expired   bool
	CanRevoke bool
}

// TokensPage lists API tokens and has the form for a new one.
type TokensPage struct {
	Chrome
	Tokens []TokenRow
	// All is true for admins: Tokens holds every user's, and the list
	// shows whose each is.
	All  bool
	Form TokenForm
	// Roles are the roles the form offers: up to the signed-in user's.
	Roles []string
	// Users are the names an admin may create a token for; nil for
	// everyone else, who create tokens for themselves only.
	Users []string
}

// TokenCreatedPage shows a new token's secret, the only time it is ever
// shown.
type TokenCreatedPage struct {
	Chrome
	Token  TokenRow
	Secret string
}

// expiryChoice is how the form names an expiry choice.
func expiryChoice(e string) string {
	switch e {
	case "never":
		return "Never"
	case "date":
		return "On a date"
	}
	return "In " + e + " days"
}
