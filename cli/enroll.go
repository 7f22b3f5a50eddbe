package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"portpanel/db"
	"portpanel/fleet"
)

// The enroll commands manage one-time enrollment tokens. Each works on
// the database directly (--db, as root on the panel's host, like the
// token commands), or through the API when --server or PORTPANEL_URL
// names a panel: then an admin's API token is needed, and the panel's
// roles and audit apply as on the page.

// enrollOpts are an enroll command's flags: the client's and --db.
type enrollOpts struct {
	clientOpts
	db string
}

// viaAPI reports whether the command goes through the API: when the
// panel is named and the database is not.
func (o *enrollOpts) viaAPI(cmd *cobra.Command) bool {
	if cmd.Flags().Changed("db") {
		return false
	}
	_, named := os.LookupEnv("PORTPANEL_URL")
	return cmd.Flags().Changed("server") || named
}

// enrollCommand builds an enroll subcommand: run gets the store to use,
// the database or the API.
func enrollCommand(spec *cobra.Command, verb string, run func(ctx context.Context, s enrollStore, t *term, args []string) error) *cobra.Command {
	o := &enrollOpts{}
	addClientFlags(spec, &o.clientOpts)
	spec.Flags().StringVar(&o.db, "db", env("PORTPANEL_DB", defaultDB), "SQLite database file, or a postgres:// URL (env PORTPANEL_DB); without --server")
	spec.RunE = func(cmd *cobra.Command, args []string) error {
		t := newTerm(cmd, &o.clientOpts)
		ctx := cmd.Context()
		if o.viaAPI(cmd) {
			c, err := o.newClient(t.errw)
			if err != nil {
				return err
			}
			c.verb = verb
			return run(ctx, apiEnrollStore{c}, t, args)
		}
		if o.output != "text" && o.output != "json" {
			return commandUsage{fmt.Sprintf("--output %q: use text or json", o.output)}
		}
		d, err := db.Open(ctx, o.db)
		if err != nil {
			return err
		}
		defer d.Close()
		return run(ctx, dbEnrollStore{&fleet.Service{DB: d}}, t, args)
	}
	return spec
}

func enrollCommands() *cobra.Command {
	var group, ttl string
	create := enrollCommand(&cobra.Command{
		Use:   "create --group NAME [--ttl 1h]",
		Short: "make a one-time enrollment token; it is printed once, alone on the first line",
		Long: `Makes a one-time token that enrolls one host into --group: give it to
"portpanel agent --enroll-token". It works once and expires after --ttl
(default 1h, at most 24h); only its hash is stored. The token is printed alone
on the first line of standard output, for scripts; what it is for goes to
standard error.`,
		Example: `  portpanel enroll create --group proxies
  TOKEN=$(portpanel enroll create --group proxies --ttl 15m --server https://panel:8443)`,
		Args: args(),
	}, "create enrollment tokens", func(ctx context.Context, s enrollStore, t *term, _ []string) error {
		d, err := time.ParseDuration(ttl)
		if err != nil || d < time.Minute || d > fleet.MaxEnrollTTL {
			return cmdUsage("--ttl %q: give a duration from 1m to 24h, such as 15m or 1h", ttl)
		}
		if fleet.CheckGroup(group) != nil {
			return cmdUsage("--group %q: give 1 to 64 letters, digits, '.', '-' or '_'", group)
		}
		token, e, err := s.create(ctx, group, d)
		if err != nil {
			return err
		}
		fmt.Fprintln(t.out, token)
		fmt.Fprintf(t.errw, "enrollment token #%d for group %s, valid until %s; it is not shown again\n", e.ID, e.Group, when(e.ExpiresAt))
		return nil
	})
	create.Flags().StringVar(&group, "group", "", "the group the host joins (required)")
	create.Flags().StringVar(&ttl, "ttl", "1h", "how long the token stays valid: 1m to 24h")
	list := enrollCommand(&cobra.Command{
		Use:   "list",
		Short: "list enrollment tokens: group, expiry, used when and by which host, revoked",
		Args:  args(),
	}, "list enrollment tokens", func(ctx context.Context, s enrollStore, t *term, _ []string) error {
		list, err := s.list(ctx)
		if err != nil {
			return err
		}
		if t.json {
			return t.rawObject(map[string]any{"enrollments": list})
		}
		if len(list) == 0 {
			t.printf("No enrollment tokens.\n")
			return nil
		}
		now := time.Now()
		rows := [][]string{}
		for _, e := range list {
			state := "unused"
			switch {
			case e.UsedAt != nil:
				state = "used " + when(*e.UsedAt) + " by " + e.UsedBy
			case e.RevokedAt != nil:
				state = "revoked " + when(*e.RevokedAt)
			case !now.Before(e.ExpiresAt):
				state = "expired"
			}
			rows = append(rows, []string{strconv.FormatInt(e.ID, 10), e.Group, e.CreatedBy, when(e.CreatedAt), when(e.ExpiresAt), state})
		}
		t.table([]string{"ID", "GROUP", "BY", "CREATED", "EXPIRES", "STATE"}, rows)
		return nil
	})
	revoke := enrollCommand(&cobra.Command{
		Use:   "revoke ID",
		Short: "revoke an unused enrollment token",
		Args:  args("ID"),
	}, "revoke enrollment tokens", func(ctx context.Context, s enrollStore, t *term, a []string) error {
		id, err := strconv.ParseInt(a[0], 10, 64)
		if err != nil || id <= 0 {
			return cmdUsage("%q is no token ID: give its number, as portpanel enroll list shows it", a[0])
		}
		e, err := s.revoke(ctx, id)
		if err != nil {
			return err
		}
		fmt.Fprintf(t.talk(), "revoked enrollment token #%d for group %s\n", e.ID, e.Group)
		return nil
	})
	g := &cobra.Command{Use: "enroll", Short: "one-time enrollment tokens for agents (fleet mode)",
		Annotations: map[string]string{groupKey: groupAdmin}, Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return commandUsage{"enroll needs create, list or revoke"} }}
	g.AddCommand(create, list, revoke)
	return g
}

