package auditlog

import (
	"strings"
	"testing"
	"time"
)

// The four examples of RFC 5424, section 6.5, byte for byte ("BOM" in the
// RFC's text stands for the three bytes EF BB BF).
func TestAppendFormatsTheRFCExamples(t *testing.T) {
	pdt := time.FixedZone("", -7*3600)
	event := Element{ID: "exampleSDID@32473", Params: []Param{{"iut", "3"}, {"eventSource", "Application"}, {"eventID", "1011"}}}
	tests := []struct {
		name string
		m    Message
		want string
	}{
		{"1: no structured data", Message{Facility: 4, Severity: 2,
			Time:     time.Date(2003, 10, 11, 22, 14, 15, 3_000_000, time.UTC),
			Hostname: "mymachine.example.com", AppName: "su", MsgID: "ID47",
			Msg: "'su root' failed for lonvick on /dev/pts/8"},
			"<34>1 2003-10-11T22:14:15.003Z mymachine.example.com su - ID47 - BOM'su root' failed for lonvick on /dev/pts/8"},
		{"2: a message not known to be UTF-8", Message{Facility: 20, Severity: 5,
			Time:     time.Date(2003, 8, 24, 5, 14, 15, 3_000, pdt),
			Hostname: "192.0.2.1", AppName: "myproc", ProcID: "8710",
			Msg: "%% It's time to make the do-nuts.", MsgAny: true},
			"<165>1 2003-08-24T05:14:15.000003-07:00 192.0.2.1 myproc 8710 - - %% It's time to make the do-nuts."},
		{"3: structured data and a message", Message{Facility: 20, Severity: 5,
			Time:     time.Date(2003, 10, 11, 22, 14, 15, 3_000_000, time.UTC),
			Hostname: "mymachine.example.com", AppName: "evntslog", MsgID: "ID47",
			Data: []Element{event}, Msg: "An application event log entry..."},
			`<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 iut="3" eventSource="Application" eventID="1011"] BOMAn application event log entry...`},
		{"4: structured data only", Message{Facility: 20, Severity: 5,
			Time:     time.Date(2003, 10, 11, 22, 14, 15, 3_000_000, time.UTC),
			Hostname: "mymachine.example.com", AppName: "evntslog", MsgID: "ID47",
			Data: []Element{event, {ID: "examplePriority@32473", Params: []Param{{"class", "high"}}}}},
			`<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 iut="3" eventSource="Application" eventID="1011"][examplePriority@32473 class="high"]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := strings.ReplaceAll(tt.want, "BOM", "\xEF\xBB\xBF")
			if got := string(tt.m.Append(nil, 0)); got != want {
				t.Errorf("got  %q\nwant %q", got, want)
			}
		})
	}
}

func TestAppendKeepsHostileValuesInTheirFields(t *testing.T) {
	tests := []struct {
		name string
		m    Message
		want string
	}{
		{"escapes in a parameter value (section 6.3.3)",
			Message{Severity: 5, Data: []Element{{ID: "x@32473", Params: []Param{{"actor", `a"b\c]d`}}}}},
			`<5>1 - - - - - [x@32473 actor="a\"b\\c\]d"]`},
		{"a line break in a value stays a value",
			Message{Severity: 5, Data: []Element{{ID: "x@32473", Params: []Param{{"detail", "a\nb"}}}}},
			"<5>1 - - - - - [x@32473 detail=\"a\nb\"]"},
		{"invalid UTF-8 in a value",
			Message{Severity: 5, Data: []Element{{ID: "x@32473", Params: []Param{{"v", "a\xffb"}}}}},
			"<5>1 - - - - - [x@32473 v=\"a\uFFFDb\"]"},
		{"spaces and non-ASCII in header fields",
			Message{Severity: 5, Hostname: "my host", AppName: "pörtpanel", MsgID: "change applied"},
			"<5>1 - my_host p__rtpanel - change_applied -"},
		{"header fields cut to their limits",
			Message{Severity: 5, MsgID: strings.Repeat("m", 40)},
			"<5>1 - - - - " + strings.Repeat("m", 32) + " -"},
		{"an SD name with a reserved character",
			Message{Severity: 5, Data: []Element{{ID: "a b@1", Params: []Param{{"k=v", "x"}}}}},
			`<5>1 - - - - - [a_b@1 k_v="x"]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := string(tt.m.Append(nil, 0)); got != tt.want {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
		})
	}
}

func TestAppendCutsOnlyTheMessageAtACharacter(t *testing.T) {
	m := Message{Severity: 5, Data: []Element{{ID: "x@32473", Params: []Param{{"k", "v"}}}}, Msg: strings.Repeat("é", 100)}
	head := `<5>1 - - - - - [x@32473 k="v"] ` + "\xEF\xBB\xBF"
	for _, limit := range []int{len(head) + 10, len(head) + 11, len(head) - 5} {
		got := string(m.Append([]byte("prefix"), limit))[len("prefix"):]
		if len(got) > max(limit, len(head)) || !strings.HasPrefix(got, head) {
			t.Errorf("limit %d: %d bytes %q", limit, len(got), got)
		}
		if !strings.HasPrefix(m.Msg, got[len(head):]) {
			t.Errorf("limit %d: the message was not cut at a character: %q", limit, got[len(head):])
		}
	}
}
