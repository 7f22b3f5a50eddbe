package db_test

import (
	"testing"
	"time"

	"portpanel/db"
	"portpanel/db/dbtest"
)

// A host is returned once something the Hosts list shows changed at or
// after the time asked: its enrollment, a report, a desired state, a
// revocation; the others are not.
func TestHostsChangedSince(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := t.Context()
		t0 := time.Now().Add(-time.Hour).Truncate(time.Millisecond)
		for i, name := range []string{"a", "b", "c", "d", "e"} {
			tok, err := d.CreateEnrollmentToken(ctx, db.EnrollmentToken{Group: "g", CreatedBy: "x", CreatedAt: t0, ExpiresAt: t0.Add(2 * time.Hour)},
				[]byte{byte(i + 1)}, nil)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := d.Enroll(ctx, db.Enrollment{TokenHash: []byte{byte(i + 1)}, Name: name, PublicKey: "k" + name, At: t0}, nil); err != nil {
				t.Fatalf("enroll %s with token %d: %v", name, tok.ID, err)
			}
		}
		since := t0.Add(30 * time.Minute)
		a, _ := d.HostByName(ctx, "a")
		if _, err := d.RecordHostReport(ctx, a.ID, db.HostReport{At: since, PollSeconds: 30, Observed: []byte(`{}`)}); err != nil {
			t.Fatal(err)
		}
		if _, err := d.SetDesired(ctx, "b", []byte(`{}`), since.Add(time.Second), nil); err != nil {
			t.Fatal(err)
		}
		if _, err := d.RevokeHost(ctx, "c", since.Add(2*time.Second), nil); err != nil {
			t.Fatal(err)
		}
		if _, err := d.RotateHostKey(ctx, "d", "kd", "kd2", since.Add(time.Minute), nil); err != nil {
			t.Fatal(err)
		}
		got, err := d.HostsChangedSince(ctx, since)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, h := range got {
			names = append(names, h.Name)
		}
		if len(names) != 3 || names[0] != "a" || names[1] != "b" || names[2] != "c" {
			t.Errorf("changed since = %v, want [a b c]: reported, given a desired state, revoked", names)
		}
		all, err := d.HostsChangedSince(ctx, t0)
		if err != nil || len(all) != 5 {
			t.Errorf("changed since the enrollments: %d hosts, %v; want all 5", len(all), err)
		}
	})
}
