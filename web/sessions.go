package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/alexedwards/scs/v2"
	"github.com/labstack/echo/v4"

	"portpanel/db"
)

// errUndecodable marks a stored session that scs's codec cannot read.
var errUndecodable = errors.New("decode session")

// jsonCodec stores a session as JSON through encoding/json instead of scs's
// gob codec. Every signed-in request decodes its session, and scs's
// GobCodec builds a new gob decoder each time, which compiles the map's
// types anew: 30% of the dashboard's CPU (BENCHMARKS.md, "Tricks that
// stay"). Sessions hold only int64, string and bool values
// (handlers/session.go); JSON numbers are read back as int64, so
// Sessions.GetInt64 sees what was Put.
type jsonCodec struct{}

type storedSession struct {
	Deadline time.Time      `json:"deadline"`
	Values   map[string]any `json:"values"`
}

func (jsonCodec) Encode(deadline time.Time, values map[string]any) ([]byte, error) {
	for k, v := range values {
		switch v.(type) {
		case int64, string, bool:
		default:
			return nil, fmt.Errorf("encode session: value %q is a %T; only int64, string and bool are stored", k, v)
		}
	}
	return json.Marshal(storedSession{Deadline: deadline, Values: values})
}

func (jsonCodec) Decode(b []byte) (time.Time, map[string]any, error) {
	var s storedSession
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(&s); err != nil {
		return time.Time{}, nil, fmt.Errorf("%w: %w", errUndecodable, err)
	}
	if s.Values == nil {
		s.Values = map[string]any{}
	}
	for k, v := range s.Values {
		if n, ok := v.(json.Number); ok {
			i, err := n.Int64()
			if err != nil {
				return time.Time{}, nil, fmt.Errorf("%w: value %q: %w", errUndecodable, k, err)
			}
			s.Values[k] = i
		}
	}
	return s.Deadline, s.Values, nil
}

// loadAndSave is scs's LoadAndSave, with the session loaded ahead of it
// (LoadAndSave then uses that one). A session that cannot be decoded (one
// stored by an older portpanel in its own binary format, or a damaged row)
// is no session: its user signs in again, where LoadAndSave alone would
// answer every request carrying its cookie with a 500. Any other failure
// is left to LoadAndSave, which reports it.
func loadAndSave(sm *scs.SessionManager) echo.MiddlewareFunc {
	wrap := echo.WrapMiddleware(sm.LoadAndSave)
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		withSession := wrap(next)
		return func(c echo.Context) error {
			r := c.Request()
			if ck, err := r.Cookie(sm.Cookie.Name); err == nil {
				ctx, err := sm.Load(r.Context(), ck.Value)
				if errors.Is(err, errUndecodable) {
					ctx, err = sm.Load(r.Context(), "")
				}
				if err == nil {
					c.SetRequest(r.WithContext(ctx))
				} else if db.IsUnavailable(err) {
					// 503 from the error handler, not scs's 500. Its page
					// needs a session in the context: an empty one, which
					// touches no store and is never saved.
					if ctx, lerr := sm.Load(r.Context(), ""); lerr == nil {
						c.SetRequest(r.WithContext(ctx))
					}
					return err
				}
			}
			return withSession(c)
		}
	}
}
