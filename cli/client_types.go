package cli

import (
	"strconv"
	"strings"
	"time"
)

// The API's answers, as far as the text output reads them; --output json
// prints the answers themselves, so a field added to the API reaches
// scripts without a change here.

type apiRange struct {
	Low  int `json:"low"`
	High int `json:"high"`
}

func (r apiRange) String() string { return strconv.Itoa(r.Low) + "–" + strconv.Itoa(r.High) }

func (r apiRange) size() int { return r.High - r.Low + 1 }

type apiLocation struct {
	File string `json:"file"`
	Line int    `json:"line"`
}

type apiStatus struct {
	Runtime apiRange `json:"runtime"`
	Boot    struct {
		apiRange
		apiLocation
		KernelDefault bool         `json:"kernel_default"`
		Reader        string       `json:"reader"`
		Uncertain     []string     `json:"uncertain"`
		Refused       []apiRefused `json:"refused"`
		ReservedPorts *struct {
			apiLocation
			Value         string       `json:"value"`
			KernelDefault bool         `json:"kernel_default"`
			Refused       []apiRefused `json:"refused"`
		} `json:"reserved_ports"`
	} `json:"boot"`
	ReservedDrift         bool         `json:"reserved_drift"`
	Size                  int          `json:"size"`
	UnprivilegedPortStart int          `json:"unprivileged_port_start"`
	ReservedPorts         string       `json:"reserved_ports"`
	Drift                 bool         `json:"drift"`
	OverriddenBy          *apiLocation `json:"overridden_by"`
	Warnings              []string     `json:"warnings"`
}

type apiRefused struct {
	apiLocation
	Value  string `json:"value"`
	Reason string `json:"reason"`
}

type apiDestination struct {
	LocalIP     string  `json:"local_ip"`
	Destination string  `json:"destination"`
	Sockets     int     `json:"sockets"`
	Risk        float64 `json:"risk"`
	Level       string  `json:"level"`
}

type apiUsage struct {
	At           *time.Time       `json:"at"`
	Message      string           `json:"message"`
	Source       string           `json:"source"`
	Range        apiRange         `json:"range"`
	Capacity     int              `json:"capacity"`
	TCP          map[string]int   `json:"tcp"`
	UDP          int              `json:"udp"`
	Bound        int              `json:"bound"`
	InRange      int              `json:"in_range"`
	Destinations []apiDestination `json:"destinations"`
	Busiest      *apiDestination  `json:"busiest"`
	SharedUse    float64          `json:"shared_use"` // a share of the capacity
	Rate         float64          `json:"rate_per_second"`
	Level        string           `json:"level"`
}

// apiPreview is a dry run's answer. Hazards and reserved ports are read
// when the server sends them.
type apiPreview struct {
	Before           apiRange      `json:"before"`
	After            apiRange      `json:"after"`
	SizeBefore       int           `json:"size_before"`
	SizeAfter        int           `json:"size_after"`
	Warnings         []string      `json:"warnings"`
	Notes            []string      `json:"notes"`
	File             string        `json:"file"`
	Diff             string        `json:"diff"`
	FileState        string        `json:"file_state"`
	RequiresApproval bool          `json:"requires_approval"`
	Hazards          []hazard      `json:"hazards"`
	Listeners        []apiListener `json:"listeners_in_range"`
	ReserveFix       string        `json:"reserve_fix"`
	ReservedBefore   *string       `json:"reserved_ports_before"`
	ReservedAfter    *string       `json:"reserved_ports"`
	// Host and Generation come with a remote host's dry run: the
	// generation goes back as base.generation.
	Host       string `json:"host"`
	Generation *int64 `json:"generation"`
}

// apiListener is a port a service listens on inside a proposed range.
type apiListener struct {
	Port         int    `json:"port"`
	Proto        string `json:"proto"`
	Process      string `json:"process"`
	PID          int    `json:"pid"`
	Usually      string `json:"usually"`
	ListeningNow bool   `json:"listening_now"`
	Reserved     bool   `json:"reserved"`
}

type changeAnswer struct {
	ID             int64      `json:"id"`
	Status         string     `json:"status"`
	Low            int        `json:"low"`
	High           int        `json:"high"`
	Before         apiRange   `json:"before"`
	Reason         string     `json:"reason"`
	User           string     `json:"user"`
	CreatedAt      time.Time  `json:"created_at"`
	UpdatedAt      time.Time  `json:"updated_at"`
	File           string     `json:"file"`
	Diff           string     `json:"diff"`
	Error          string     `json:"error"`
	RollbackOf     *int64     `json:"rollback_of"`
	Warnings       []string   `json:"warnings"`
	Notes          []string   `json:"notes"`
	ConfirmWithin  int        `json:"confirm_within"`
	ConfirmBy      *time.Time `json:"confirm_by"`
	DecidedBy      string     `json:"decided_by"`
	DecidedAt      *time.Time `json:"decided_at"`
	DecisionReason string     `json:"decision_reason"`
	ConfirmedBy    string     `json:"confirmed_by"`
	ConfirmedAt    *time.Time `json:"confirmed_at"`
	Emergency      bool       `json:"emergency"`
	Hazards        []hazard   `json:"hazards"`
	Acknowledged   []string   `json:"acknowledged"`
	ReservedPorts  *string    `json:"reserved_ports"` // null: the change left them alone
	ReservedBefore *string    `json:"reserved_ports_before"`
	Host           string     `json:"host"` // "": the panel's own host
	AgentResult    string     `json:"agent_result"`
}

func (c changeAnswer) after() apiRange { return apiRange{c.Low, c.High} }

type apiEvent struct {
	ID       int64     `json:"id"`
	At       time.Time `json:"at"`
	User     string    `json:"user"`
	Action   string    `json:"action"`
	Detail   string    `json:"detail"`
	ChangeID *int64    `json:"change_id"`
}

type apiSample struct {
	At     time.Time `json:"at"`
	Low    int       `json:"low"`
	High   int       `json:"high"`
	Source string    `json:"source"`
}

// count writes n with thousands separated: 28,232.
func count(n int) string {
	s := strconv.Itoa(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	if neg {
		return "-" + s
	}
	return s
}

// when is a moment as the terminal shows it: local time, to the second.
func when(t time.Time) string { return t.Local().Format("2006-01-02 15:04:05 MST") }

// ports is "N ports", singular for one.
func ports(n int) string {
	if n == 1 {
		return "1 port"
	}
	return count(n) + " ports"
}
