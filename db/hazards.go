package db

import (
	"encoding/json"
	"errors"
	"fmt"
)

// encodeHazards normalises c's hazards and acknowledgements in place (none
// is nil, as for warnings) and returns them as stored: JSON arrays.
func encodeHazards(c *Change) (hazards, acked string, err error) {
	if len(c.Hazards) == 0 {
		c.Hazards = nil
	}
	c.Acknowledged = normStrings(c.Acknowledged)
	h, herr := json.Marshal(c.Hazards)
	a, aerr := json.Marshal(c.Acknowledged)
	if err := errors.Join(herr, aerr); err != nil {
		return "", "", fmt.Errorf("encode hazards: %w", err)
	}
	if c.Hazards == nil {
		h = []byte("[]")
	}
	return string(h), string(a), nil
}

func decodeHazards(c *Change, hazards, acked string) error {
	if err := json.Unmarshal([]byte(hazards), &c.Hazards); err != nil {
		return fmt.Errorf("decode hazards of change %d: %w", c.ID, err)
	}
	if len(c.Hazards) == 0 {
		c.Hazards = nil
	}
	var err error
	c.Acknowledged, err = decodeStrings(acked, "acknowledged hazards", c.ID)
	return err
}
