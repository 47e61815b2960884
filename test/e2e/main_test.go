// Copyright The nuclio-apiserver Authors.
// SPDX-License-Identifier: Apache-2.0

// Package e2e drives a real local control plane (test/harness) through kubectl and the generated
// clientset, the way users and controllers reach nuclio.io. It runs under `make test` (which builds the
// binaries and sets NUCLIO_E2E_BIN_DIR); a plain `go test ./...` skips it.
package e2e

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"k8s.io/client-go/rest"

	nuclioclient "github.com/nuclio-apiserver/nuclio-apiserver/pkg/generated/clientset/versioned"
	"github.com/nuclio-apiserver/nuclio-apiserver/test/harness"
)

// cp is the control plane shared by every test of the package (starting one takes a few seconds).
var cp *harness.ControlPlane

// nuclio is a cluster-admin client of the nuclio.io API.
var nuclio nuclioclient.Interface

// repoRoot is the repository, two levels up from this package.
var repoRoot = mustAbs("../..")

func TestMain(m *testing.M) {
	binDir := os.Getenv("NUCLIO_E2E_BIN_DIR")
	if binDir == "" {
		fmt.Println("skipping e2e: NUCLIO_E2E_BIN_DIR is not set (make test sets it after building the binaries)")
		os.Exit(0)
	}
	os.Exit(run(m, binDir))
}

func run(m *testing.M, binDir string) int {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	ports, err := harness.FreePorts()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	dir := filepath.Join(repoRoot, "_output", "e2e")
	fmt.Printf("starting the control plane in %s\n", dir)
	cp, err = harness.Start(ctx, harness.Options{
		Dir: dir, BinDir: binDir, RepoRoot: repoRoot, Ports: ports, Progress: os.Stdout, Users: harness.DefaultUsers(),
	})
	if err != nil {
		fmt.Fprintf(os.Stderr, "control plane: %v\n", err)
		return 1
	}
	defer cp.Stop()
	if nuclio, err = nuclioclient.NewForConfig(rest.CopyConfig(cp.Admin)); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	code := m.Run()
	if code != 0 {
		fmt.Printf("component logs are in %s\n", filepath.Join(dir, "logs"))
	}
	return code
}

// kubectl runs the pinned kubectl as user ("admin" for cluster admin) and returns stdout, stderr.
func kubectl(t *testing.T, user string, stdin []byte, args ...string) (string, string, error) {
	t.Helper()
	kubeconfig := cp.AdminKubeconfig
	if user != "admin" {
		kubeconfig = cp.UserKubeconfigs[user]
		if kubeconfig == "" {
			t.Fatalf("no kubeconfig for user %q", user)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	// A private discovery cache: ports are reused across runs, and kubectl's default cache in ~/.kube
	// would serve another run's discovery.
	base := []string{"--kubeconfig", kubeconfig, "--cache-dir", filepath.Join(cp.Dir(), "kubectl-cache")}
	cmd := exec.CommandContext(ctx, filepath.Join(cp.BinDir(), "kubectl"), append(base, args...)...)
	cmd.Env = append(os.Environ(), "NO_PROXY=*", "HTTPS_PROXY=", "HTTP_PROXY=")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	err := cmd.Run()
	return stdout.String(), stderr.String(), err
}

// mustKubectl is kubectl that fails the test on error.
func mustKubectl(t *testing.T, user string, stdin []byte, args ...string) string {
	t.Helper()
	out, errOut, err := kubectl(t, user, stdin, args...)
	if err != nil {
		t.Fatalf("kubectl %s (as %s): %v\nstdout: %s\nstderr: %s", strings.Join(args, " "), user, err, out, errOut)
	}
	return out
}

// createNamespace makes a fresh namespace for one test and removes it afterwards.
func createNamespace(t *testing.T, name string) string {
	t.Helper()
	mustKubectl(t, "admin", nil, "create", "namespace", name)
	t.Cleanup(func() {
		_, _, _ = kubectl(t, "admin", nil, "delete", "namespace", name, "--wait=false")
	})
	return name
}

func mustAbs(p string) string {
	a, err := filepath.Abs(p)
	if err != nil {
		panic(err)
	}
	return a
}

// eventually polls f every 200ms until it returns nil or timeout passes, then fails with f's last error.
func eventually(t *testing.T, timeout time.Duration, f func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		err := f()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("condition not met after %s: %v", timeout, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
