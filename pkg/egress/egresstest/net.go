// Copyright The nuclio-apiserver Authors.
// SPDX-License-Identifier: Apache-2.0

package egresstest

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"
)

// Resolver is an egress.Resolver with scripted answers. The n-th lookup of a
// name gets the n-th answer (the last answer repeats); unknown names are "not
// found". It fails the test if asked for a relative name, because the guard
// must resolve absolute names so that DNS search paths do not apply.
type Resolver struct {
	T testing.TB
	// Answers maps host names (without the trailing dot) to successive
	// answers.
	Answers map[string][][]netip.Addr

	mu    sync.Mutex
	calls map[string]int
}

// LookupNetIP implements egress.Resolver.
func (r *Resolver) LookupNetIP(_ context.Context, network, host string) ([]netip.Addr, error) {
	if !strings.HasSuffix(host, ".") {
		r.T.Errorf("egresstest: resolver asked for relative name %q; the guard must resolve absolute names", host)
	}
	name := strings.ToLower(strings.TrimSuffix(host, "."))
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.calls == nil {
		r.calls = map[string]int{}
	}
	n := r.calls[name]
	r.calls[name]++
	answers, ok := r.Answers[name]
	if !ok || len(answers) == 0 {
		return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
	}
	answer := answers[min(n, len(answers)-1)]
	var out []netip.Addr
	for _, a := range answer {
		switch {
		case network == "ip4" && !a.Unmap().Is4(), network == "ip6" && !a.Is6():
			continue
		}
		out = append(out, a)
	}
	return out, nil
}

// Lookups returns how often name was resolved.
func (r *Resolver) Lookups(name string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.calls[name]
}

// Dialer is an egress.Dialer that never leaves loopback. It fails the test,
// without dialling, if asked for any non-loopback address; otherwise it
// connects to Target (an httptest server's address), whatever port was
// asked for, and records the request.
type Dialer struct {
	T      testing.TB
	Target string

	mu     sync.Mutex
	dialed []string
}

// DialContext implements egress.Dialer.
func (d *Dialer) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	d.mu.Lock()
	d.dialed = append(d.dialed, address)
	d.mu.Unlock()
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		d.T.Errorf("egresstest: asked to dial %q, which is not a literal ip:port", address)
		return nil, err
	}
	if !ap.Addr().Unmap().IsLoopback() {
		d.T.Errorf("egresstest: asked to dial non-loopback address %s; tests may only reach loopback", address)
		return nil, fmt.Errorf("egresstest: refusing to dial non-loopback %s", address)
	}
	if d.Target == "" {
		return nil, fmt.Errorf("egresstest: no target server for %s", address)
	}
	var nd net.Dialer
	return nd.DialContext(ctx, network, d.Target)
}

// Dialed returns the addresses the dialer was asked for, in order.
func (d *Dialer) Dialed() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]string(nil), d.dialed...)
}
