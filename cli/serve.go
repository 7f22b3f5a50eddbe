package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"portpanel/auditlog"
	"portpanel/change"
	"portpanel/change/fault"
	"portpanel/db"
	"portpanel/fleet"
	"portpanel/handlers"
	"portpanel/handlers/throttle"
	"portpanel/sysctl"
	"portpanel/sysctl/netns"
	"portpanel/sysctl/usage"
	"portpanel/web"
	"portpanel/webhook"
)

type serveConfig struct {
	addr, dbPath, sysctlFile, configRoot, procSys, bootReader string
	sampleInterval                                            time.Duration
	secureCookies, requireApproval                            bool
	logFormat, metricsToken, procNet                          string
	retainRaw, retainHourly                                   time.Duration
	riskWarning, riskCritical                                 float64
	sessionIdle, sessionLifetime                              time.Duration
	tlsCert, tlsKey, authHeader                               string
	syslog                                                    string
	trustedProxies                                            proxyList
	webhookAllowPrivate                                       bool
	agentListen                                               string
	debugPprof                                                string
	localHost                                                 localHostFlag
	localHostDir                                              string
}

// serveDurations are the serve flags parsed after the flag set: durations
// whose bounds depend on each other.
type serveDurations struct{ interval, retainRaw, retainHourly *string }

// flagSet defines serve's flags on a new set, with the environment's
// values as defaults; parseServe parses it, and help, completion and the
// man page show it. It returns the set even with an error in the
// environment.
func (c *serveConfig) flagSet(stderr io.Writer) (*flag.FlagSet, serveDurations, func() error, error) {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.addr, "addr", env("PORTPANEL_ADDR", "127.0.0.1:8080"), "listen address (env PORTPANEL_ADDR)")
	fs.StringVar(&c.dbPath, "db", env("PORTPANEL_DB", defaultDB), "SQLite database file, or a postgres:// URL (env PORTPANEL_DB)")
	fs.StringVar(&c.sysctlFile, "sysctl-file", env("PORTPANEL_SYSCTL_FILE", "/etc/sysctl.conf"), "config file portpanel writes the range to (env PORTPANEL_SYSCTL_FILE)")
	fs.StringVar(&c.configRoot, "config-root", env("PORTPANEL_CONFIG_ROOT", "/"), "prefix of the sysctl config locations read for the boot value (env PORTPANEL_CONFIG_ROOT)")
	fs.StringVar(&c.procSys, "proc-sys", env("PORTPANEL_PROC_SYS", "/proc/sys"), "kernel sysctl directory (env PORTPANEL_PROC_SYS)")
	fs.StringVar(&c.bootReader, "boot-reader", env("PORTPANEL_BOOT_READER", "auto"), "what applies sysctl files at boot: auto, systemd or procps (env PORTPANEL_BOOT_READER)")
	interval := fs.String("sample-interval", env("PORTPANEL_SAMPLE_INTERVAL", "30s"), "how often the range and the port usage are sampled (env PORTPANEL_SAMPLE_INTERVAL)")
	retainRaw := fs.String("retain-raw", env("PORTPANEL_RETAIN_RAW", "168h"), "how long raw usage samples are kept (env PORTPANEL_RETAIN_RAW)")
	retainHourly := fs.String("retain-hourly", env("PORTPANEL_RETAIN_HOURLY", "8760h"), "how long hourly usage aggregates are kept (env PORTPANEL_RETAIN_HOURLY)")
	fs.Float64Var(&c.riskWarning, "risk-warning", 70, "exhaustion risk, in percent of capacity, shown as a warning (env PORTPANEL_RISK_WARNING)")
	fs.Float64Var(&c.riskCritical, "risk-critical", 90, "exhaustion risk, in percent of capacity, shown as critical (env PORTPANEL_RISK_CRITICAL)")
	fs.StringVar(&c.metricsToken, "metrics-token", env("PORTPANEL_METRICS_TOKEN", ""), "bearer token that may read /metrics and nothing else (env PORTPANEL_METRICS_TOKEN; prefer the env, a flag shows in ps)")
	fs.StringVar(&c.procNet, "proc-net", env("PORTPANEL_PROC_NET", "/proc/net"), "where /proc/net is, for the socket scan's fallback and totals (env PORTPANEL_PROC_NET)")
	fs.BoolVar(&c.secureCookies, "secure-cookies", env("PORTPANEL_SECURE_COOKIES", "") == "1", "mark the session cookie Secure and name it __Host-portpanel_session: set it behind a TLS-terminating proxy; --tls-cert implies it (env PORTPANEL_SECURE_COOKIES=1)")
	fs.StringVar(&c.logFormat, "log-format", env("PORTPANEL_LOG_FORMAT", "text"), "log line format on stderr: text or json (env PORTPANEL_LOG_FORMAT)")
	fs.BoolVar(&c.requireApproval, "require-approval", env("PORTPANEL_REQUIRE_APPROVAL", "") == "1", "every change needs a second person's approval (role approver or admin) before it is applied (env PORTPANEL_REQUIRE_APPROVAL=1)")
	fs.BoolVar(&c.webhookAllowPrivate, "webhook-allow-private", env("PORTPANEL_WEBHOOK_ALLOW_PRIVATE", "") == "1", "let webhook endpoints be on loopback, link-local or private addresses (env PORTPANEL_WEBHOOK_ALLOW_PRIVATE=1)")
	fs.StringVar(&c.syslog, "syslog", env("PORTPANEL_SYSLOG", ""), "send every audit event to syslog as RFC 5424: unix:///dev/log, tcp://host:514 or udp://host:514 (env PORTPANEL_SYSLOG)")
	fs.StringVar(&c.agentListen, "agent-listen", env("PORTPANEL_AGENT_LISTEN", ""), "serve the agent API (fleet mode) on its own listener: unix:/path/agent.sock, or host:port with --tls-cert's TLS (env PORTPANEL_AGENT_LISTEN)")
	fs.StringVar(&c.debugPprof, "debug-pprof", env("PORTPANEL_DEBUG_PPROF", ""), "serve Go's profiler on this loopback address, for measurements (env PORTPANEL_DEBUG_PPROF)")
	c.addLocalHostFlags(fs)
	checkSecurity, envErr := c.addSecurityFlags(fs)
	d := serveDurations{interval, retainRaw, retainHourly}
	if envErr != nil {
		return fs, d, nil, envErr
	}
	// Numbers from the environment go through the flag's own parser, so a
	// malformed value is refused, not silently replaced by the default.
	for name, key := range map[string]string{"risk-warning": "PORTPANEL_RISK_WARNING", "risk-critical": "PORTPANEL_RISK_CRITICAL"} {
		if v, ok := os.LookupEnv(key); ok {
			if err := fs.Set(name, v); err != nil {
				return fs, d, nil, fmt.Errorf("%s=%q: %w", key, v, err)
			}
		}
	}
	return fs, d, checkSecurity, nil
}

