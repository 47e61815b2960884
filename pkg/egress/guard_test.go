// Copyright The nuclio-apiserver Authors.
// SPDX-License-Identifier: Apache-2.0

package egress_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/nuclio-apiserver/nuclio-apiserver/pkg/egress"
	"github.com/nuclio-apiserver/nuclio-apiserver/pkg/egress/egresstest"
)

// recordingDialer never connects: it records what it is asked and fails.
type recordingDialer struct {
	mu     sync.Mutex
	dialed []string
}

var errNoConnect = errors.New("recordingDialer does not connect")

func (d *recordingDialer) DialContext(_ context.Context, _, address string) (net.Conn, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.dialed = append(d.dialed, address)
	return nil, errNoConnect
}

func TestGuardChecksEveryAnswerBeforeDialling(t *testing.T) {
	resolver := &egresstest.Resolver{T: t, Answers: map[string][][]netip.Addr{
		"mixed.example.com": {{netip.MustParseAddr("8.8.8.8"), netip.MustParseAddr("10.0.0.1")}},
		"good.example.com":  {{netip.MustParseAddr("::ffff:8.8.8.8"), netip.MustParseAddr("2001:4860:4860::8888")}},
	}}
	dialer := &recordingDialer{}
	g := egress.NewGuard(egress.DefaultPolicy(), egress.GuardOptions{Resolver: resolver, Dialer: dialer})

	_, err := g.DialContext(context.Background(), "tcp", "mixed.example.com:443")
	var d *egress.DeniedError
	if !errors.As(err, &d) || d.Host != "mixed.example.com" || d.Addr != netip.MustParseAddr("10.0.0.1") {
		t.Fatalf("error = %v, want a refusal of 10.0.0.1 naming the host", err)
	}
	if len(dialer.dialed) != 0 {
		t.Fatalf("dialled %v", dialer.dialed)
	}

	// Accepted answers are dialled in order, unmapped, as literal addresses.
	if _, err := g.DialContext(context.Background(), "tcp", "good.example.com:443"); !errors.Is(err, errNoConnect) {
		t.Fatalf("error = %v", err)
	}
	want := []string{"8.8.8.8:443", "[2001:4860:4860::8888]:443"}
	if strings.Join(dialer.dialed, ",") != strings.Join(want, ",") {
		t.Fatalf("dialled %v, want %v", dialer.dialed, want)
	}
}

func TestGuardRefusesLiteralsAndOtherNetworks(t *testing.T) {
	dialer := &recordingDialer{}
	g := egress.NewGuard(egress.DefaultPolicy(), egress.GuardOptions{Resolver: &egresstest.Resolver{T: t}, Dialer: dialer})
	for _, tc := range []struct{ network, address string }{
		{"tcp", "169.254.169.254:80"},
		{"tcp6", "[fe80::1%eth0]:443"},
		{"tcp", "[::ffff:127.0.0.1]:6443"},
		{"udp", "8.8.8.8:53"},
		{"unix", "/var/run/docker.sock"},
	} {
		if _, err := g.DialContext(context.Background(), tc.network, tc.address); !egress.IsDenied(err) {
			t.Errorf("%s %s: error = %v, want a refusal", tc.network, tc.address, err)
		}
	}
	if len(dialer.dialed) != 0 {
		t.Fatalf("dialled %v", dialer.dialed)
	}
}

// TestGuardControl calls the connect-time hook directly, with no socket: it
// is what the default dialer runs just before connect(2).
func TestGuardControl(t *testing.T) {
	g := egress.NewGuard(egress.DefaultPolicy(), egress.GuardOptions{})
	for _, tc := range []struct {
		network, address string
		refused          bool
	}{
		{"tcp4", "169.254.169.254:80", true},
		{"tcp6", "[::ffff:10.0.0.1]:443", true},
		{"tcp6", "[fd00:ec2::254]:80", true},
		{"udp4", "8.8.8.8:53", true},
		{"tcp4", "not-an-address:80", true},
		{"tcp4", "8.8.8.8:443", false},
		{"tcp6", "[2001:4860:4860::8888]:443", false},
	} {
		if err := g.Control(tc.network, tc.address, nil); (err != nil) != tc.refused {
			t.Errorf("Control(%s, %s) = %v, want refused=%v", tc.network, tc.address, err, tc.refused)
		}
	}
}

// TestDefaultDialerReachesAllowedLoopback exercises the real net.Dialer with
// the Control hook, against a loopback server the policy allows for this
// test only.
func TestDefaultDialerReachesAllowedLoopback(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok") }))
	defer srv.Close()
	port := srv.Listener.Addr().(*net.TCPAddr).Port

	p, errs := egress.PolicyFromConfigMapData(map[string]string{
		egress.KeyAllowPlainHTTP: "true", egress.KeyAllowedCIDRs: "127.0.0.1/32",
	})
	if len(errs) != 0 {
		t.Fatal(errs)
	}
	resolver := &egresstest.Resolver{T: t, Answers: map[string][][]netip.Addr{
		"files.example.com": {{netip.MustParseAddr("127.0.0.1")}},
	}}
	client := egress.NewClient(egress.NewGuard(p, egress.GuardOptions{Resolver: resolver}), egress.ClientOptions{})
	u := &url.URL{Scheme: "http", Host: net.JoinHostPort("files.example.com", strconv.Itoa(port)), Path: "/fn.zip"}
	body, err := fetch(client, u)
	if err != nil || body != "ok" {
		t.Fatalf("got %q, %v", body, err)
	}
}
