package web

import (
	"maps"
	"sync"
	"time"
)

// reusingCodec is jsonCodec that decodes the same stored bytes once: every
// signed-in request decodes its session, the same few hundred bytes until
// the session changes, and encoding/json's decoding was 9% of the
// dashboard's CPU under load (BENCHMARKS.md, "Tricks that stay"). Decoding
// is a function of the bytes alone, so what was decoded from equal bytes
// is what decoding them again gives; each caller gets its own copy of the
// values, which scs changes in place.
type reusingCodec struct {
	jsonCodec
	mu      sync.Mutex
	decoded map[string]decodedSession
}

type decodedSession struct {
	deadline time.Time
	values   map[string]any // int64, string and bool only: copied shallowly
}

// maxDecoded bounds the sessions kept decoded; past it they are dropped
// all at once and decoded again as they come.
const maxDecoded = 1024

func (c *reusingCodec) Decode(b []byte) (time.Time, map[string]any, error) {
	c.mu.Lock()
	d, ok := c.decoded[string(b)]
	c.mu.Unlock()
	if !ok {
		deadline, values, err := c.jsonCodec.Decode(b)
		if err != nil {
			return deadline, values, err
		}
		d = decodedSession{deadline, maps.Clone(values)}
		c.mu.Lock()
		if c.decoded == nil || len(c.decoded) >= maxDecoded {
			c.decoded = make(map[string]decodedSession)
		}
		c.decoded[string(b)] = d
		c.mu.Unlock()
		return deadline, values, nil
	}
	return d.deadline, maps.Clone(d.values), nil
}
