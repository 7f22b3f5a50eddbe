package cli

import (
	"context"
	"crypto/ed25519"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	"portpanel/agent"
	"portpanel/agentapi"
	"portpanel/change"
	"portpanel/db"
	"portpanel/fleet"
	"portpanel/handlers"
)

// The local host (README, "The local host"): in fleet mode the panel's
// own machine is a host of the fleet like the others, enrolled by the
// panel itself and reported by an agent inside its process whose
// pipeline is the panel's change.Service. There is one apply path: a
// change to the local host, from the dashboard or from POST
// /api/v1/hosts/NAME/changes, is applied by that Service once
// (change.Service.LocalHost); the agent only reports.

// localHostGroup is the group the local host enrolls in.
const localHostGroup = "local"

// localHostFlag is --local-host: unset means "the hostname, in fleet
// mode"; set to "" it turns the local host off, set to a name it turns
// it on under that name (also without --agent-listen).
type localHostFlag struct {
	name string
	set  bool
}

func (f *localHostFlag) String() string { return f.name }
func (f *localHostFlag) Set(s string) error {
	f.name, f.set = s, true
	return nil
}

func (c *serveConfig) addLocalHostFlags(fs *flag.FlagSet) {
	if v, ok := os.LookupEnv("PORTPANEL_LOCAL_HOST"); ok {
		c.localHost = localHostFlag{name: v, set: true}
	}
	fs.Var(&c.localHost, "local-host", "enroll this panel's own host in its fleet under this name, reported by an agent inside serve (default: the hostname with --agent-listen on a SQLite --db, none on PostgreSQL; \"\" none, as where a portpanel agent of its own manages this machine) (env PORTPANEL_LOCAL_HOST)")
	fs.StringVar(&c.localHostDir, "local-host-dir", env("PORTPANEL_LOCAL_HOST_DIR", ""), "where the local host's key and enrollment are kept, mode 0700 (default: local-host beside a SQLite --db, else /var/lib/portpanel/local-host) (env PORTPANEL_LOCAL_HOST_DIR)")
}

// localHostName is the name the local host enrolls under, "" for none.
func (c serveConfig) localHostName() (string, error) {
	if c.localHost.set {
		if c.localHost.name != "" {
			if err := fleet.CheckName(c.localHost.name); err != nil {
				return "", fmt.Errorf("--local-host: %w", err)
			}
		}
		return c.localHost.name, nil
	}
	// Off by default without an agent listener (no fleet), and on
	// PostgreSQL, where replicas share the database: each replica's
	// machine is better managed by a `portpanel agent` of its own than
	// enrolled by whichever replica runs there (README, "The local host").
	if c.agentListen == "" || db.IsPostgresURL(c.dbPath) {
		return "", nil
	}
	name, err := os.Hostname()
	if err == nil {
		err = fleet.CheckName(name)
	}
	if err != nil {
		return "", fmt.Errorf("name the local host with --local-host NAME (or turn it off with --local-host ''): the hostname will not do: %w", err)
	}
	return name, nil
}

func (c serveConfig) localHostState() string {
	if c.localHostDir != "" {
		return c.localHostDir
	}
	base := filepath.Dir(defaultDB)
	if !db.IsPostgresURL(c.dbPath) {
		base = filepath.Dir(c.dbPath)
	}
	return filepath.Join(base, "local-host")
}

