// Copyright The nuclio-apiserver Authors.
// SPDX-License-Identifier: Apache-2.0

package egress_test

import (
	"errors"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nuclio-apiserver/nuclio-apiserver/pkg/egress"
	"github.com/nuclio-apiserver/nuclio-apiserver/pkg/egress/egresstest"
)

// harness is a guarded client whose names resolve as scripted and whose
// connections all end at one loopback TLS server.
type harness struct {
	client   *http.Client
	resolver *egresstest.Resolver
	dialer   *egresstest.Dialer

	mu       sync.Mutex
	requests []*http.Request
}

// newHarness serves h; names maps host names to one answer each (Public for
// the stand-in). params are extra policy parameters.
func newHarness(t *testing.T, h http.HandlerFunc, names map[string]string, params map[string]string, opts egress.ClientOptions) *harness {
	t.Helper()
	hs := &harness{}
	record := func(w http.ResponseWriter, r *http.Request) {
		hs.mu.Lock()
		hs.requests = append(hs.requests, r.Clone(r.Context()))
		hs.mu.Unlock()
		h(w, r)
	}
	servers := newLoopbackServers(t, http.HandlerFunc(record))
	data := map[string]string{egress.KeyAllowedCIDRs: egresstest.StandInCIDR}
	for k, v := range params {
		data[k] = v
	}
	p, errs := egress.PolicyFromConfigMapData(data)
	if len(errs) != 0 {
		t.Fatal(errs)
	}
	answers := map[string][][]netip.Addr{}
	for name, a := range names {
		addr := egresstest.StandIn
		if a != egresstest.Public {
			addr = netip.MustParseAddr(a)
		}
		answers[name] = [][]netip.Addr{{addr}}
	}
	hs.resolver = &egresstest.Resolver{T: t, Answers: answers}
	hs.dialer = &egresstest.Dialer{T: t, Target: servers.tls.Listener.Addr().String()}
	opts.TLSClientConfig = servers.tlsConfig()
	hs.client = egress.NewClient(egress.NewGuard(p, egress.GuardOptions{Resolver: hs.resolver, Dialer: hs.dialer}), opts)
	return hs
}

func (hs *harness) seen() []*http.Request {
	hs.mu.Lock()
	defer hs.mu.Unlock()
	return append([]*http.Request(nil), hs.requests...)
}

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func redirectTo(location string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/final" {
			io.WriteString(w, sourceBody)
			return
		}
		http.Redirect(w, r, location, http.StatusFound)
	}
}

func TestRedirectToRefusedURL(t *testing.T) {
	for _, location := range []string{
		"https://169.254.169.254/latest/meta-data/",
		"https://[::ffff:a9fe:a9fe]/",
		"https://metadata.google.internal/computeMetadata/v1/",
		"https://user@files.example.com/final",
		"file:///etc/passwd",
		"https://2852039166/",
	} {
		hs := newHarness(t, redirectTo(location), map[string]string{"files.example.com": egresstest.Public}, nil, egress.ClientOptions{})
		_, err := fetch(hs.client, mustURL(t, "https://files.example.com/fn.zip"))
		if !egress.IsDenied(err) {
			t.Errorf("redirect to %s: error = %v, want a policy refusal", location, err)
		}
		if n := len(hs.seen()); n != 1 {
			t.Errorf("redirect to %s: server saw %d requests, want 1", location, n)
		}
	}
}

func TestRedirectToNameResolvingInward(t *testing.T) {
	hs := newHarness(t, redirectTo("https://cdn.example.com/final"),
		map[string]string{"files.example.com": egresstest.Public, "cdn.example.com": "10.0.0.1"}, nil, egress.ClientOptions{})
	_, err := fetch(hs.client, mustURL(t, "https://files.example.com/fn.zip"))
	var d *egress.DeniedError
	if !errors.As(err, &d) || d.Host != "cdn.example.com" {
		t.Fatalf("error = %v, want a refusal of cdn.example.com's address", err)
	}
	if len(hs.dialer.Dialed()) != 1 {
		t.Fatalf("dialled %v; the second hop must not be dialled", hs.dialer.Dialed())
	}
}

