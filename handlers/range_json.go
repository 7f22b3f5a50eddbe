package handlers

import (
	"encoding/json"
	"strconv"
)

// appendJSON appends what encoding/json's Encoder writes for r, newline
// included, byte for byte (TestRangeJSONMatchesEncodingJSON). GET
// /api/v1/range is the call scripts and monitoring poll, and reflection
// cost a quarter of its time in the server (issue 6). A field added to
// rangeStatusJSON must be added here: the test compares every field.
func (r rangeStatusJSON) appendJSON(b []byte) []byte {
	b = append(b, `{"boot":`...)
	if r.Boot == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, `{"low":`...)
		b = strconv.AppendInt(b, int64(r.Boot.Low), 10)
		b = append(b, `,"high":`...)
		b = strconv.AppendInt(b, int64(r.Boot.High), 10)
		b = append(b, `,"file":`...)
		b = appendJSONString(b, r.Boot.File)
		b = append(b, `,"line":`...)
		b = strconv.AppendInt(b, int64(r.Boot.Line), 10)
		b = append(b, '}')
	}
	b = append(b, `,"drift":`...)
	b = strconv.AppendBool(b, r.Drift)
	b = append(b, `,"file_overridden":`...)
	b = strconv.AppendBool(b, r.FileOverridden)
	b = append(b, `,"overridden_by":`...)
	if r.OverriddenBy == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, `{"file":`...)
		b = appendJSONString(b, r.OverriddenBy.File)
		b = append(b, `,"line":`...)
		b = strconv.AppendInt(b, int64(r.OverriddenBy.Line), 10)
		b = append(b, '}')
	}
	b = append(b, `,"reserved_ports":`...)
	b = appendJSONString(b, r.ReservedPorts)
	b = append(b, `,"runtime":{"low":`...)
	b = strconv.AppendInt(b, int64(r.Runtime.Low), 10)
	b = append(b, `,"high":`...)
	b = strconv.AppendInt(b, int64(r.Runtime.High), 10)
	b = append(b, `},"size":`...)
	b = strconv.AppendInt(b, int64(r.Size), 10)
	b = append(b, `,"unprivileged_port_start":`...)
	b = strconv.AppendInt(b, int64(r.UnprivilegedPortStart), 10)
	b = append(b, `,"warnings":`...)
	if r.Warnings == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '[')
		for i, w := range r.Warnings {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSONString(b, w)
		}
		b = append(b, ']')
	}
	return append(b, "}\n"...)
}

// appendJSONString appends s as encoding/json quotes it. Plain ASCII, the
// usual path and port list, is copied; anything encoding/json would escape
// (quotes, backslashes, control characters, <, > and & for HTML, and
// every non-ASCII byte, for invalid UTF-8 and U+2028/U+2029) goes
// through encoding/json itself.
func appendJSONString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			q, err := json.Marshal(s)
			if err != nil { // cannot happen for a string
				panic(err)
			}
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}
