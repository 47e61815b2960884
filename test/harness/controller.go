// Copyright The nuclio-apiserver Authors.
// SPDX-License-Identifier: Apache-2.0

package harness

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"k8s.io/utils/ptr"
)

// ControllerName is nuclio-controller's ServiceAccount and process name.
const ControllerName = "nuclio-controller"

// controllerConfig is nuclio-controller's --config for local runs: kwok runs no container, so the
// registry and images are names only; build Jobs are kept briefly so tests can inspect them.
const controllerConfig = `registry: localhost:5000/nuclio
registrySecret: ""
jobTTLSecondsAfterFinished: 300
readinessTimeout: 60s
`

// startController installs nuclio-controller with its RBAC from artifacts/controller/rbac.yaml and a
// token of its ServiceAccount, and starts it. nuclio.io must already be served.
func (cp *ControlPlane) startController(ctx context.Context) error {
	if err := cp.ApplyFiles(ctx, filepath.Join(cp.opts.RepoRoot, "artifacts", "controller", "rbac.yaml")); err != nil {
		return err
	}
	tr, err := cp.Kube.CoreV1().ServiceAccounts(SystemNamespace).CreateToken(ctx, ControllerName, &authenticationv1.TokenRequest{
		Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: ptr.To[int64](7 * 24 * 3600)},
	}, metav1.CreateOptions{})
	if err != nil {
		return fmt.Errorf("requesting a token for %s/%s: %w", SystemNamespace, ControllerName, err)
	}
	dir := filepath.Join(cp.opts.Dir, ControllerName)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "config.yaml"), []byte(controllerConfig), 0o644); err != nil {
		return err
	}
	kubeconfig := filepath.Join(cp.opts.Dir, ControllerName+".kubeconfig")
	if err := writeKubeconfig(kubeconfig, cp.kasURL(), cp.ca.CertFile, ControllerName, &clientcmdapi.AuthInfo{Token: tr.Status.Token}); err != nil {
		return err
	}
	cp.controllerArgs = []string{
		"--kubeconfig=" + kubeconfig,
		"--config=" + filepath.Join(dir, "config.yaml"),
		"--metrics-bind-address=0",
		"--health-probe-bind-address=" + addr(cp.opts.Ports.ControllerHealth),
	}
	return cp.StartController(ctx)
}

// StartController starts (or restarts, after StopController) nuclio-controller and waits for /readyz.
func (cp *ControlPlane) StartController(ctx context.Context) error {
	proc := &Process{Name: ControllerName, Path: cp.bin(ControllerName), LogFile: cp.logf(ControllerName), Args: cp.controllerArgs}
	cp.replace(cp.controller, proc)
	cp.controller = proc
	if err := proc.start(); err != nil {
		return err
	}
	hc := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{Proxy: nil}}
	return proc.waitFor(ctx, 60*time.Second, func(ctx context.Context) error {
		return httpOK(ctx, hc, "http://"+addr(cp.opts.Ports.ControllerHealth)+"/readyz")
	})
}

// StopController stops nuclio-controller (SIGTERM, then SIGKILL after the grace period).
func (cp *ControlPlane) StopController() {
	if cp.controller != nil {
		cp.controller.stop(35 * time.Second)
	}
}
