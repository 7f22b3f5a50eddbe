package auth

import (
	_ "embed"
	"strings"
)

// commonPasswords is a small deny list, one password a line: the 1,000
// most common passwords of SecLists' Passwords/Common-Credentials/
// 10k-most-common.txt, followed by the entries of 12 characters or more
// among the first ~3,500 of its 100k-most-used-passwords-NCSC.txt (random-
// looking strings left out). The first part is mostly shorter than
// MinPasswordLen, so the length rule refuses those already; the second is
// what the list adds at today's minimum, and the first keeps the list
// meaningful should the minimum ever drop. ASVS 5 asks for such a check
// (6.2.4); a breached-password service would be stronger but needs the
// network, which portpanel must not.
//
//go:embed common-passwords.txt
var commonPasswords string

var common = func() map[string]struct{} {
	m := map[string]struct{}{}
	for _, p := range strings.Split(commonPasswords, "\n") {
		if p = strings.TrimSpace(p); p != "" {
			m[strings.ToLower(p)] = struct{}{}
		}
	}
	return m
}()

// IsCommonPassword reports whether password is on the bundled list of
// common passwords, ignoring case ("QWERTY123456" is as weak as
// "qwerty123456").
func IsCommonPassword(password string) bool {
	_, ok := common[strings.ToLower(password)]
	return ok
}

// CheckPasswordFor is CheckNewPassword for the account called name: the
// password must also differ from the name, whatever the case.
func CheckPasswordFor(name, password string) string {
	if msg := CheckNewPassword(password); msg != "" {
		return msg
	}
	if strings.EqualFold(strings.TrimSpace(password), name) {
		return "Do not use the user name as the password."
	}
	return ""
}
