package cli

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"

	"portpanel/auth"
)

// apiError is an answer other than 2xx, with what the server said and
// what to do about it.
type apiError struct {
	status  int
	msg     string   // the server's "error"
	hazards []hazard // a 422's hazards to acknowledge
	advice  string
}

func (e *apiError) Error() string {
	s := fmt.Sprintf("%d: %s", e.status, strings.TrimSuffix(e.msg, "."))
	if e.advice != "" {
		s += "; " + e.advice
	}
	return s
}

// hazard is one reason a change needs an explicit acknowledgement.
type hazard struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// UnmarshalJSON takes a hazard as a bare code or as an object with its
// code and a sentence under any of the usual names.
func (h *hazard) UnmarshalJSON(b []byte) error {
	if json.Unmarshal(b, &h.Code) == nil {
		return nil
	}
	var o map[string]any
	if err := json.Unmarshal(b, &o); err != nil {
		return err
	}
	h.Code, _ = o["code"].(string)
	for _, k := range []string{"message", "text", "detail", "why"} {
		if s, ok := o[k].(string); ok && s != "" {
			h.Message = s
			break
		}
	}
	return nil
}

var roleRefusal = regexp.MustCompile(`^Your role \((\w+)\) may not do this; it needs (\w+) or higher`)

// apiError reads a refusal and picks its exit status: 401 cannot
// authenticate, 409 stale, 422 with hazards needs --ack, the rest refused.
func (c *apiClient) apiError(a answer, contentType string) error {
	e := &apiError{status: a.status}
	var body struct {
		Error   string   `json:"error"`
		Hazards []hazard `json:"hazards"`
	}
	if strings.HasPrefix(contentType, "application/json") && json.Unmarshal(a.body, &body) == nil && body.Error != "" {
		e.msg, e.hazards = body.Error, body.Hazards
	} else {
		e.msg = http.StatusText(a.status)
		if a.status == http.StatusNotFound {
			e.msg = "no such API route: is " + c.where + " a portpanel server?"
		}
	}
	code := exitFailed
	switch {
	case a.status == http.StatusUnauthorized:
		code = exitUnreachable
		if c.token == "" {
			e.advice = "no API token given: pass --token, set PORTPANEL_TOKEN or put it in " + tokenFile() +
				" (mode 0600); an admin makes one with \"portpanel token create --user NAME\""
		} else {
			e.advice = "the token from " + c.tokenN + " was refused: ask an admin for a new one"
		}
	case a.status == http.StatusForbidden:
		if m := roleRefusal.FindStringSubmatch(e.msg); m != nil {
			e.msg = fmt.Sprintf("your role %s cannot %s; %s must", m[1], c.verb, rolesFrom(m[2]))
		}
	case a.status == http.StatusConflict:
		code = exitStale
		e.advice = "look again (portpanel status, portpanel show ID) and retry"
	case a.status == http.StatusUnprocessableEntity && len(e.hazards) > 0:
		code = exitHazard
		e.advice = "if you mean it, acknowledge with " + ackFlags(e.hazards)
	case a.status >= 500:
		e.advice = "the server's log has the details"
	}
	return &exitError{code: code, err: e}
}

// rolesFrom names the roles from least upward: "an approver or admin".
func rolesFrom(least string) string {
	i := slices.Index(auth.Roles, least)
	if i < 0 {
		return least
	}
	rs := auth.Roles[i:]
	s := strings.Join(rs, ", ")
	if n := len(rs); n > 1 {
		s = strings.Join(rs[:n-1], ", ") + " or " + rs[n-1]
	}
	if strings.ContainsRune("aeiou", rune(s[0])) {
		return "an " + s
	}
	return "a " + s
}

func ackFlags(hs []hazard) string {
	var s []string
	for _, h := range hs {
		s = append(s, "--ack "+h.Code)
	}
	return strings.Join(s, " ")
}