func parseServe(args []string, stderr io.Writer) (serveConfig, error) {
	var c serveConfig
	fs, d, checkSecurity, err := c.flagSet(stderr)
	if err != nil {
		return c, err
	}
	interval, retainRaw, retainHourly := d.interval, d.retainRaw, d.retainHourly
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	if err := checkSecurity(); err != nil {
		return c, err
	}
	if c.sampleInterval, err = time.ParseDuration(*interval); err != nil || c.sampleInterval < time.Second {
		return c, fmt.Errorf("--sample-interval %q: give a duration of at least 1s, such as 60s", *interval)
	}
	if c.retainRaw, err = time.ParseDuration(*retainRaw); err != nil || c.retainRaw < time.Hour {
		return c, fmt.Errorf("--retain-raw %q: give a duration of at least 1h, such as 168h", *retainRaw)
	}
	if c.retainHourly, err = time.ParseDuration(*retainHourly); err != nil || c.retainHourly < c.retainRaw {
		return c, fmt.Errorf("--retain-hourly %q: give a duration at least as long as --retain-raw, such as 8760h", *retainHourly)
	}
	if c.riskWarning <= 0 || c.riskCritical > 100 || c.riskWarning >= c.riskCritical {
		return c, fmt.Errorf("--risk-warning %g and --risk-critical %g: need 0 < warning < critical <= 100 (percent)", c.riskWarning, c.riskCritical)
	}
	if !filepath.IsAbs(c.sysctlFile) {
		return c, fmt.Errorf("--sysctl-file %q must be an absolute path", c.sysctlFile)
	}
	if c.syslog != "" {
		if _, err := auditlog.ParseTarget(c.syslog); err != nil {
			return c, fmt.Errorf("--syslog: %w", err)
		}
	}
	if c.agentListen != "" {
		if _, err := parseAgentListen(c.agentListen); err != nil {
			return c, err
		}
	}
	if c.bootReader != "auto" {
		if _, err := sysctl.ParseReader(c.bootReader); err != nil {
			return c, fmt.Errorf("--boot-reader %q: use auto, systemd or procps", c.bootReader)
		}
	}
	if _, err := c.localHostName(); err != nil {
		return c, err
	}
	return c, nil
}

