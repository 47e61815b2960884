// Copyright The nuclio-apiserver Authors.
// SPDX-License-Identifier: Apache-2.0

package egress

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Resolver looks up the addresses of a host name. *net.Resolver implements
// it; tests inject their own.
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// Dialer opens a connection to a literal "ip:port" address. *net.Dialer
// implements it; tests inject their own.
type Dialer interface {
	DialContext(ctx context.Context, network, address string) (net.Conn, error)
}

// GuardOptions configures NewGuard. Zero values select the defaults.
type GuardOptions struct {
	// Resolver defaults to net.DefaultResolver.
	Resolver Resolver
	// Dialer defaults to a *net.Dialer with DialTimeout whose Control hook
	// is Guard.Control, so the kernel-level destination is checked again
	// just before connect(2). An injected Dialer is only ever given
	// addresses that CheckAddr accepted.
	Dialer Dialer
	// DialTimeout bounds each connection attempt of the default Dialer;
	// default DefaultDialTimeout.
	DialTimeout time.Duration
}

// DefaultDialTimeout bounds one TCP connection attempt.
const DefaultDialTimeout = 10 * time.Second

// Guard connects only to addresses a Policy accepts. It resolves host names
// itself (as absolute names, so the pod's DNS search path cannot turn
// "kubernetes.default" into a cluster Service), refuses the connection if
// any answer is refused, and dials the checked IP address rather than the
// name, so a DNS answer that changes between check and use (rebinding) is
// never dialled. Safe for concurrent use.
type Guard struct {
	policy   *Policy
	resolver Resolver
	dialer   Dialer
}

// NewGuard returns a Guard enforcing p. p must not be modified afterwards.
func NewGuard(p *Policy, opts GuardOptions) *Guard {
	g := &Guard{policy: p, resolver: opts.Resolver, dialer: opts.Dialer}
	if g.resolver == nil {
		g.resolver = net.DefaultResolver
	}
	if g.dialer == nil {
		timeout := opts.DialTimeout
		if timeout <= 0 {
			timeout = DefaultDialTimeout
		}
		g.dialer = &net.Dialer{Timeout: timeout, KeepAlive: 30 * time.Second, Control: g.Control}
	}
	return g
}

// Policy returns the policy the guard enforces.
func (g *Guard) Policy() *Policy { return g.policy }

// DialContext connects to address ("host:port", as net/http passes it) over
// network "tcp", "tcp4" or "tcp6". A literal IP is checked directly; a name
// is resolved and every answer checked. It returns a *DeniedError, before
// anything is dialled, if the network is not TCP or any address is refused;
// otherwise it dials the accepted addresses in the resolver's order and
// returns the first connection made.
func (g *Guard) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	ipNetwork, ok := ipNetworks[network]
	if !ok {
		return nil, &DeniedError{Reason: fmt.Sprintf("network %q is not allowed; only TCP is", network)}
	}
	host, portString, err := net.SplitHostPort(address)
	if err != nil {
		return nil, fmt.Errorf("egress: invalid address %q: %w", address, err)
	}
	port, err := strconv.ParseUint(portString, 10, 16)
	if err != nil || port == 0 {
		return nil, fmt.Errorf("egress: invalid port in address %q", address)
	}

	var addrs []netip.Addr
	resolvedFrom := ""
	if a, err := netip.ParseAddr(host); err == nil {
		addrs = []netip.Addr{a}
	} else {
		resolvedFrom = host
		name := host
		if !strings.HasSuffix(name, ".") {
			name += "."
		}
		addrs, err = g.resolver.LookupNetIP(ctx, ipNetwork, name)
		if err != nil {
			return nil, fmt.Errorf("egress: resolving %q: %w", host, err)
		}
		if len(addrs) == 0 {
			return nil, fmt.Errorf("egress: resolving %q: no addresses", host)
		}
	}

	// Judge every answer before dialling any: a name with one inward
	// answer is refused as a whole, so round-robin tricks do not work.
	for i, a := range addrs {
		if err := g.policy.CheckAddr(a); err != nil {
			var denied *DeniedError
			if errors.As(err, &denied) {
				denied.Host = resolvedFrom
			}
			return nil, err
		}
		addrs[i] = a.WithZone("").Unmap()
	}

	var errs []error
	for _, a := range addrs {
		conn, err := g.dialer.DialContext(ctx, network, netip.AddrPortFrom(a, uint16(port)).String())
		if err == nil {
			return conn, nil
		}
		errs = append(errs, err)
		if ctx.Err() != nil {
			break
		}
	}
	return nil, errors.Join(errs...)
}

var ipNetworks = map[string]string{"tcp": "ip", "tcp4": "ip4", "tcp6": "ip6"}

// Control is a net.Dialer Control hook: it runs after the socket is created
// and before connect(2), with the literal destination, and refuses any
// address the policy refuses and any network other than TCP. The default
// Dialer of NewGuard uses it; custom dialers built on net.Dialer should too.
func (g *Guard) Control(network, address string, _ syscall.RawConn) error {
	switch network {
	case "tcp", "tcp4", "tcp6":
	default:
		return &DeniedError{Reason: fmt.Sprintf("network %q is not allowed; only TCP is", network)}
	}
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return &DeniedError{Reason: fmt.Sprintf("cannot judge destination %q: %v", address, err)}
	}
	return g.policy.CheckAddr(ap.Addr())
}