// startLocalHost enrolls the local host if it is not enrolled with its
// key yet (an internal one-time token, made and spent at once, both
// audited), and makes svc apply the local host's remote changes. The
// caller runs its reports (RunReports). A local host that cannot be
// enrolled (another agent holds the name, an admin revoked it) leaves
// the panel running without it: the reason is logged and nil returned.
func startLocalHost(ctx context.Context, cfg serveConfig, name string, svc *change.Service, fl *fleet.Service, log *slog.Logger) (*agent.Agent, error) {
	api := &handlers.AgentAPI{Fleet: fl, Log: log}
	a, err := agent.NewInProcess(agent.Config{Name: name, StateDir: cfg.localHostState(), Log: log.With("local_host", name),
		Poll: time.Duration(fl.Poll()) * time.Second}, svc, inProcess{api.Echo()})
	if err != nil {
		return nil, fmt.Errorf("local host %s: %w", name, err)
	}
	need, err := needsEnrollment(ctx, cfg.localHostState(), name, fl.DB)
	if errors.Is(err, errLocalRevoked) {
		log.Error("the local host is not part of the fleet", "local_host", name, "err", err)
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("local host %s: %w", name, err)
	}
	var token db.EnrollmentToken
	if need {
		secret, t, err := fl.CreateEnrollment(ctx, "portpanel serve", localHostGroup, time.Minute)
		if err != nil {
			return nil, fmt.Errorf("local host %s: make its enrollment token: %w", name, err)
		}
		a.SetEnrollToken(secret)
		token = t
	}
	if err := a.Enroll(ctx); err != nil {
		if token.ID != 0 {
			// Unspent: nobody else may use it.
			if _, rerr := fl.RevokeEnrollment(ctx, "portpanel serve", token.ID); rerr != nil {
				log.Error("revoke the local host's unused enrollment token", "token", token.ID, "err", rerr)
			}
		}
		log.Error("the local host is not part of the fleet: give it another name with --local-host NAME, or none with --local-host ''", "local_host", name, "err", err)
		return nil, nil
	}
	svc.LocalHost = name
	log.Info("local host in the fleet", "local_host", name, "enrolled_now", need)
	return a, nil
}

// errLocalRevoked: an admin revoked the local host.
var errLocalRevoked = errors.New("revoked")

// needsEnrollment reports whether the local host must enroll: not when
// its state directory holds an enrollment under name and the control
// plane knows name with this key, so a restart enrolls nothing.
func needsEnrollment(ctx context.Context, dir, name string, d *db.DB) (bool, error) {
	st, err := agent.OpenState(dir)
	if err != nil {
		return false, err
	}
	e, ok, err := st.Enrollment()
	if err != nil || !ok || e.Name != name {
		return true, err
	}
	key, err := st.Key()
	if err != nil {
		return false, err
	}
	h, err := d.HostByName(ctx, name)
	if errors.Is(err, db.ErrNotFound) {
		return true, nil // another database than the one it enrolled in
	}
	if err != nil {
		return false, fmt.Errorf("load host %s: %w", name, err)
	}
	if h.RevokedAt != nil {
		// Revoked by an admin: coming back takes a decision, not a restart.
		return false, fmt.Errorf("host %s was %w at %s; it stays out of the fleet until you remove %s (a new key and enrollment are made at the next start)",
			name, errLocalRevoked, h.RevokedAt.Format(time.RFC3339), dir)
	}
	pub := agentapi.EncodePublicKey(key.Public().(ed25519.PublicKey))
	return h.PublicKey != pub && h.PrevPublicKey != pub, nil
}

// inProcess is the in-process agent's transport: it hands each request
// to the agent API's handler, the one --agent-listen serves, so the local
// host is authenticated, rate-limited and recorded as any agent is.
type inProcess struct{ h http.Handler }

func (t inProcess) RoundTrip(req *http.Request) (*http.Response, error) {
	r := req.Clone(req.Context())
	r.RemoteAddr = handlers.InProcessAddr
	r.RequestURI = r.URL.RequestURI()
	if r.Body == nil {
		r.Body = http.NoBody
	}
	// httptest's recorder is the standard library's in-memory
	// ResponseWriter, and Result the response a client would have read.
	w := httptest.NewRecorder()
	t.h.ServeHTTP(w, r)
	if req.Body != nil {
		req.Body.Close()
	}
	resp := w.Result()
	resp.Request = req
	return resp, nil
}

// localReports asks the local host's agent for a report whenever a
// transaction records a local change (any step of it: applied, reverted,
// confirmed...), so the Hosts page shows what the dashboard did without
// waiting a poll interval. It rides on the database's notifier, the one
// hook every change of every path passes; it only signals, so it stays
// as quick as a notifier must be.
type localReports struct{ soon atomic.Pointer[func()] }

func (l *localReports) set(f func()) { l.soon.Store(&f) }

func (l *localReports) wrap(next db.Notifier) db.Notifier {
	return func(r db.Recorded) []db.Notice {
		if f := l.soon.Load(); f != nil {
			for _, c := range r.Changes {
				if c.Host == "" {
					(*f)()
					break
				}
			}
		}
		return next(r)
	}
}
