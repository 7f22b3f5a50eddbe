package web

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/alexedwards/scs/v2"
)

// sessionCodec encodes session data in a small binary form instead of scs's
// default gob. Every signed-in request decodes its session, and gob builds
// a decoder for the map's types on each decode: 17% of the dashboard's
// CPU under load (BENCHMARKS.md). Sessions hold only int64, string and
// bool values (handlers/session.go), which is all this codec takes.
// Sessions saved by gob before it are still read.
//
// Layout: magic byte, deadline in unix nanoseconds (varint), number of
// values (uvarint), then per value: key length and key, a type byte, and
// the value (varint, length and bytes, or one byte).
type sessionCodec struct{}

const (
	codecMagic = 0xB1 // never the first byte of a gob stream of a struct
	typeInt64  = 'i'
	typeString = 's'
	typeBool   = 'b'
)

func (sessionCodec) Encode(deadline time.Time, values map[string]any) ([]byte, error) {
	b := make([]byte, 0, 64)
	b = append(b, codecMagic)
	b = binary.AppendVarint(b, deadline.UnixNano())
	b = binary.AppendUvarint(b, uint64(len(values)))
	for k, v := range values {
		b = appendString(b, k)
		switch v := v.(type) {
		case int64:
			b = append(b, typeInt64)
			b = binary.AppendVarint(b, v)
		case string:
			b = append(b, typeString)
			b = appendString(b, v)
		case bool:
			b = append(b, typeBool)
			if v {
				b = append(b, 1)
			} else {
				b = append(b, 0)
			}
		default:
			return nil, fmt.Errorf("encode session: value %q is a %T; only int64, string and bool are stored", k, v)
		}
	}
	return b, nil
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

var errBadSession = errors.New("decode session: malformed data")

func (sessionCodec) Decode(b []byte) (time.Time, map[string]any, error) {
	if len(b) == 0 || b[0] != codecMagic {
		return scs.GobCodec{}.Decode(b)
	}
	r := sessionReader{b: b[1:]}
	deadline := time.Unix(0, r.varint())
	n := r.uvarint()
	if r.err != nil || n > uint64(len(r.b)) {
		return time.Time{}, nil, errBadSession
	}
	values := make(map[string]any, n)
	for range n {
		k := r.string()
		switch r.byte() {
		case typeInt64:
			values[k] = r.varint()
		case typeString:
			values[k] = r.string()
		case typeBool:
			values[k] = r.byte() == 1
		default:
			return time.Time{}, nil, errBadSession
		}
		if r.err != nil {
			return time.Time{}, nil, errBadSession
		}
	}
	if len(r.b) != 0 {
		return time.Time{}, nil, errBadSession
	}
	return deadline, values, nil
}

// sessionReader reads the layout above; the first error sticks.
type sessionReader struct {
	b   []byte
	err error
}

func (r *sessionReader) varint() int64 {
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.err = errBadSession
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *sessionReader) uvarint() uint64 {
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.err = errBadSession
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *sessionReader) byte() byte {
	if len(r.b) == 0 {
		r.err = errBadSession
		return 0
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c
}

func (r *sessionReader) string() string {
	n := r.uvarint()
	if r.err != nil || n > uint64(len(r.b)) {
		r.err = errBadSession
		return ""
	}
	s := string(r.b[:n])
	r.b = r.b[n:]
	return s
}