func TestRedirectHopLimit(t *testing.T) {
	// /hop/N redirects to /hop/N+1 forever.
	loop := func(w http.ResponseWriter, r *http.Request) {
		n, _ := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/hop/"))
		http.Redirect(w, r, "/hop/"+strconv.Itoa(n+1), http.StatusFound)
	}
	for _, tc := range []struct{ max, wantRequests int }{{0, egress.DefaultMaxRedirects + 1}, {1, 2}, {-1, 1}} {
		hs := newHarness(t, loop, map[string]string{"files.example.com": egresstest.Public}, nil, egress.ClientOptions{MaxRedirects: tc.max})
		_, err := fetch(hs.client, mustURL(t, "https://files.example.com/hop/0"))
		if !errors.Is(err, egress.ErrTooManyRedirects) {
			t.Errorf("MaxRedirects=%d: error = %v, want ErrTooManyRedirects", tc.max, err)
		}
		if n := len(hs.seen()); n != tc.wantRequests {
			t.Errorf("MaxRedirects=%d: %d requests, want %d", tc.max, n, tc.wantRequests)
		}
	}

	hs := newHarness(t, redirectTo("/final"), map[string]string{"files.example.com": egresstest.Public}, nil, egress.ClientOptions{})
	if body, err := fetch(hs.client, mustURL(t, "https://files.example.com/fn.zip")); err != nil || body != sourceBody {
		t.Fatalf("one same-host redirect: %q, %v", body, err)
	}
}

func TestRedirectDowngradeRefused(t *testing.T) {
	hs := newHarness(t, redirectTo("http://files.example.com/final"), map[string]string{"files.example.com": egresstest.Public},
		map[string]string{egress.KeyAllowPlainHTTP: "true"}, egress.ClientOptions{})
	_, err := fetch(hs.client, mustURL(t, "https://files.example.com/fn.zip"))
	var d *egress.DeniedError
	if !errors.As(err, &d) || !strings.Contains(d.Reason, "https to http") {
		t.Fatalf("error = %v, want a refused downgrade", err)
	}
}

func TestRedirectAcrossOriginsDropsHeaders(t *testing.T) {
	hs := newHarness(t, redirectTo("https://cdn.example.com/final"),
		map[string]string{"files.example.com": egresstest.Public, "cdn.example.com": egresstest.Public}, nil, egress.ClientOptions{})
	req := (&http.Request{Method: http.MethodGet, URL: mustURL(t, "https://files.example.com/fn.zip"), Header: http.Header{
		"X-V3io-Session-Key": {"secret"}, "Authorization": {"token secret"}, "Accept": {"application/zip"},
	}})
	resp, err := hs.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	seen := hs.seen()
	if len(seen) != 2 {
		t.Fatalf("%d requests", len(seen))
	}
	if seen[0].Header.Get("X-V3io-Session-Key") != "secret" {
		t.Fatalf("first request lost its headers: %v", seen[0].Header)
	}
	h := seen[1].Header
	if h.Get("X-V3io-Session-Key") != "" || h.Get("Authorization") != "" || h.Get("Accept") != "application/zip" {
		t.Fatalf("cross-origin hop headers: %v", h)
	}
}

func TestResponseSizeLimit(t *testing.T) {
	const limit = 1024
	body := strings.Repeat("x", limit)
	handler := func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/declared":
			w.Header().Set("Content-Length", strconv.Itoa(limit+1))
			io.WriteString(w, body+"x")
		case "/streamed":
			io.WriteString(w, body)
			w.(http.Flusher).Flush() // no Content-Length: chunked
			io.WriteString(w, "x")
		case "/exact":
			w.(http.Flusher).Flush()
			io.WriteString(w, body)
		}
	}
	hs := newHarness(t, handler, map[string]string{"files.example.com": egresstest.Public}, nil, egress.ClientOptions{MaxResponseBytes: limit})
	if _, err := fetch(hs.client, mustURL(t, "https://files.example.com/declared")); !errors.Is(err, egress.ErrResponseTooLarge) {
		t.Errorf("declared: error = %v, want ErrResponseTooLarge", err)
	}
	if _, err := fetch(hs.client, mustURL(t, "https://files.example.com/streamed")); !errors.Is(err, egress.ErrResponseTooLarge) {
		t.Errorf("streamed: error = %v, want ErrResponseTooLarge", err)
	}
	if got, err := fetch(hs.client, mustURL(t, "https://files.example.com/exact")); err != nil || len(got) != limit {
		t.Errorf("exact: %d bytes, %v; want %d bytes", len(got), err, limit)
	}
}

