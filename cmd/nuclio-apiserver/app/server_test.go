// Copyright The nuclio-apiserver Authors.
// SPDX-License-Identifier: Apache-2.0

package app

import (
	"bytes"
	"context"
	"crypto/x509"
	"strings"
	"testing"

	"k8s.io/apiserver/pkg/authentication/authenticatorfactory"
	"k8s.io/apiserver/pkg/server/dynamiccertificates"
)

// TestCommandFlags builds the command (which registers every flag: duplicate names panic) and checks the
// flags the README documents.
func TestCommandFlags(t *testing.T) {
	var out bytes.Buffer
	cmd := NewCommand(context.Background(), NewOptions(&out, &out))
	for _, name := range []string{"embedded-etcd-dir", "self-signed-cert-alternate-dns", "version", "etcd-servers",
		"etcd-prefix", "encryption-provider-config", "shutdown-watch-termination-grace-period", "emulated-version",
		"kubeconfig", "authentication-kubeconfig", "authorization-kubeconfig", "enable-admission-plugins"} {
		if cmd.Flags().Lookup(name) == nil {
			t.Errorf("flag --%s is missing", name)
		}
	}
	if got := cmd.Flags().Lookup("etcd-prefix").DefValue; got != DefaultEtcdPathPrefix {
		t.Errorf("--etcd-prefix default %q, want %q", got, DefaultEtcdPathPrefix)
	}
}

func TestVersionFlag(t *testing.T) {
	var out bytes.Buffer
	cmd := NewCommand(context.Background(), NewOptions(&out, &out))
	cmd.SetArgs([]string{"--version"})
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out.String(), "nuclio-apiserver ") || !strings.Contains(out.String(), "nuclio 1.14.1") {
		t.Errorf("--version printed %q", out.String())
	}
}

// staticCA is a CA content provider with fixed content.
type staticCA []byte

func (s staticCA) Name() string                              { return "static" }
func (s staticCA) CurrentCABundleContent() []byte            { return s }
func (s staticCA) VerifyOptions() (x509.VerifyOptions, bool) { return x509.VerifyOptions{}, len(s) > 0 }
func (s staticCA) AddListener(dynamiccertificates.Listener)  {}
func (s staticCA) Run(context.Context, int)                  {}
func (s staticCA) RunOnce(context.Context) error             { return nil }

func TestFrontProxyCACheck(t *testing.T) {
	if err := frontProxyCACheck(nil).Check(nil); err != nil {
		t.Errorf("without request-header authentication: %v", err)
	}
	empty := &authenticatorfactory.RequestHeaderConfig{CAContentProvider: staticCA(nil)}
	if err := frontProxyCACheck(empty).Check(nil); err == nil {
		t.Error("ready before the front-proxy CA was loaded")
	}
	loaded := &authenticatorfactory.RequestHeaderConfig{CAContentProvider: staticCA("-----BEGIN CERTIFICATE-----")}
	if err := frontProxyCACheck(loaded).Check(nil); err != nil {
		t.Errorf("loaded CA: %v", err)
	}
}
