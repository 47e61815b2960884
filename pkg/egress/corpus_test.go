// Copyright The nuclio-apiserver Authors.
// SPDX-License-Identifier: Apache-2.0

package egress_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/nuclio-apiserver/nuclio-apiserver/pkg/egress"
	"github.com/nuclio-apiserver/nuclio-apiserver/pkg/egress/egresstest"
)

const sourceBody = "function source archive"

// loopbackServers are the only servers the connecting judges ever reach: a
// TLS and a plain HTTP server on 127.0.0.1.
type loopbackServers struct {
	tls, plain *httptest.Server
	roots      *x509.CertPool
}

func newLoopbackServers(t *testing.T, h http.Handler) *loopbackServers {
	t.Helper()
	if h == nil {
		h = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, sourceBody) })
	}
	s := &loopbackServers{tls: httptest.NewTLSServer(h), plain: httptest.NewServer(h)}
	t.Cleanup(s.tls.Close)
	t.Cleanup(s.plain.Close)
	s.roots = x509.NewCertPool()
	s.roots.AddCert(s.tls.Certificate())
	return s
}

// tlsConfig trusts the test server's certificate, which is issued for
// example.com: every name a test uses is checked against that.
func (s *loopbackServers) tlsConfig() *tls.Config {
	return &tls.Config{RootCAs: s.roots, ServerName: "example.com"}
}

// standInPolicy is the case's policy plus the stand-in for public addresses.
func standInPolicy(t *testing.T, c *egresstest.Case) *egress.Policy {
	t.Helper()
	data := c.ParamsData(nil)
	data[egress.KeyAllowedCIDRs] = strings.Trim(data[egress.KeyAllowedCIDRs]+","+egresstest.StandInCIDR, ",")
	p, errs := egress.PolicyFromConfigMapData(data)
	if len(errs) != 0 {
		t.Fatalf("policy parameters: %v", errs)
	}
	return p
}

func answers(t *testing.T, c *egresstest.Case) [][]netip.Addr {
	t.Helper()
	resolve := c.Resolve
	if len(resolve) == 0 {
		resolve = [][]string{{egresstest.Public}}
	}
	var out [][]netip.Addr
	for _, answer := range resolve {
		var addrs []netip.Addr
		for _, a := range answer {
			if a == egresstest.Public {
				addrs = append(addrs, egresstest.StandIn)
				continue
			}
			addrs = append(addrs, netip.MustParseAddr(a))
		}
		out = append(out, addrs)
	}
	return out
}

// TestCorpusGuard is the connect-time judge of the shared corpus. Every case
// whose URL admission refuses must be refused by the guarded client before
// any DNS lookup or dial; every other URL is fetched through the client with
// scripted DNS answers, and each request must be refused before dialling or
// succeed against a loopback server, as the case says. Cases about users,
// updates or malformed parameters are admission-only and skipped here.
func TestCorpusGuard(t *testing.T) {
	cases, err := egresstest.Load(egresstest.CorpusDir())
	if err != nil {
		t.Fatal(err)
	}
	servers := newLoopbackServers(t, nil)
	judged := 0
	for i := range cases {
		c := &cases[i]
		if c.URL == "" || c.IsUpdate() {
			continue
		}
		if _, errs := egress.PolicyFromConfigMapData(c.ParamsData(nil)); len(errs) != 0 {
			continue // malformed parameters: admission refuses everything
		}
		judged++
		t.Run(c.Name, func(t *testing.T) {
			policy := standInPolicy(t, c)
			urlRefused := c.Denied() && c.Field == "spec.build.path" && c.IsAuthorized()
			validated, ferr := policy.ValidateURL(c.URL, field.NewPath("spec", "build", "path"))
			if urlRefused != (ferr != nil) {
				t.Fatalf("ValidateURL(%q) = %v; want refused=%v", c.URL, ferr, urlRefused)
			}
			// The client must refuse on its own too, for any URL net/url
			// can parse (redirect targets never pass ValidateURL).
			u, err := url.Parse(c.URL)
			if urlRefused && err != nil {
				return
			}
			if !urlRefused {
				u = validated
				if a, err := netip.ParseAddr(u.Hostname()); err == nil {
					// A public IP literal: judge the address, never dial it.
					if err := policy.CheckAddr(a); err != nil {
						t.Fatalf("CheckAddr(%s) = %v, want nil", a, err)
					}
					return
				}
			}

			target := servers.tls
			if u.Scheme == "http" {
				target = servers.plain
			}
			host := strings.ToLower(strings.TrimSuffix(u.Hostname(), "."))
			resolver := &egresstest.Resolver{T: t, Answers: map[string][][]netip.Addr{host: answers(t, c)}}
			dialer := &egresstest.Dialer{T: t, Target: target.Listener.Addr().String()}
			client := egress.NewClient(egress.NewGuard(policy, egress.GuardOptions{Resolver: resolver, Dialer: dialer}),
				egress.ClientOptions{TLSClientConfig: servers.tlsConfig()})

			if urlRefused {
				_, err := fetch(client, u)
				if !egress.IsDenied(err) {
					t.Fatalf("fetch error = %v, want a policy refusal", err)
				}
				if n := resolver.Lookups(host); n != 0 || len(dialer.Dialed()) != 0 {
					t.Fatalf("refused URL was resolved %d times and dialled %v; want neither", n, dialer.Dialed())
				}
				return
			}

			outcomes := c.Dial
			if len(outcomes) == 0 {
				outcomes = []string{egresstest.Allow}
			}
			for step, want := range outcomes {
				before := len(dialer.Dialed())
				body, err := fetch(client, u)
				dialled := dialer.Dialed()[before:]
				client.CloseIdleConnections() // the next request must resolve and dial again
				switch want {
				case egresstest.Allow:
					if err != nil || body != sourceBody {
						t.Fatalf("request %d: got %q, %v; want the source", step, body, err)
					}
					if len(dialled) != 1 || !strings.HasPrefix(dialled[0], egresstest.StandIn.String()+":") {
						t.Fatalf("request %d dialled %v, want the stand-in address once", step, dialled)
					}
				case egresstest.Deny:
					if !egress.IsDenied(err) {
						t.Fatalf("request %d: error = %v, want a policy refusal", step, err)
					}
					if len(dialled) != 0 {
						t.Fatalf("request %d dialled %v before refusing", step, dialled)
					}
				}
			}
			if got := resolver.Lookups(host); got != len(outcomes) {
				t.Fatalf("host resolved %d times for %d requests", got, len(outcomes))
			}
		})
	}
	if judged < 150 {
		t.Fatalf("only %d corpus cases judged at connect time", judged)
	}
}

func fetch(c *http.Client, u *url.URL) (string, error) {
	req := (&http.Request{Method: http.MethodGet, URL: u, Header: http.Header{}}).WithContext(context.Background())
	resp, err := c.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}
