package views

import "portpanel/db"

// NewUserForm is the add-user form's values and its errors by field
// ("username", "role", "password", "password2").
type NewUserForm struct {
	Username, Role string
	Errors         map[string]string
}

// UsersPage lists every user for admins, with the form to add one.
type UsersPage struct {
	Chrome
	Users []db.User
	Form  NewUserForm
}

// UserPage shows one user to an admin: role, status, password reset.
// Errors holds the reset form's errors ("password", "password2").
type UserPage struct {
	Chrome
	User db.User
	// Self: the admin looks at their own account, which they may not
	// disable or reset here (the account page changes their password).
	Self   bool
	Errors map[string]string
}

// AccountPage is the signed-in user's own account and the form to change
// the password. Errors are by field ("current", "password", "password2").
type AccountPage struct {
	Chrome
	Account db.User
	Errors  map[string]string
}

// userStatus is how lists name a user's state: a disabled account can do
// nothing, whatever else is set.
func userStatus(u db.User) string {
	switch {
	case u.Disabled:
		return "disabled"
	case u.MustChangePassword:
		return "must set password"
	}
	return "active"
}
