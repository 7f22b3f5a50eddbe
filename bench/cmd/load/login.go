package main

import (
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
)

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// login signs in through the form, as a browser does (GET /login for the
// session's CSRF token, POST /login), and returns the Cookie header value
// of the signed-in session.
func login(base, user, password string) (string, error) {
	if password == "" {
		return "", fmt.Errorf("sign in as %s: $BENCH_PASSWORD is empty", user)
	}
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Get(base + "/login")
	if err != nil {
		return "", err
	}
	page, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := csrfField.FindSubmatch(page)
	if err != nil || m == nil {
		return "", fmt.Errorf("GET /login: %s, no CSRF field (%v)", resp.Status, err)
	}
	resp, err = c.PostForm(base+"/login", url.Values{"username": {user}, "password": {password}, "csrf": {string(m[1])}})
	if err != nil {
		return "", err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		return "", fmt.Errorf("POST /login as %s: %s, want 303", user, resp.Status)
	}
	u, _ := url.Parse(base)
	var parts []string
	for _, ck := range jar.Cookies(u) {
		parts = append(parts, ck.Name+"="+ck.Value)
	}
	return strings.Join(parts, "; "), nil
}
