package auditlog

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"portpanel/auth"
	"portpanel/db"
	"portpanel/db/dbtest"
	"portpanel/internal/testtool"
)

// rsyslogConf writes what arrives from app portpanel to out, one JSON
// object a line. mmpstrucdata is rsyslog's own parser of RFC 5424
// structured data, so the test reads the events as a collector would.
// The helper's readiness probes go to a file of their own. Nothing but
// the two loopback inputs is loaded (no imuxsock: this host's
// /dev/log is left alone).
const rsyslogConf = `global(workDirectory=%[1]q maxMessageSize="64k")
module(load="imtcp")
module(load="imudp")
module(load="mmpstrucdata")
input(type="imtcp" address="127.0.0.1" port="0" listenPortFileName=%[2]q)
input(type="imudp" address="127.0.0.1" port=%[3]q)
template(name="events" type="list") {
	constant(value="{\"pri\":\"") property(name="pri") constant(value="\",\"host\":\"") property(name="hostname" format="json")
	constant(value="\",\"app\":\"") property(name="app-name" format="json") constant(value="\",\"msgid\":\"") property(name="msgid" format="json")
	constant(value="\",\"time\":\"") property(name="timereported" dateFormat="rfc3339")
	constant(value="\",\"msg\":\"") property(name="msg" format="json") constant(value="\",\"sd\":") property(name="$!rfc5424-sd")
	constant(value="}\n")
}
if $app-name == "probe" then action(type="omfile" file=%[5]q)
if $app-name == "portpanel" then {
	action(type="mmpstrucdata")
	action(type="omfile" file=%[4]q template="events")
}
`

// rsyslogd runs a real rsyslogd (Debian's rsyslog) in the foreground with
// its own config, pid file and work directory, listening on loopback
// only, and returns its TCP and UDP targets and the file it writes. It is
// killed when the test ends.
func rsyslogd(t *testing.T) (tcp, udp Target, out string) {
	t.Helper()
	bin := testtool.Path(t, "rsyslogd", "rsyslog", "/usr/sbin")
	dir := t.TempDir()
	portFile, out, probes := filepath.Join(dir, "tcp.port"), filepath.Join(dir, "events.jsonl"), filepath.Join(dir, "probes")
	// imudp has no port file: take a free port and hand it over.
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	udpPort := strconv.Itoa(pc.LocalAddr().(*net.UDPAddr).Port)
	pc.Close()
	conf := filepath.Join(dir, "rsyslog.conf")
	if err := os.WriteFile(conf, fmt.Appendf(nil, rsyslogConf, dir, portFile, udpPort, out, probes), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-n", "-f", conf, "-i", filepath.Join(dir, "rsyslogd.pid"))
	var logs strings.Builder
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		if t.Failed() {
			t.Logf("rsyslogd's output:\n%s", logs.String())
		}
	})
	deadline := time.Now().Add(10 * time.Second)
	for {
		b, err := os.ReadFile(portFile)
		if port := strings.TrimSpace(string(b)); err == nil && port != "" && port != "0" {
			tcp = Target{Network: "tcp", Addr: "127.0.0.1:" + port, Facility: 10, Queue: 100}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("rsyslogd wrote no TCP port in 10s:\n%s", logs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	// A datagram sent before imudp reads the port is lost: probe until
	// one arrives.
	udp = Target{Network: "udp", Addr: "127.0.0.1:" + udpPort, Facility: 10, Queue: 100}
	probe, err := net.Dial("udp", udp.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer probe.Close()
	for {
		probe.Write([]byte("<13>1 - - probe - - - ready?"))
		if fi, err := os.Stat(probes); err == nil && fi.Size() > 0 {
			return tcp, udp, out
		}
		if time.Now().After(deadline) {
			t.Fatalf("rsyslogd received no UDP probe in 10s:\n%s", logs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// received is one line of rsyslogd's output file.
type received struct {
	Pri, Host, App, MsgID, Time, Msg string
	SD                               map[string]map[string]string
}

// readReceived waits until path holds n lines and parses them.
func readReceived(t *testing.T, path string, n int) []received {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		b, _ := os.ReadFile(path)
		if lines := strings.Count(string(b), "\n"); lines >= n || time.Now().After(deadline) {
			var out []received
			sc := bufio.NewScanner(strings.NewReader(string(b)))
			for sc.Scan() {
				var r received
				if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
					t.Fatalf("rsyslogd wrote a line that is not the template's JSON: %v\n%s", err, sc.Text())
				}
				out = append(out, r)
			}
			if len(out) != n {
				t.Fatalf("rsyslogd wrote %d events, want %d:\n%s", len(out), n, b)
			}
			return out
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestRsyslogReceivesAndParsesEvents sends audit events, a hostile user
// name among them, to a real rsyslogd over TCP (octet counting) and UDP,
// and reads them back as rsyslog parsed them.
func TestRsyslogReceivesAndParsesEvents(t *testing.T) {
	for _, network := range []string{"tcp", "udp"} {
		t.Run(network, func(t *testing.T) {
			tcp, udp, out := rsyslogd(t)
			target := tcp
			if network == "udp" {
				target = udp
			}
			d := dbtest.Open(t)
			hostile := `eve "]\ [x@1 a="b"]`
			if _, err := d.CreateUser(t.Context(), hostile, auth.RoleOperator, "h", func(u db.User) db.AuditEvent {
				return db.AuditEvent{User: "admin", Action: "user.created", Detail: "user " + u.Name + " created"}
			}); err != nil {
				t.Fatal(err)
			}
			f := newForwarder(t, d, target)
			c := recordChange(t, d, hostile)
			if _, err := d.AppendAudit(t.Context(), db.AuditEvent{Action: "login.failed", Detail: "failed sign-in as \"root\" from 192.0.2.1\nsecond line é"}); err != nil {
				t.Fatal(err)
			}
			poll(t, f)

			got := readReceived(t, out, 2)
			change, login := got[0], got[1]
			sd := change.SD[SDID]
			if change.App != "portpanel" || change.MsgID != "change.applied" || change.Host != "testhost" || change.Pri != "85" ||
				sd["event"] != "change.applied" || sd["actor"] != hostile || sd["change_id"] != strconv.FormatInt(c.ID, 10) ||
				sd["before"] != "32768 60999" || sd["after"] != "40000 50001" || sd["result"] != "success" || sd["id"] != "2" || len(sd["hash"]) != 64 {
				t.Errorf("the change event as rsyslog parsed it: %+v", change)
			}
			if _, err := time.Parse(time.RFC3339, change.Time); err != nil {
				t.Errorf("timereported %q: %v", change.Time, err)
			}
			if msg := strings.TrimPrefix(change.Msg, "\uFEFF"); msg != "32768 60999 → 40000 50001" {
				t.Errorf("the change event's MSG = %q", change.Msg)
			}
			sd = login.SD[SDID]
			if login.Pri != "84" || sd["event"] != "login.failed" || sd["actor"] != "" || sd["result"] != "failure" || sd["change_id"] != "" {
				t.Errorf("the failed sign-in as rsyslog parsed it: %+v", login)
			}
			// rsyslog writes a line break in MSG as #012.
			if msg := strings.TrimPrefix(login.Msg, "\uFEFF"); msg != "failed sign-in as \"root\" from 192.0.2.1#012second line é" {
				t.Errorf("the failed sign-in's MSG = %q", login.Msg)
			}
			if len(change.SD) != 1 || len(login.SD) != 1 {
				t.Errorf("structured data with other elements than %s: %v, %v", SDID, change.SD, login.SD)
			}
		})
	}
}
