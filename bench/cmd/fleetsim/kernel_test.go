package main

import (
	"testing"
	"time"

	"portpanel/agentapi"
)

func set(v string) *agentapi.DesiredChange {
	return &agentapi.DesiredChange{Operation: agentapi.OpSet, Keys: map[string]string{agentapi.KeyRange: v}}
}

func TestKernelApply(t *testing.T) {
	cases := []struct {
		name    string
		change  *agentapi.DesiredChange
		want    agentapi.Range
		refused bool
	}{
		{"a range", set("40000 50001"), agentapi.Range{Low: 40000, High: 50001}, false},
		{"tabs", set("40000\t50001"), agentapi.Range{Low: 40000, High: 50001}, false},
		{"low above high", set("50001 40000"), agentapi.Range{Low: 32768, High: 60999}, true},
		{"below the unprivileged start", set("80 50001"), agentapi.Range{Low: 32768, High: 60999}, true},
		{"another key", &agentapi.DesiredChange{Operation: agentapi.OpSet, Keys: map[string]string{"kernel.pid_max": "1"}}, agentapi.Range{Low: 32768, High: 60999}, true},
		{"an unknown operation", &agentapi.DesiredChange{Operation: "exec"}, agentapi.Range{Low: 32768, High: 60999}, true},
		{"rollback of nothing", &agentapi.DesiredChange{Operation: agentapi.OpRollback, RollbackOf: 9}, agentapi.Range{Low: 32768, High: 60999}, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			k := newKernel()
			_, err := k.apply(1, c.change, nil)
			if (err != nil) != c.refused || k.runtime != c.want || k.boot != c.want {
				t.Fatalf("err %v, runtime %v boot %v; want refused %v, %v", err, k.runtime, k.boot, c.refused, c.want)
			}
		})
	}
}

func TestKernelRollback(t *testing.T) {
	k := newKernel()
	if _, err := k.apply(1, set("40000 50001"), nil); err != nil {
		t.Fatal(err)
	}
	if _, err := k.apply(2, set("41000 50001"), nil); err != nil {
		t.Fatal(err)
	}
	if _, err := k.apply(3, &agentapi.DesiredChange{Operation: agentapi.OpRollback, RollbackOf: 2}, nil); err != nil {
		t.Fatal(err)
	}
	if want := (agentapi.Range{Low: 40000, High: 50001}); k.runtime != want {
		t.Fatalf("after rolling back generation 2: %v, want %v", k.runtime, want)
	}
}

func TestKernelConfirmWindow(t *testing.T) {
	for _, confirm := range []bool{false, true} {
		k := newKernel()
		reverted := make(chan int64, 1)
		c := set("40000 50001")
		c.ConfirmWithin = 1
		res, err := k.apply(7, c, func(g int64) { reverted <- g })
		if err != nil || res.State != agentapi.ResultUnconfirmed || res.Deadline.IsZero() {
			t.Fatalf("apply: %+v, %v", res, err)
		}
		if confirm && !k.confirm(7) {
			t.Fatal("confirm found no timer")
		}
		select {
		case g := <-reverted:
			if confirm || g != 7 {
				t.Fatalf("reverted generation %d (confirmed: %v)", g, confirm)
			}
			if k.runtime != (agentapi.Range{Low: 32768, High: 60999}) {
				t.Fatalf("after the revert: %v", k.runtime)
			}
		case <-time.After(1500 * time.Millisecond):
			if !confirm {
				t.Fatal("not reverted after its window")
			}
		}
	}
}