func serve(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, err := parseServe(args, stderr)
	if err != nil {
		return err
	}
	log, err := newLogger(cfg.logFormat, stderr)
	if err != nil {
		return err
	}
	requests := newBatchWriter(stderr)
	requestLog, _ := newLogger(cfg.logFormat, requests) // the format passed newLogger above
	tlsConf, err := cfg.tlsConfig()
	if err != nil {
		return err
	}
	d, err := db.Open(ctx, cfg.dbPath)
	if err != nil {
		return err
	}
	defer d.Close()
	if d.Dialect() == db.SQLite {
		unlock, err := lockSQLite(cfg.dbPath)
		if err != nil {
			return err
		}
		defer unlock()
	}
	logTightened(log, d.Tightened())
	host, _ := os.Hostname()
	// Before anything is recorded (Recover below audits): every event
	// from now on queues its webhooks in its own transaction.
	var localChanged localReports
	d.SetNotifier(localChanged.wrap(webhook.Notifier(host)))
	hooks := webhook.NewSender(d, webhook.Policy{AllowPrivate: cfg.webhookAllowPrivate})
	hooks.Fault = fault.Point // kills only in a faultinject build (crash tests)
	// On PostgreSQL other replicas may be sending: their claims run out
	// by themselves (2 webhook timeouts).
	if d.Dialect() == db.SQLite {
		if err := d.ReleaseClaims(ctx); err != nil {
			return err
		}
	}
	jobRunner, err := newRunner(d, log)
	if err != nil {
		return err
	}
	syslog, err := startSyslog(ctx, cfg.syslog, d, host)
	if err != nil {
		return err
	}
	defer stopSyslog(syslog, d, jobRunner.holder, log) // after the stop event, before the database closes

	conf := sysctl.Config{Root: cfg.configRoot}
	reader := conf.DetectReader()
	if cfg.bootReader != "auto" {
		reader, _ = sysctl.ParseReader(cfg.bootReader)
	}
	svc := &change.Service{Kernel: sysctl.Kernel{ProcSys: cfg.procSys}, Config: conf, Reader: reader, File: cfg.sysctlFile, DB: d, Now: time.Now,
		RequireApproval: cfg.requireApproval, Sockets: usage.Reader{ProcNet: cfg.procNet}}
	// A start writes the kernel only to finish or undo an apply a crash
	// interrupted (and, below, for deadlines that passed while it was down).
	recovered, err := svc.Recover(ctx)
	if err != nil {
		return fmt.Errorf("recover interrupted changes: %w", err)
	}
	for _, c := range recovered {
		log.Warn("resolved a change interrupted by a crash", "change", c.ID, "status", c.Status, "error", c.Error)
	}
	if _, _, err := svc.Sample(ctx, db.SourceStart); err != nil {
		return err
	}
	// A failed scan must not keep the panel from starting: changing the
	// range is its job, usage is advice.
	if _, err := svc.SampleUsage(ctx); err != nil {
		log.Error("sample port usage", "err", err)
	}

	h := &handlers.Handlers{DB: d, Changes: svc, Sessions: web.NewSessions(d, cfg.sessions()), Log: log, RequestLog: requestLog, Now: time.Now,
		Throttle: throttle.New(throttle.Config{Forget: throttleForget, Store: throttle.DBStore{DB: d}}), MetricsToken: cfg.metricsToken, Risk: handlers.RiskThresholds{Warning: cfg.riskWarning / 100, Critical: cfg.riskCritical / 100}}
	h.Host, h.Webhooks = host, hooks
	h.TrustedProxies, h.AuthHeader = cfg.trustedProxies.prefixes, cfg.authHeader
	h.Syslog = syslog
	h.Netns = ownNetns()
	h.Namespaces = &netns.Monitor{Scanner: netns.Scanner{OwnUsage: svc.LatestUsage}}
	// Like usage, a failed scan is advice lost, not a reason to stop.
	if _, err := h.Namespaces.Refresh(ctx); err != nil {
		log.Error("scan network namespaces", "err", err)
	}
	if h.Setup, err = firstRunToken(ctx, d); err != nil {
		return err
	}
	hub, runHub := wakeHub(d, log)
	fl := &fleet.Service{DB: d, Hub: hub, Now: time.Now, SampleEvery: cfg.sampleInterval}
	h.Fleet = fl
	h.AgentURL = agentURL(cfg.agentListen, tlsConf != nil)
	// Remote changes: the change service sends through the fleet, and
	// each agent's reported results move its changes' rows.
	svc.Fleet, fl.Results = change.FleetService{Fleet: fl}, svc.RecordRemoteResults

	ln, err := net.Listen("tcp", cfg.addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.addr, err)
	}
	if _, err := d.AppendAudit(ctx, db.AuditEvent{Action: "server.start", Detail: fmt.Sprintf("portpanel started on %s, managing %s (boot reader %s)", ln.Addr(), cfg.sysctlFile, reader)}); err != nil {
		return err
	}
	if secret := h.Setup.Secret(); secret != "" {
		// Printed, never logged: it is the only way in until an admin exists.
		fmt.Fprintf(stdout, "No users yet. Create the first admin at %s://%s/setup?token=%s\n", scheme(tlsConf), ln.Addr(), secret)
	}
	if host, _, _ := net.SplitHostPort(ln.Addr().String()); tlsConf == nil && !net.ParseIP(host).IsLoopback() {
		log.Warn("listening on a non-loopback address without TLS: passwords and session cookies cross the network in clear text; put a TLS proxy in front", "addr", ln.Addr().String())
	}
	if len(h.TrustedProxies) > 0 && !cfg.sessions().Secure {
		log.Warn("--trusted-proxy without --secure-cookies: if the proxy serves HTTPS, set --secure-cookies so the session cookie never travels over plain HTTP")
	}
	log.Info("portpanel listening", "addr", ln.Addr().String(), "db", db.Describe(cfg.dbPath), "sysctl_file", cfg.sysctlFile, "boot_reader", reader, "tls", tlsConf != nil)
	tuneGC()
	if err := startDebugPprof(ctx, cfg.debugPprof, log); err != nil {
		return err
	}
	var agents *agentServer
	if cfg.agentListen != "" {
		a, _ := parseAgentListen(cfg.agentListen) // checked by parseServe
		aln, err := a.listen()
		if err != nil {
			return err
		}
		agentWarnings(log, aln, tlsConf)
		agents = startAgentServer(aln, fl, log, tlsConf)
		log.Info("agent API listening", "addr", aln.Addr().String(), "tls", tlsConf != nil && a.network == "tcp")
	}

	// Background work stops with ctx, and shutdown waits for it, so the
	// stop event is the last thing written.
	bg, stopBG := context.WithCancel(ctx)
	var wg sync.WaitGroup
	jobRunner.start(bg, &wg, append(jobs(cfg, svc, d, hooks, log, requests.Flush), syslogJobs(syslog, d)...)...)
	jobRunner.start(bg, &wg, namespaceScan(cfg, h.Namespaces))
	jobRunner.start(bg, &wg, fleetJobs(cfg, fl, d)...)
	wg.Go(func() { runHub(bg) })
	if name, _ := cfg.localHostName(); name != "" { // checked by parseServe
		local, err := startLocalHost(ctx, cfg, name, svc, fl, log)
		if err != nil && ctx.Err() == nil { // an error because serve is stopping: shut down below
			stopBG()
			wg.Wait()
			return err
		}
		if local != nil && err == nil {
			localChanged.set(local.ReportSoon)
			wg.Go(func() { local.RunReports(bg) })
		}
	}
	// Requests may still be logged until the server has shut down.
	defer requests.Flush()
	defer func() { stopBG(); wg.Wait() }()
	srv := &http.Server{Handler: web.New(h), ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelError), ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second, WriteTimeout: 60 * time.Second, IdleTimeout: 2 * time.Minute, TLSConfig: tlsConf}
	errc := make(chan error, 1)
	go func() {
		if tlsConf != nil {
			errc <- srv.ServeTLS(ln, "", "") // the certificate is in TLSConfig
			return
		}
		errc <- srv.Serve(ln)
	}()
	var agentErrc chan error
	if agents != nil {
		agentErrc = agents.errc
	}
	select {
	case err := <-errc:
		return err
	case err := <-agentErrc:
		return fmt.Errorf("agent API: %w", err)
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	// Long polls are cut after 2 s rather than waited for: their agents
	// poll again.
	agentsDown, cancelAgents := context.WithTimeout(shutdown, 2*time.Second)
	defer cancelAgents()
	if err := agents.shutdown(agentsDown); err != nil {
		log.Error("stop the agent API", "err", err)
	}
	if err := srv.Shutdown(shutdown); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	stopBG()
	wg.Wait()
	_, err = d.AppendAudit(shutdown, db.AuditEvent{Action: "server.stop", Detail: "portpanel stopped"})
	return err
}

// firstRunToken returns a live setup token when no user exists yet.
func firstRunToken(ctx context.Context, d *db.DB) (*handlers.SetupToken, error) {
	n, err := d.CountUsers(ctx)
	if err != nil || n > 0 {
		return &handlers.SetupToken{}, err
	}
	return handlers.NewSetupToken()
}

// ownNetns names the network namespace portpanel runs in when it is not
// the host's (the range is per namespace, so the page must say which).
func ownNetns() string {
	ino, initial, err := netns.Scanner{}.Own()
	if err != nil || initial {
		return ""
	}
	return netns.ID(ino)
}

// logTightened says, in one line, which database files others could read
// until Open made them private: the administrator may want to know who
// had a copy.
func logTightened(log *slog.Logger, files []db.Tightened) {
	if len(files) == 0 {
		return
	}
	var what []string
	for _, f := range files {
		what = append(what, fmt.Sprintf("%s %04o->%04o", f.Path, f.From, f.To))
	}
	log.Warn("made the database files private: group or others could read them", "files", strings.Join(what, ", "))
}
