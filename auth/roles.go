package auth

import "slices"

// Roles, from least to most privileged. The database stores these names
// (users.role, tokens.role) and knows none of their meaning, except that
// the schema's CHECK lists them and db keeps one enabled admin (its
// adminRole); TestRolesAgreeWithDatabase holds the two sides together.
const (
	RoleViewer   = "viewer"
	RoleOperator = "operator"
	RoleApprover = "approver" // operator rights plus approving others' changes
	RoleAdmin    = "admin"
)

// Roles are every role, least privileged first: the one ordered list that
// Allows ranks by and that forms offer.
var Roles = []string{RoleViewer, RoleOperator, RoleApprover, RoleAdmin}

// RoleChoice is the sentence that asks for a valid role.
const RoleChoice = "Choose viewer, operator, approver or admin."

// rank is a role's place in Roles counted from 1; 0 for an unknown role,
// which therefore allows nothing.
func rank(role string) int { return slices.Index(Roles, role) + 1 }

// ValidRole reports whether role is one portpanel knows.
func ValidRole(role string) bool { return rank(role) > 0 }

// Allows reports whether a user with role may do what needs role need.
func Allows(role, need string) bool {
	return rank(role) > 0 && rank(role) >= rank(need)
}

// MayApprove reports whether role may approve others' changes, and so
// apply a rollback without approval in an emergency.
func MayApprove(role string) bool { return Allows(role, RoleApprover) }

// RolesUpTo returns the roles no higher than role, least privileged first:
// the roles a token of a user with role may have.
func RolesUpTo(role string) []string {
	var out []string
	for _, r := range Roles {
		if Allows(role, r) {
			out = append(out, r)
		}
	}
	return out
}

// Lower returns the less privileged of two roles; an unknown role is the
// lowest, so it allows nothing.
func Lower(a, b string) string {
	if rank(a) <= rank(b) {
		return a
	}
	return b
}
