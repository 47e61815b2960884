// Copyright The nuclio-apiserver Authors.
// SPDX-License-Identifier: Apache-2.0

package gitclient_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"testing"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing/transport"
	"github.com/go-git/go-git/v5/plumbing/transport/client"
	"github.com/go-git/go-git/v5/storage/memory"

	"github.com/nuclio-apiserver/nuclio-apiserver/pkg/egress"
	"github.com/nuclio-apiserver/nuclio-apiserver/pkg/egress/egresstest"
	"github.com/nuclio-apiserver/nuclio-apiserver/pkg/egress/gitclient"
)

const repoHost = "git.example.com"

// install routes go-git through a guarded client whose repository host
// resolves to answer, restoring go-git's transports afterwards. A loopback
// TLS server records the requests that get through and answers 404.
func install(t *testing.T, answer netip.Addr) (*egresstest.Resolver, *egresstest.Dialer, func() []string) {
	t.Helper()
	saved := maps.Clone(client.Protocols)
	t.Cleanup(func() { client.Protocols = saved })

	var mu sync.Mutex
	var requests []string
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		requests = append(requests, r.URL.RequestURI())
		mu.Unlock()
		http.NotFound(w, r)
	}))
	t.Cleanup(srv.Close)
	roots := x509.NewCertPool()
	roots.AddCert(srv.Certificate())

	p, errs := egress.PolicyFromConfigMapData(map[string]string{egress.KeyAllowedCIDRs: egresstest.StandInCIDR})
	if len(errs) != 0 {
		t.Fatal(errs)
	}
	resolver := &egresstest.Resolver{T: t, Answers: map[string][][]netip.Addr{repoHost: {{answer}}}}
	dialer := &egresstest.Dialer{T: t, Target: srv.Listener.Addr().String()}
	gitclient.Install(egress.NewClient(egress.NewGuard(p, egress.GuardOptions{Resolver: resolver, Dialer: dialer}),
		egress.ClientOptions{TLSClientConfig: &tls.Config{RootCAs: roots, ServerName: "example.com"}}))
	return resolver, dialer, func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), requests...)
	}
}

func list(url string) error {
	remote := git.NewRemote(memory.NewStorage(), &config.RemoteConfig{Name: "origin", URLs: []string{url}})
	_, err := remote.ListContext(context.Background(), &git.ListOptions{})
	return err
}

func TestRefDiscoveryGoesThroughGuard(t *testing.T) {
	_, dialer, requests := install(t, egresstest.StandIn)
	err := list("https://" + repoHost + "/org/repo.git")
	if !errors.Is(err, transport.ErrRepositoryNotFound) {
		t.Fatalf("list error = %v, want %v from the loopback server", err, transport.ErrRepositoryNotFound)
	}
	got := requests()
	if len(got) != 1 || got[0] != "/org/repo.git/info/refs?service=git-upload-pack" {
		t.Fatalf("server saw %q", got)
	}
	if d := dialer.Dialed(); len(d) != 1 || !strings.HasPrefix(d[0], egresstest.StandIn.String()+":") {
		t.Fatalf("dialled %v", d)
	}
}

func TestRepositoryResolvingInwardIsRefused(t *testing.T) {
	_, dialer, requests := install(t, netip.MustParseAddr("10.0.0.1"))
	err := list("https://" + repoHost + "/org/repo.git")
	if !egress.IsDenied(err) {
		t.Fatalf("list error = %v, want a policy refusal", err)
	}
	if len(dialer.Dialed()) != 0 || len(requests()) != 0 {
		t.Fatalf("dialled %v, server saw %q; want nothing", dialer.Dialed(), requests())
	}
}

func TestOtherTransportsAreRemoved(t *testing.T) {
	_, dialer, _ := install(t, egresstest.StandIn)
	for _, url := range []string{
		"file:///var/run/secrets/kubernetes.io/serviceaccount",
		"/var/run/secrets",
		"git://" + repoHost + "/org/repo.git",
		"ssh://git@" + repoHost + "/org/repo.git",
		"git@" + repoHost + ":org/repo.git",
	} {
		err := list(url)
		if err == nil || !strings.Contains(err.Error(), "unsupported scheme") {
			t.Errorf("%s: error = %v, want unsupported scheme", url, err)
		}
	}
	if len(dialer.Dialed()) != 0 {
		t.Fatalf("dialled %v", dialer.Dialed())
	}
}

func TestURLRefusedBeforeResolving(t *testing.T) {
	resolver, dialer, _ := install(t, egresstest.StandIn)
	for _, url := range []string{
		"https://169.254.169.254/org/repo.git",
		"https://user:token@" + repoHost + "/org/repo.git",
		"https://kubernetes.default.svc/org/repo.git",
	} {
		if err := list(url); !egress.IsDenied(err) {
			t.Errorf("%s: error = %v, want a policy refusal", url, err)
		}
	}
	if resolver.Lookups(repoHost) != 0 || len(dialer.Dialed()) != 0 {
		t.Fatalf("resolved %d times, dialled %v", resolver.Lookups(repoHost), dialer.Dialed())
	}
}