// enrollment is an enrollment token as both stores give it.
type enrollment struct {
	ID        int64      `json:"id"`
	Group     string     `json:"group"`
	CreatedBy string     `json:"created_by"`
	CreatedAt time.Time  `json:"created_at"`
	ExpiresAt time.Time  `json:"expires_at"`
	UsedAt    *time.Time `json:"used_at"`
	UsedBy    string     `json:"used_by"`
	RevokedAt *time.Time `json:"revoked_at"`
}

// enrollStore is where the enroll commands act: the database or the API.
type enrollStore interface {
	create(ctx context.Context, group string, ttl time.Duration) (string, enrollment, error)
	list(ctx context.Context) ([]enrollment, error)
	revoke(ctx context.Context, id int64) (enrollment, error)
}

type dbEnrollStore struct{ f *fleet.Service }

func fromDB(t db.EnrollmentToken) enrollment {
	return enrollment{ID: t.ID, Group: t.Group, CreatedBy: t.CreatedBy, CreatedAt: t.CreatedAt, ExpiresAt: t.ExpiresAt,
		UsedAt: t.UsedAt, UsedBy: t.UsedBy, RevokedAt: t.RevokedAt}
}

func (s dbEnrollStore) create(ctx context.Context, group string, ttl time.Duration) (string, enrollment, error) {
	token, t, err := s.f.CreateEnrollment(ctx, cliActor, group, ttl)
	return token, fromDB(t), err
}

// list is every token, newest first: the database pages them by id.
func (s dbEnrollStore) list(ctx context.Context) ([]enrollment, error) {
	var out []enrollment
	for before := int64(0); ; {
		page, err := s.f.DB.EnrollmentTokens(ctx, 1000, before)
		if err != nil {
			return nil, err
		}
		for _, t := range page {
			out = append(out, fromDB(t))
		}
		if len(page) < 1000 {
			return out, nil
		}
		before = page[len(page)-1].ID
	}
}

func (s dbEnrollStore) revoke(ctx context.Context, id int64) (enrollment, error) {
	t, err := s.f.RevokeEnrollment(ctx, cliActor, id)
	if errors.Is(err, db.ErrConflict) {
		return enrollment{}, fmt.Errorf("enrollment token #%d was used or revoked already", id)
	}
	return fromDB(t), err
}

type apiEnrollStore struct{ c *apiClient }

func (s apiEnrollStore) create(ctx context.Context, group string, ttl time.Duration) (string, enrollment, error) {
	a, err := s.c.call(ctx, http.MethodPost, "/api/v1/enrollments", map[string]string{"group": group, "ttl": ttl.String()})
	if err != nil {
		return "", enrollment{}, err
	}
	var out struct {
		enrollment
		Token string `json:"token"`
	}
	if err := decodeAnswer(a, &out); err != nil {
		return "", enrollment{}, err
	}
	return out.Token, out.enrollment, nil
}

func (s apiEnrollStore) list(ctx context.Context) ([]enrollment, error) {
	out := []enrollment{}
	for before := int64(0); ; {
		path := "/api/v1/enrollments"
		if before > 0 {
			path += "?before=" + strconv.FormatInt(before, 10)
		}
		var page struct {
			Enrollments []enrollment `json:"enrollments"`
		}
		if _, err := s.c.get(ctx, path, &page); err != nil {
			return nil, err
		}
		out = append(out, page.Enrollments...)
		if len(page.Enrollments) == 0 {
			return out, nil
		}
		before = page.Enrollments[len(page.Enrollments)-1].ID
	}
}

func (s apiEnrollStore) revoke(ctx context.Context, id int64) (enrollment, error) {
	a, err := s.c.call(ctx, http.MethodPost, "/api/v1/enrollments/"+strconv.FormatInt(id, 10)+"/revoke", nil)
	if err != nil {
		return enrollment{}, err
	}
	var out enrollment
	return out, decodeAnswer(a, &out)
}

// decodeAnswer reads an API answer's JSON body into v.
func decodeAnswer(a answer, v any) error {
	if err := json.Unmarshal(a.body, v); err != nil {
		return fmt.Errorf("read the panel's answer: %w", err)
	}
	return nil
}

// agentURL is --agent-listen as an agent's --server names it: the socket
// as unix:///PATH, a TCP address with TLS as https://HOST:PORT. "" when
// there is none an agent could use as given: no listener, plain TCP (the
// agent speaks https:// or a socket), or an address for every interface.
func agentURL(listen string, tls bool) string {
	a, err := parseAgentListen(listen)
	switch {
	case listen == "" || err != nil:
		return ""
	case a.network == "unix":
		return "unix://" + a.addr
	}
	host, _, err := net.SplitHostPort(a.addr)
	if ip := net.ParseIP(host); err != nil || !tls || host == "" || (ip != nil && ip.IsUnspecified()) {
		return ""
	}
	return "https://" + a.addr
}
