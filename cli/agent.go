package cli

import (
	"context"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"portpanel/agent"
	"portpanel/sysctl"
)

// agentConfig is `portpanel agent`'s flags, each with its environment
// twin. The flags that locate the host's files are serve's, with serve's
// variables, so one /etc/default file can serve both.
type agentConfig struct {
	cfg       agent.Config
	servers   string
	rotate    string
	logFormat string
}

func (c *agentConfig) flagSet(stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("agent", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.servers, "server", env("PORTPANEL_AGENT_SERVER", ""), "the control plane's agent listener: https://HOST:PORT or unix:///PATH/agent.sock; several, comma-separated, are tried in turn (env PORTPANEL_AGENT_SERVER)")
	fs.StringVar(&c.cfg.CAFile, "ca-file", env("PORTPANEL_CA_FILE", ""), "PEM file of the CA that signed the control plane's certificate (env PORTPANEL_CA_FILE)")
	fs.StringVar(&c.cfg.EnrollToken, "enroll-token", env("PORTPANEL_ENROLL_TOKEN", ""), "one-time enrollment token, needed only to enroll or to come back after a revocation (env PORTPANEL_ENROLL_TOKEN; prefer the env, a flag shows in ps)")
	fs.StringVar(&c.cfg.StateDir, "state-dir", env("PORTPANEL_STATE_DIR", "/var/lib/portpanel-agent"), "the agent's key, enrollment and journal, mode 0700 (env PORTPANEL_STATE_DIR)")
	fs.StringVar(&c.cfg.Name, "name", env("PORTPANEL_AGENT_NAME", ""), "the host name to enroll as (default: the hostname) (env PORTPANEL_AGENT_NAME)")
	fs.BoolVar(&c.cfg.ObserveOnly, "observe-only", env("PORTPANEL_OBSERVE_ONLY", "") == "1", "report, but refuse every change the control plane sends (env PORTPANEL_OBSERVE_ONLY=1)")
	fs.StringVar(&c.cfg.SysctlFile, "sysctl-file", env("PORTPANEL_SYSCTL_FILE", "/etc/sysctl.conf"), "config file the agent writes the range to (env PORTPANEL_SYSCTL_FILE)")
	fs.StringVar(&c.cfg.ConfigRoot, "config-root", env("PORTPANEL_CONFIG_ROOT", "/"), "prefix of the sysctl config locations read for the boot value (env PORTPANEL_CONFIG_ROOT)")
	fs.StringVar(&c.cfg.ProcSys, "proc-sys", env("PORTPANEL_PROC_SYS", "/proc/sys"), "kernel sysctl directory (env PORTPANEL_PROC_SYS)")
	fs.StringVar(&c.cfg.ProcNet, "proc-net", env("PORTPANEL_PROC_NET", "/proc/net"), "where /proc/net is, for the socket scan's fallback and totals (env PORTPANEL_PROC_NET)")
	fs.StringVar(&c.cfg.BootReader, "boot-reader", env("PORTPANEL_BOOT_READER", "auto"), "what applies sysctl files at boot: auto, systemd or procps (env PORTPANEL_BOOT_READER)")
	fs.StringVar(&c.rotate, "rotate-key-every", env("PORTPANEL_ROTATE_KEY_EVERY", "720h"), "replace the host key when it is this old, without downtime; 0 never (env PORTPANEL_ROTATE_KEY_EVERY)")
	fs.StringVar(&c.logFormat, "log-format", env("PORTPANEL_LOG_FORMAT", "text"), "log line format on stderr: text or json (env PORTPANEL_LOG_FORMAT)")
	return fs
}

func parseAgent(args []string, stderr io.Writer) (agentConfig, error) {
	var c agentConfig
	fs := c.flagSet(stderr)
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, usageError{fmt.Sprintf("unexpected arguments: %v", fs.Args())}
	}
	for _, s := range strings.Split(c.servers, ",") {
		if s = strings.TrimSpace(s); s != "" {
			c.cfg.Servers = append(c.cfg.Servers, s)
		}
	}
	if len(c.cfg.Servers) == 0 {
		return c, usageError{"--server is required: the control plane's agent listener (https://HOST:PORT or unix:///PATH/agent.sock)"}
	}
	var err error
	if c.cfg.RotateEvery, err = time.ParseDuration(c.rotate); err != nil || (c.cfg.RotateEvery != 0 && c.cfg.RotateEvery < time.Minute) {
		return c, usageError{fmt.Sprintf("--rotate-key-every %q: give 0 (never) or a duration of at least 1m, such as 720h", c.rotate)}
	}
	if !filepath.IsAbs(c.cfg.SysctlFile) {
		return c, usageError{fmt.Sprintf("--sysctl-file %q must be an absolute path", c.cfg.SysctlFile)}
	}
	if c.cfg.BootReader != "auto" {
		if _, err := sysctl.ParseReader(c.cfg.BootReader); err != nil {
			return c, usageError{fmt.Sprintf("--boot-reader %q: use auto, systemd or procps", c.cfg.BootReader)}
		}
	}
	return c, nil
}

// runAgent is `portpanel agent`: it runs until ctx ends (SIGTERM).
func runAgent(ctx context.Context, args []string, _, stderr io.Writer) error {
	c, err := parseAgent(args, stderr)
	if err != nil {
		return err
	}
	log, err := newLogger(c.logFormat, stderr)
	if err != nil {
		return err
	}
	c.cfg.Log = log
	a, err := agent.New(ctx, c.cfg)
	if err != nil {
		return err
	}
	defer a.Close()
	log.Info("portpanel agent starting", "servers", strings.Join(c.cfg.Servers, ","), "state_dir", c.cfg.StateDir,
		"sysctl_file", c.cfg.SysctlFile, "observe_only", c.cfg.ObserveOnly, "version", agent.Version)
	return a.Run(ctx)
}

func agentCommand() *cobra.Command {
	fs := (&agentConfig{}).flagSet(io.Discard)
	return adminCommand("agent --server URL[,URL...] [--enroll-token TOKEN] --state-dir DIR [--name NAME] [--observe-only]",
		"run the agent of a managed host: pull its desired state, apply, report",
		"  PORTPANEL_ENROLL_TOKEN=... portpanel agent --server unix:///run/portpanel/agent.sock --state-dir /var/lib/portpanel-agent",
		fs, func(ctx context.Context, a []string, _ io.Reader, o, e io.Writer) error {
			return runAgent(ctx, a, o, e)
		})
}
