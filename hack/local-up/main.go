// Copyright The nuclio-apiserver Authors.
// SPDX-License-Identifier: Apache-2.0

// Command local-up runs the local control plane of `make run` in the foreground until Ctrl-C: etcd,
// kube-apiserver, kube-controller-manager, kube-scheduler, kwok and nuclio-apiserver, all on loopback.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/nuclio-apiserver/nuclio-apiserver/test/harness"
)

func main() {
	root := flag.String("repo", ".", "Repository root (where artifacts/ and _output/ are).")
	dir := flag.String("dir", "_output/local", "State directory (wiped on start): certificates, kubeconfigs, logs, data.")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	started := time.Now()
	fmt.Println("Starting the local control plane (all on 127.0.0.1):")
	cp, err := harness.Start(ctx, harness.Options{
		Dir: *dir, RepoRoot: *root, Ports: harness.DefaultPorts(), Progress: os.Stdout, Users: harness.DefaultUsers(),
	})
	if err != nil {
		fmt.Fprintf(os.Stderr, "\nlocal-up: %v\n", err)
		os.Exit(1)
	}
	defer func() {
		fmt.Println("\nStopping…")
		cp.Stop()
		fmt.Println("Stopped.")
	}()

	rel := func(p string) string {
		if r, err := filepath.Rel(mustWd(), p); err == nil {
			return r
		}
		return p
	}
	kubectl := rel(filepath.Join(cp.BinDir(), "kubectl"))
	fmt.Printf(`
Ready in %.0fs. kube-apiserver: https://127.0.0.1:%d   logs: %s

Try, as cluster admin:
  export KUBECONFIG=%s
  %s get apiservice v1beta1.nuclio.io
  %s api-resources --api-group=nuclio.io
  %s explain nucliofunction.spec.build

As alice (admin of namespace team-a), apply a real Nuclio function (walkthrough in README.md), then:
  %s --kubeconfig %s get nuclio
  %s --kubeconfig %s get nfn -o wide
As carol (view only in team-a) and bob (admin of team-b), see RBAC at work:
  %s --kubeconfig %s auth can-i create nucliofunctions -n team-a
  %s --kubeconfig %s get nucliofunctions -n team-a

Press Ctrl-C to stop.
`, time.Since(started).Seconds(), cp.Ports().KubeAPIServer, rel(filepath.Join(cp.Dir(), "logs")),
		rel(cp.AdminKubeconfig), kubectl, kubectl, kubectl,
		kubectl, rel(cp.UserKubeconfigs["alice"]), kubectl, rel(cp.UserKubeconfigs["alice"]),
		kubectl, rel(cp.UserKubeconfigs["carol"]), kubectl, rel(cp.UserKubeconfigs["bob"]))

	<-ctx.Done()
}

func mustWd() string {
	wd, err := os.Getwd()
	if err != nil {
		return "."
	}
	return wd
}
