package web_test

import (
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"portpanel/auth"
	"portpanel/db"
	"portpanel/sysctl/sysctltest"
	"portpanel/web"
)

// decoderWords are what encoding/json's own messages say, and Go's names
// for types and fields: none may reach an API client.
var decoderWords = regexp.MustCompile(`json:|\bGo\b|\bstruct\b|(?i:unmarshal)|\b(u?int(8|16|32|64)?|float(32|64)|bool|uintptr)\b|` +
	`changeRequest|handlers\.|reflect\.|invalid character|looking for beginning|unexpected end of JSON|cannot|literal|\*`)

type malformed struct {
	name, body string
	status     int    // 400, or 422 for a well-formed value out of range
	mentions   string // the field, or what is wrong
}

// Bodies no JSON route takes, whatever its fields.
var malformedAnywhere = []malformed{
	{"not an object: array", `[]`, 400, "JSON object"},
	{"not an object: string", `"low"`, 400, "JSON object"},
	{"not an object: number", `42`, 400, "JSON object"},
	{"not an object: null", `null`, 400, "JSON object"},
	{"not an object: true", `true`, 400, "JSON object"},
	{"not JSON at all", `low=1&high=2`, 400, "JSON object"},
	{"syntax error inside", `{"reason": tru}`, 400, "not valid JSON"},
	{"unquoted key", `{reason: "x"}`, 400, "not valid JSON"},
	{"cut short", `{"reason": "x",`, 400, "not valid JSON"},
	{"unknown field", `{"nope": 1}`, 400, `"nope"`},
	{"trailing object", `{} {"reason": "x"}`, 400, "after it"},
	{"trailing bracket", `{}]`, 400, "after it"},
	{"trailing garbage", `{} x`, 400, "after it"},
	{"invalid UTF-8 in a string", "{\"reason\": \"\xff\xfe\"}", 400, "UTF-8"},
	{"invalid UTF-8 outside strings", "{\xc3\x28}", 400, "UTF-8"},
	{"reason of the wrong type", `{"reason": 5}`, 400, `"reason" must be a string, not a number`},
}

// Bodies POST /api/v1/changes refuses for its own fields.
var malformedChange = []malformed{
	{"empty body", ``, 400, "empty"},
	{"only whitespace", " \n\t", 400, "empty"},
	{"low as a string", `{"low": "40000", "high": 50000}`, 400, `"low" must be an integer, not a string`},
	{"high as an object", `{"low": 40000, "high": {}}`, 400, `"high" must be an integer, not an object`},
	{"low as true", `{"low": true, "high": 50000}`, 400, `"low" must be an integer, not true or false`},
	{"dry_run as a string", `{"low": 40000, "high": 50000, "dry_run": "yes"}`, 400, `"dry_run" must be true or false, not a string`},
	{"base as a number", `{"low": 40000, "high": 50000, "base": 5}`, 400, `"base" must be an object, not a number`},
	{"base.low as a string", `{"low": 40000, "high": 50000, "base": {"low": "1"}}`, 400, `"base.low" must be an integer`},
	{"unknown field inside base", `{"low": 40000, "high": 50000, "base": {"lo": 1}}`, 400, `"lo"`},
	{"misspelt reason", `{"low": 40000, "high": 50000, "reson": "x"}`, 400, `"reson"`},
	{"huge exponent", `{"low": 1e400, "high": 50000}`, 400, `"low" must be an integer`},
	{"huge integer", `{"low": 99999999999999999999, "high": 50000}`, 400, `"low" must be an integer`},
	{"fraction", `{"low": 40000.5, "high": 50000}`, 400, `"low" must be an integer`},
	{"huge float for confirm_within", `{"low": 40000, "high": 50000, "confirm_within": 1e30}`, 400, `"confirm_within" must be an integer`},
	// 2^55 + 60 seconds is 60 s once multiplied into nanoseconds and
	// wrapped: it must be refused, not taken for a minute.
	{"confirm_within that wraps around", `{"low": 40000, "high": 50000, "reason": "r", "dry_run": true, "confirm_within": 36028797018964028}`, 422, "confirmation window"},
	{"negative confirm_within", `{"low": 40000, "high": 50000, "reason": "r", "dry_run": true, "confirm_within": -1}`, 422, "confirmation window"},
	{"null low", `{"low": null, "high": 50000}`, 422, `"low"`},
}

// noReason are the routes whose body has no "reason" (fleet's enrollment
// and revocations): one sent is an unknown field there.
var noReason = map[string]bool{"/api/v1/enrollments": true, "/api/v1/enrollments/1/revoke": true, "/api/v1/hosts/:name/revoke": true}

// Malformed bodies on every JSON route answer 400 (422 for a value out of
// range) with a message a user can act on, naming the field where there
// is one, and never encoding/json's wording or Go's type names.
func TestMalformedJSONAnswersPlainly(t *testing.T) {
	e := newEnv(t, sysctltest.FakeProcSys(t))
	admin := e.bearer(t, "root", auth.RoleAdmin)
	admin.Set("Content-Type", "application/json")
	if _, _, err := e.h.DB.RecordChange(t.Context(), db.Change{Status: db.StatusApplied, Low: 20000, High: 60999, User: "root"},
		db.AuditEvent{User: "root", Action: "change.applied"}, nil); err != nil {
		t.Fatal(err)
	}
	c := e.client(t)
	var routes []string
	for _, r := range web.Routes(e.h) {
		if r.Method == http.MethodPost && strings.HasPrefix(r.Path, "/api/") {
			routes = append(routes, strings.ReplaceAll(r.Path, ":id", "1"))
		}
	}
	for _, path := range routes {
		cases := malformedAnywhere
		if path == "/api/v1/changes" {
			cases = append(cases[:len(cases):len(cases)], malformedChange...)
		}
		for _, tt := range cases {
			if noReason[path] && tt.name == "reason of the wrong type" {
				tt.mentions = `"reason" is not a field`
			}
			t.Run(path+"/"+tt.name, func(t *testing.T) {
				res := c.do(http.MethodPost, path, admin, strings.NewReader(tt.body))
				raw := body(res)
				var got struct {
					Error string `json:"error"`
				}
				if err := json.Unmarshal([]byte(raw), &got); err != nil || got.Error == "" {
					t.Fatalf("status %d, body %q: want {\"error\": message}", res.StatusCode, raw)
				}
				if res.StatusCode != tt.status {
					t.Errorf("status %d, want %d: %s", res.StatusCode, tt.status, got.Error)
				}
				if !strings.Contains(got.Error, tt.mentions) {
					t.Errorf("message %q does not say %q", got.Error, tt.mentions)
				}
				if w := decoderWords.FindString(raw); w != "" {
					t.Errorf("the answer says %q: %s", w, raw)
				}
			})
		}
	}
}
