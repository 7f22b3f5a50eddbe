package db

import (
	"context"
	"time"
)

// PruneNoncesBatch is PruneNonces with a batch size a test can choose.
func (d *DB) PruneNoncesBatch(ctx context.Context, before time.Time, batch int) (int, error) {
	return d.pruneNonces(ctx, before, batch)
}