func TestTimeout(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	hs := newHarness(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}, map[string]string{"files.example.com": egresstest.Public}, nil, egress.ClientOptions{Timeout: 50 * time.Millisecond})
	_, err := fetch(hs.client, mustURL(t, "https://files.example.com/slow"))
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("error = %v, want a timeout", err)
	}
}

// TestProxyEnvironmentIgnored runs in a child process because net/http
// reads the proxy variables once per process.
func TestProxyEnvironmentIgnored(t *testing.T) {
	if os.Getenv("EGRESS_TEST_PROXY_CHILD") != "1" {
		cmd := exec.Command(os.Args[0], "-test.run=^TestProxyEnvironmentIgnored$", "-test.count=1")
		cmd.Env = append(os.Environ(), "EGRESS_TEST_PROXY_CHILD=1", "NO_PROXY=", "no_proxy=")
		for _, k := range []string{"HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY"} {
			cmd.Env = append(cmd.Env, k+"=http://127.0.0.1:9")
		}
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("child test: %v\n%s", err, out)
		}
		return
	}
	if p, _ := http.ProxyFromEnvironment(&http.Request{URL: mustURL(t, "https://files.example.com/")}); p == nil {
		t.Fatal("the proxy environment did not reach the child")
	}
	hs := newHarness(t, redirectTo("/final"), map[string]string{"files.example.com": egresstest.Public}, nil, egress.ClientOptions{})
	if body, err := fetch(hs.client, mustURL(t, "https://files.example.com/final")); err != nil || body != sourceBody {
		t.Fatalf("got %q, %v", body, err)
	}
	for _, d := range hs.dialer.Dialed() {
		if !strings.HasPrefix(d, egresstest.StandIn.String()+":") {
			t.Fatalf("dialled %s: the proxy from the environment was used", d)
		}
	}
}

func TestLimitBody(t *testing.T) {
	r := egress.LimitBody(io.NopCloser(strings.NewReader("abcdef")), 3)
	b, err := io.ReadAll(r)
	if string(b) != "abc" || !errors.Is(err, egress.ErrResponseTooLarge) {
		t.Fatalf("got %q, %v", b, err)
	}
	if _, err := r.Read(make([]byte, 1)); !errors.Is(err, egress.ErrResponseTooLarge) {
		t.Fatalf("second read: %v; the error must stick", err)
	}
	r = egress.LimitBody(io.NopCloser(strings.NewReader("abc")), 3)
	if b, err := io.ReadAll(r); string(b) != "abc" || err != nil {
		t.Fatalf("exact: %q, %v", b, err)
	}
}

func TestCheckURLJudgesWhatIsSent(t *testing.T) {
	p := egress.DefaultPolicy()
	for _, u := range []*url.URL{
		{Scheme: "https", Host: "example.com", User: url.UserPassword("a", "b"), Path: "/"},
		{Scheme: "https", Host: "169.254.169.254"},
		{Scheme: "https", Opaque: "//169.254.169.254/x"},
		{Path: "/etc/passwd"},
		{},
	} {
		if err := p.CheckURL(u); !egress.IsDenied(err) {
			t.Errorf("CheckURL(%#v) = %v, want a refusal", u, err)
		}
	}
	if err := p.CheckURL(mustURL(t, "https://example.com/fn.zip?sig=abc")); err != nil {
		t.Errorf("CheckURL = %v", err)
	}
	// Refusals do not echo query strings, which may hold signatures.
	err := p.CheckURL(mustURL(t, "https://10.0.0.1/fn.zip?X-Amz-Signature=secret"))
	if err == nil || strings.Contains(err.Error(), "secret") {
		t.Errorf("CheckURL error %v leaks the query", err)
	}
}

func TestValidateURLReturnsTheParsedURL(t *testing.T) {
	u, ferr := egress.DefaultPolicy().ValidateURL("HTTPS://GitHub.com./org/repo/archive/main.zip?x=1#f", nil)
	if ferr != nil {
		t.Fatal(ferr)
	}
	if u.Scheme != "https" || u.Host != "GitHub.com." || u.RawQuery != "x=1" || u.Fragment != "f" {
		t.Fatalf("parsed %#v", u)
	}
	if _, ferr := egress.DefaultPolicy().ValidateURL("", nil); ferr == nil {
		t.Fatal("an empty URL must be refused")
	}
}
