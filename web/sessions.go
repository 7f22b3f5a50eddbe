package web

import (
	"errors"
	"fmt"
	"time"

	"github.com/alexedwards/scs/v2"
	"github.com/labstack/echo/v4"
)

// errUndecodable marks a stored session that scs's codec cannot read.
var errUndecodable = errors.New("decode session")

// gobCodec is scs's own codec, with its decoding errors marked so that
// loadSession can tell a session it cannot read from a database that fails.
type gobCodec struct{ scs.GobCodec }

func (c gobCodec) Decode(b []byte) (time.Time, map[string]any, error) {
	deadline, values, err := c.GobCodec.Decode(b)
	if err != nil {
		return deadline, values, fmt.Errorf("%w: %w", errUndecodable, err)
	}
	return deadline, values, nil
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
				}
			}
			return withSession(c)
		}
	}
}
