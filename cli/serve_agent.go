package cli

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"portpanel/agentapi"
	"portpanel/db"
	"portpanel/fleet"
	"portpanel/handlers"
)

// --agent-listen: the agent API's own listener. Agents never reach the
// panel's listener, nor users this one (README, "Many hosts").

// agentAddr is a parsed --agent-listen: a Unix socket path or a TCP address.
type agentAddr struct {
	network, addr string
}

func parseAgentListen(s string) (agentAddr, error) {
	if path, ok := strings.CutPrefix(s, "unix:"); ok {
		path = strings.TrimPrefix(path, "//") // unix:///run/x.sock as well as unix:/run/x.sock
		if !strings.HasPrefix(path, "/") {
			return agentAddr{}, fmt.Errorf("--agent-listen %q: give an absolute socket path, such as unix:/run/portpanel/agent.sock", s)
		}
		return agentAddr{"unix", path}, nil
	}
	if _, _, err := net.SplitHostPort(s); err != nil {
		return agentAddr{}, fmt.Errorf("--agent-listen %q: give unix:/path/agent.sock or host:port", s)
	}
	return agentAddr{"tcp", s}, nil
}

// listen opens the listener. A socket file left by a previous run is
// removed first (only a socket: never a file someone pointed us at), and
// the new one is made 0660: agents authenticate by signature, the mode
// only keeps other local users from filling its queue.
func (a agentAddr) listen() (net.Listener, error) {
	if a.network == "unix" {
		if fi, err := os.Lstat(a.addr); err == nil && fi.Mode().Type() == fs.ModeSocket {
			if err := os.Remove(a.addr); err != nil {
				return nil, fmt.Errorf("remove the stale agent socket %s: %w", a.addr, err)
			}
		}
	}
	ln, err := net.Listen(a.network, a.addr)
	if err != nil {
		return nil, fmt.Errorf("listen for agents on %s: %w", a.addr, err)
	}
	if a.network == "unix" {
		if err := os.Chmod(a.addr, 0o660); err != nil {
			ln.Close()
			return nil, fmt.Errorf("set the mode of the agent socket %s: %w", a.addr, err)
		}
	}
	return ln, nil
}

// agentServer serves the agent API on ln until shut down. TCP listeners
// use serve's TLS configuration when it has one.
type agentServer struct {
	srv  *http.Server
	ln   net.Listener
	errc chan error
}

func startAgentServer(ln net.Listener, fl *fleet.Service, log *slog.Logger, tlsConf *tls.Config) *agentServer {
	api := &handlers.AgentAPI{Fleet: fl, Log: log}
	srv := &http.Server{Handler: api.Echo(), ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelError),
		ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second,
		// A long poll holds its answer up to agentapi.MaxWait.
		WriteTimeout: agentapi.MaxWait + 30*time.Second, IdleTimeout: 2 * time.Minute}
	s := &agentServer{srv: srv, ln: ln, errc: make(chan error, 1)}
	useTLS := tlsConf != nil && ln.Addr().Network() == "tcp"
	if useTLS {
		// A copy: ServeTLS sets NextProtos on the config it is given,
		// and the panel's server serves the same one at the same time.
		srv.TLSConfig = tlsConf.Clone()
	}
	go func() {
		var err error
		if useTLS {
			err = srv.ServeTLS(ln, "", "")
		} else {
			err = srv.Serve(ln)
		}
		if errors.Is(err, http.ErrServerClosed) {
			err = nil
		}
		s.errc <- err
	}()
	return s
}

// shutdown stops the server; long polls still held are cut when ctx ends
// (their agents poll again, elsewhere or after the restart).
func (s *agentServer) shutdown(ctx context.Context) error {
	if s == nil {
		return nil
	}
	err := s.srv.Shutdown(ctx)
	if errors.Is(err, context.DeadlineExceeded) {
		err = s.srv.Close()
	}
	if s.ln.Addr().Network() == "unix" {
		os.Remove(s.ln.Addr().String())
	}
	return err
}

// agentWarnings says what an operator should know of the listener.
func agentWarnings(log *slog.Logger, ln net.Listener, tlsConf *tls.Config) {
	if ln.Addr().Network() != "tcp" || tlsConf != nil {
		return
	}
	if host, _, _ := net.SplitHostPort(ln.Addr().String()); !net.ParseIP(host).IsLoopback() {
		log.Warn("agent API on a non-loopback address without TLS: signatures keep requests authentic, but reports cross the network in clear text; give --tls-cert", "addr", ln.Addr().String())
	}
}

// fleetJobs are the fleet's background loops: forgetting what may be
// forgotten (nonces past their timestamp window, previews nobody waits
// for, host samples past --retain-raw), once across replicas.
func fleetJobs(cfg serveConfig, fl *fleet.Service, d *db.DB) []loop {
	return []loop{
		{name: "forget old agent nonces and previews", first: time.Minute, every: time.Minute, once: true, run: func(ctx context.Context) error {
			now := fl.Now()
			_, err := d.PruneNonces(ctx, now.Add(-2*agentapi.MaxClockSkew))
			_, perr := d.PrunePreviews(ctx, now.Add(-10*fleet.PreviewWait))
			return errors.Join(err, perr)
		}},
		{name: "prune host history", first: time.Hour, every: time.Hour, once: true, run: func(ctx context.Context) error {
			_, err := d.PruneHostSamples(ctx, fl.Now().Add(-cfg.retainRaw))
			return err
		}},
	}
}
