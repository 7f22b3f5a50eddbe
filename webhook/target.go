package webhook

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
)

// Policy says which endpoints may be called. Without AllowPrivate
// (--webhook-allow-private), an endpoint on a loopback, link-local,
// private or otherwise special address is refused, so a webhook cannot be
// aimed at the panel's own host or network (SSRF): when the URL is saved,
// for every address its host resolves to, and again at every connection
// (Control), where DNS may by then answer differently (rebinding).
type Policy struct {
	AllowPrivate bool
	// Resolver looks hosts up when a URL is saved; nil: net.DefaultResolver.
	Resolver *net.Resolver
}

// special are the ranges netip's predicates miss that are no public host.
var special = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),     // "this network"
	netip.MustParsePrefix("100.64.0.0/10"), // carrier-grade NAT
	netip.MustParsePrefix("192.0.0.0/24"),  // IETF protocol assignments
	netip.MustParsePrefix("198.18.0.0/15"), // benchmarking
	netip.MustParsePrefix("240.0.0.0/4"),   // reserved, broadcast
	netip.MustParsePrefix("fec0::/10"),     // site-local (deprecated)
}

// nat64 embeds an IPv4 address in its last 32 bits.
var nat64 = netip.MustParsePrefix("64:ff9b::/96")

// Refused says why a may not be called without AllowPrivate, or "".
func Refused(a netip.Addr) string {
	a = a.Unmap()
	if nat64.Contains(a) {
		b := a.As16()
		return Refused(netip.AddrFrom4([4]byte(b[12:])))
	}
	switch {
	case !a.IsValid() || a.IsUnspecified():
		return "an unspecified address"
	case a.IsLoopback():
		return "a loopback address"
	case a.IsLinkLocalUnicast() || a.IsLinkLocalMulticast():
		return "a link-local address"
	case a.IsPrivate():
		return "a private address"
	case a.IsMulticast() || a.IsInterfaceLocalMulticast():
		return "a multicast address"
	}
	for _, p := range special {
		if p.Contains(a) {
			return "a reserved address"
		}
	}
	return ""
}

// TargetError says why an endpoint URL is refused, in a sentence for the
// admin who typed it.
type TargetError struct{ Message string }

func (e *TargetError) Error() string { return e.Message }

// CheckURL parses raw and refuses what may not be called: a scheme other
// than http or https, no host, credentials in the URL, a fragment, and
// (unless AllowPrivate) a host that resolves to any refused address. It
// returns the URL as it will be stored.
func (p Policy) CheckURL(ctx context.Context, raw string) (string, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	switch {
	case err != nil || raw == "":
		return "", &TargetError{"Give the endpoint's URL, such as https://hooks.example.com/portpanel."}
	case u.Scheme != "http" && u.Scheme != "https":
		return "", &TargetError{"The URL must start with http:// or https://."}
	case u.Hostname() == "":
		return "", &TargetError{"The URL has no host name."}
	case u.User != nil:
		return "", &TargetError{"Put no user name or password in the URL: the endpoint verifies the signature instead."}
	case u.Fragment != "" || strings.Contains(raw, "#"):
		return "", &TargetError{"The URL must not have a #fragment."}
	case len(u.String()) > 2000:
		return "", &TargetError{"The URL is longer than 2000 characters."}
	}
	if p.AllowPrivate {
		return u.String(), nil
	}
	host := u.Hostname()
	addrs, err := p.lookup(ctx, host)
	if err != nil {
		return "", &TargetError{fmt.Sprintf("%s could not be resolved (%v): portpanel checks where an endpoint points before saving it.", host, dnsReason(err))}
	}
	for _, a := range addrs {
		if why := Refused(a); why != "" {
			return "", &TargetError{fmt.Sprintf("%s points to %s, %s: endpoints on the host's own or private networks are refused unless portpanel runs with --webhook-allow-private.", host, a.Unmap(), why)}
		}
	}
	return u.String(), nil
}

func (p Policy) lookup(ctx context.Context, host string) ([]netip.Addr, error) {
	if a, err := netip.ParseAddr(strings.Trim(host, "[]")); err == nil {
		return []netip.Addr{a}, nil
	}
	r := p.Resolver
	if r == nil {
		r = net.DefaultResolver
	}
	addrs, err := r.LookupNetIP(ctx, "ip", host)
	if err == nil && len(addrs) == 0 {
		err = errors.New("no addresses")
	}
	return addrs, err
}

// dnsReason shortens a resolver error to its reason, without the server
// address it went to.
func dnsReason(err error) string {
	var de *net.DNSError
	if errors.As(err, &de) {
		return de.Err
	}
	return err.Error()
}

// Control is a net.Dialer Control function refusing connections to refused
// addresses (unless AllowPrivate): the check that holds whatever DNS
// answered when the URL was saved.
func (p Policy) Control(network, address string, _ syscall.RawConn) error {
	if p.AllowPrivate {
		return nil
	}
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("refused to connect to %s: not an IP address and port", address)
	}
	if why := Refused(ap.Addr()); why != "" {
		return fmt.Errorf("refused to connect to %s, %s (--webhook-allow-private is off)", ap.Addr().Unmap(), why)
	}
	return nil
}
