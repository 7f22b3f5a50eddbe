package auditlog

import (
	"strconv"
	"time"
	"unicode/utf8"
)

// Message is one syslog message in the RFC 5424 format. Empty header
// fields are sent as the nil value "-".
type Message struct {
	Facility, Severity int
	Time               time.Time // zero: "-"
	Hostname           string
	AppName            string
	ProcID             string
	MsgID              string
	Data               []Element // STRUCTURED-DATA, in order
	Msg                string
	// MsgAny sends Msg without the BOM that marks it as UTF-8 (the RFC's
	// MSG-ANY); audit messages are UTF-8 and leave it false.
	MsgAny bool
}

// Element is one SD-ELEMENT: an SD-ID ("name@enterprise-number" unless
// registered with IANA) and its parameters.
type Element struct {
	ID     string
	Params []Param
}

// Param is one SD-PARAM.
type Param struct{ Name, Value string }

// Header field limits (RFC 5424, section 6): longer values are cut,
// characters outside PRINTUSASCII replaced, so a user name or an action can
// never break the header's space-separated fields.
const (
	maxHostname = 255
	maxAppName  = 48
	maxProcID   = 128
	maxMsgID    = 32
	maxSDName   = 32
)

var bom = []byte{0xEF, 0xBB, 0xBF}

// Append appends m, formatted, to b and returns the result, cut to at most
// limit bytes (0: no limit) by shortening MSG only, at a character
// boundary: a collector that truncates by itself (rsyslog at 8 KiB) could
// cut the structured data instead.
func (m Message) Append(b []byte, limit int) []byte {
	start := len(b)
	b = append(b, '<')
	b = strconv.AppendInt(b, int64(m.Facility*8+m.Severity), 10)
	b = append(b, ">1 "...)
	if m.Time.IsZero() {
		b = append(b, '-')
	} else {
		// TIME-SECFRAC has at most 6 digits; RFC3339Nano drops trailing zeros.
		b = m.Time.Truncate(time.Microsecond).AppendFormat(b, time.RFC3339Nano)
	}
	for _, f := range []struct {
		v   string
		max int
	}{{m.Hostname, maxHostname}, {m.AppName, maxAppName}, {m.ProcID, maxProcID}, {m.MsgID, maxMsgID}} {
		b = append(b, ' ')
		b = appendHeaderField(b, f.v, f.max)
	}
	b = append(b, ' ')
	if len(m.Data) == 0 {
		b = append(b, '-')
	}
	for _, e := range m.Data {
		b = append(b, '[')
		b = appendName(b, e.ID, 255) // an SD-ID with its "@number" may be longer than a name
		for _, p := range e.Params {
			b = append(b, ' ')
			b = appendName(b, p.Name, maxSDName)
			b = append(b, '=', '"')
			b = appendParamValue(b, p.Value)
			b = append(b, '"')
		}
		b = append(b, ']')
	}
	if m.Msg == "" {
		return b
	}
	b = append(b, ' ')
	if !m.MsgAny {
		b = append(b, bom...)
	}
	msg := m.Msg
	if limit > 0 && len(b)-start+len(msg) > limit {
		msg = cutUTF8(msg, max(limit-(len(b)-start), 0))
	}
	return append(b, msg...)
}

// appendHeaderField appends v as a header field: "-" when empty, else at
// most max characters of PRINTUSASCII ('!' to '~'), others as '_'.
func appendHeaderField(b []byte, v string, max int) []byte {
	if v == "" {
		return append(b, '-')
	}
	for i := 0; i < len(v) && i < max; i++ {
		c := v[i]
		if c < '!' || c > '~' {
			c = '_'
		}
		b = append(b, c)
	}
	return b
}

// appendName appends an SD-NAME: PRINTUSASCII but '=', ' ', ']' and '"'.
// Names are portpanel's constants; the replacement only keeps a mistake
// from breaking the frame.
func appendName(b []byte, v string, max int) []byte {
	for i := 0; i < len(v) && i < max; i++ {
		c := v[i]
		if c < '!' || c > '~' || c == '=' || c == ']' || c == '"' {
			c = '_'
		}
		b = append(b, c)
	}
	return b
}

// appendParamValue escapes '"', '\' and ']' with a backslash, as the RFC
// requires; everything else, line breaks included, is sent as it is
// (UTF-8; invalid bytes become U+FFFD).
func appendParamValue(b []byte, v string) []byte {
	for _, r := range v {
		switch r {
		case '"', '\\', ']':
			b = append(b, '\\', byte(r))
		default:
			b = utf8.AppendRune(b, r)
		}
	}
	return b
}

// cutUTF8 returns the longest prefix of s of at most n bytes that does not
// split a character.
func cutUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
