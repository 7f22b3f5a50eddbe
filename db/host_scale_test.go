package db_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"portpanel/db"
	"portpanel/db/dbtest"
)

func TestSpendNonceChecksTheKeysItWasGiven(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		enrollAll(t, d, "web1")
		ctx := context.Background()
		k, err := d.HostKeyByName(ctx, "web1")
		if err != nil {
			t.Fatal(err)
		}
		spend := func(k db.HostKey, nonce string) bool {
			t.Helper()
			ok, err := d.SpendNonce(ctx, k, nonce, t0)
			if err != nil {
				t.Fatal(err)
			}
			return ok
		}
		if !spend(k, "n1") || spend(k, "n1") {
			t.Fatal("a fresh nonce must be spent once, a replay refused")
		}
		if _, err := d.RotateHostKey(ctx, "web1", "key-web1", "k2", t0.Add(time.Minute), nil); err != nil {
			t.Fatal(err)
		}
		if spend(k, "n2") {
			t.Error("a nonce spent with the keys from before a rotation")
		}
		k2, _ := d.HostKeyByName(ctx, "web1")
		if !spend(k2, "n2") {
			t.Error("the keys read after the rotation are refused")
		}
		if _, err := d.RevokeHost(ctx, "web1", t0, nil); err != nil {
			t.Fatal(err)
		}
		if spend(k2, "n3") {
			t.Error("a nonce spent for a revoked host")
		}
	})
}

func TestPruneNoncesDeletesInBatches(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		enrollAll(t, d, "web1")
		ctx := context.Background()
		h, _ := d.HostByName(ctx, "web1")
		for i := range 5 {
			if _, err := d.UseNonce(ctx, h.ID, fmt.Sprint("old", i), t0); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := d.UseNonce(ctx, h.ID, "new", t0.Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
		if n, err := d.PruneNoncesBatch(ctx, t0.Add(time.Second), 2); err != nil || n != 5 {
			t.Errorf("prune in batches of 2 = %d, %v; want all 5 old ones", n, err)
		}
		if ok, _ := d.UseNonce(ctx, h.ID, "new", t0.Add(time.Minute)); ok {
			t.Error("the new nonce was pruned too")
		}
	})
}
