// Copyright The nuclio-apiserver Authors.
// SPDX-License-Identifier: Apache-2.0

package egress

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/nuclio-apiserver/nuclio-apiserver/pkg/egress/egresstest"
)

// FuzzGuardDial: whatever a resolver answers, the guard dials only addresses
// outside the refused ranges, and nothing at all if any answer is refused.
// Input: concatenated 16-byte addresses (IPv4 as IPv4-mapped).
func FuzzGuardDial(f *testing.F) {
	for _, answers := range [][]string{
		{"8.8.8.8"}, {"8.8.8.8", "10.0.0.1"}, {"::ffff:169.254.169.254"}, {"64:ff9b::a9fe:a9fe", "2001:4860:4860::8888"},
		{"2001:0:4136:e378:8000:63bf:3fff:fdd2"}, {"fd00:ec2::254"},
	} {
		var b []byte
		for _, a := range answers {
			s := netip.MustParseAddr(a).As16()
			b = append(b, s[:]...)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		var answers []netip.Addr
		for len(raw) >= 16 && len(answers) < 8 {
			answers = append(answers, netip.AddrFrom16([16]byte(raw[:16])))
			raw = raw[16:]
		}
		if len(answers) == 0 {
			return
		}
		resolver := &egresstest.Resolver{T: t, Answers: map[string][][]netip.Addr{"fuzz.example.com": {answers}}}
		var dialed []string
		dialer := dialFunc(func(_ context.Context, _, address string) (net.Conn, error) {
			dialed = append(dialed, address)
			return nil, errors.New("fuzz dialer does not connect")
		})
		g := NewGuard(DefaultPolicy(), GuardOptions{Resolver: resolver, Dialer: dialer})
		_, err := g.DialContext(context.Background(), "tcp", "fuzz.example.com:443")

		anyRefused := false
		for _, a := range answers {
			anyRefused = anyRefused || mustRefuse(a)
		}
		if anyRefused && (!IsDenied(err) || len(dialed) != 0) {
			t.Fatalf("answers %v: error %v, dialled %v; want a refusal and no dial", answers, err, dialed)
		}
		for _, d := range dialed {
			ap := netip.MustParseAddrPort(d)
			if mustRefuse(ap.Addr()) || ap.Addr().Is4In6() {
				t.Fatalf("dialled %s", d)
			}
		}
	})
}

type dialFunc func(ctx context.Context, network, address string) (net.Conn, error)

func (f dialFunc) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	return f(ctx, network, address)
}

var numericLastLabel = regexp.MustCompile(`(^|\.)(0x[0-9a-f]*|[0-9]+)$`)

// FuzzValidateURL: any URL the default policy accepts is an https URL
// without user information whose host net/url reads as a public IP literal
// or a multi-label name outside the internal domains, and the HTTP client
// accepts the parsed URL it returns.
func FuzzValidateURL(f *testing.F) {
	cases, err := egresstest.Load(egresstest.CorpusDir())
	if err != nil {
		f.Fatal(err)
	}
	for _, c := range cases {
		if c.URL != "" {
			f.Add(c.URL)
		}
	}
	p := DefaultPolicy()
	f.Fuzz(func(t *testing.T, raw string) {
		u, ferr := p.ValidateURL(raw, nil)
		if ferr != nil {
			return
		}
		again, err := url.Parse(raw)
		if err != nil || again.Scheme != "https" || again.User != nil || u.Host != again.Host {
			t.Fatalf("accepted %q: parsed %#v, %v", raw, again, err)
		}
		host := strings.TrimSuffix(strings.ToLower(u.Hostname()), ".")
		if host == "" || reNonPrintable.MatchString(host) || strings.ContainsAny(host, "%@\\") {
			t.Fatalf("accepted %q with host %q", raw, host)
		}
		if a, err := netip.ParseAddr(host); err == nil {
			if a.Is4In6() || a.Zone() != "" || mustRefuse(a) {
				t.Fatalf("accepted %q: address %s", raw, a)
			}
		} else {
			if strings.Contains(host, ":") || numericLastLabel.MatchString(host) || !strings.Contains(host, ".") {
				t.Fatalf("accepted %q: host %q", raw, host)
			}
			for _, suffix := range []string{".localhost", ".local", ".internal", ".svc", ".localdomain", ".home.arpa"} {
				if strings.HasSuffix("."+host, suffix) {
					t.Fatalf("accepted %q: host %q ends in %s", raw, host, suffix)
				}
			}
		}
		if err := p.CheckURL(u); err != nil {
			t.Fatalf("ValidateURL accepted %q but CheckURL refuses its parsed form: %v", raw, err)
		}
	})
}
