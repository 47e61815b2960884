// Copyright The nuclio-apiserver Authors.
// SPDX-License-Identifier: Apache-2.0

package app

import (
	"bytes"
	"context"
	"strings"
	"testing"
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
