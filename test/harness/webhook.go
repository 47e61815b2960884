// Copyright The nuclio-apiserver Authors.
// SPDX-License-Identifier: Apache-2.0

package harness

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/wait"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"k8s.io/utils/ptr"
)

// WebhookName is the MutatingWebhookConfiguration of the credential-masking webhook.
const WebhookName = "nuclio-webhook"

// webhookConfig is nuclio-webhook's --config for local runs: short settle and orphan periods so that
// key pruning and orphan sweeping are observable within a test.
const webhookConfig = `settlePeriod: 5s
orphanGracePeriod: 30s
resyncPeriod: 30s
`

var mutatingWebhookGVR = schema.GroupVersionResource{Group: "admissionregistration.k8s.io", Version: "v1", Resource: "mutatingwebhookconfigurations"}

// startWebhook installs and starts nuclio-webhook the way a real install does — its ServiceAccount and
// RBAC from artifacts/webhook/rbac.yaml, the MutatingWebhookConfiguration from
// artifacts/webhook/mutating-webhook.yaml with the service reference replaced by a loopback url and the
// CA — plus the policies of artifacts/policies (plaintext backstop, build sources), and waits until
// nuclio-apiserver's admission chain masks credentials and refuses unsafe build sources.
func (cp *ControlPlane) startWebhook(ctx context.Context) error {
	if err := cp.ApplyFiles(ctx, filepath.Join(cp.opts.RepoRoot, "artifacts", "webhook", "rbac.yaml")); err != nil {
		return err
	}
	tr, err := cp.Kube.CoreV1().ServiceAccounts(SystemNamespace).CreateToken(ctx, WebhookName, &authenticationv1.TokenRequest{
		Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: ptr.To[int64](7 * 24 * 3600)},
	}, metav1.CreateOptions{})
	if err != nil {
		return fmt.Errorf("requesting a token for %s/%s: %w", SystemNamespace, WebhookName, err)
	}
	dir := filepath.Join(cp.opts.Dir, "nuclio-webhook")
	certDir := filepath.Join(dir, "certs")
	if err := os.MkdirAll(certDir, 0o700); err != nil {
		return err
	}
	// controller-runtime's webhook server reads tls.crt and tls.key from its cert directory.
	for src, dst := range map[string]string{"nuclio-webhook.crt": "tls.crt", "nuclio-webhook.key": "tls.key"} {
		data, err := os.ReadFile(cp.pki(src))
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(certDir, dst), data, 0o600); err != nil {
			return err
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "config.yaml"), []byte(webhookConfig), 0o644); err != nil {
		return err
	}
	kubeconfig := filepath.Join(cp.opts.Dir, "nuclio-webhook.kubeconfig")
	if err := writeKubeconfig(kubeconfig, cp.kasURL(), cp.ca.CertFile, WebhookName, &clientcmdapi.AuthInfo{Token: tr.Status.Token}); err != nil {
		return err
	}
	cp.webhookArgs = []string{
		"--kubeconfig=" + kubeconfig,
		"--cert-dir=" + certDir,
		"--bind-address=127.0.0.1", "--port=" + strconv.Itoa(cp.opts.Ports.Webhook),
		"--health-probe-bind-address=" + addr(cp.opts.Ports.WebhookHealth),
		"--metrics-bind-address=0",
		"--config=" + filepath.Join(dir, "config.yaml"),
	}
	if err := cp.StartWebhook(ctx); err != nil {
		return err
	}
	if err := cp.registerWebhook(ctx); err != nil {
		return err
	}
	if err := cp.ApplyFiles(ctx,
		filepath.Join(cp.opts.RepoRoot, "artifacts", "policies", "sensitive-fields.yaml"),
		filepath.Join(cp.opts.RepoRoot, "artifacts", "policies", "build-sources.yaml"),
		filepath.Join(cp.opts.RepoRoot, "artifacts", "policies", "secret-ownership.yaml")); err != nil {
		return err
	}
	if err := cp.waitMasking(ctx, 60*time.Second); err != nil {
		return err
	}
	return cp.waitBuildSourcePolicy(ctx, 60*time.Second)
}

// waitBuildSourcePolicy waits until nuclio-apiserver enforces the build-source policy (its admission
// plugin loads policies, bindings and the parameter ConfigMap through informers).
func (cp *ControlPlane) waitBuildSourcePolicy(ctx context.Context, timeout time.Duration) error {
	probe := &unstructured.Unstructured{Object: map[string]interface{}{
		"apiVersion": "nuclio.io/v1beta1", "kind": "NuclioFunction",
		"metadata": map[string]interface{}{"name": "harness-policy-probe", "namespace": "default"},
		"spec": map[string]interface{}{
			"runtime": "python", "handler": "main:handler",
			// An IP literal in the link-local range is refused on its face; nothing is ever fetched.
			"build": map[string]interface{}{"path": "https://169.254.169.254/latest/meta-data/"},
		},
	}}
	var last error
	err := wait.PollUntilContextTimeout(ctx, 250*time.Millisecond, timeout, true, func(ctx context.Context) (bool, error) {
		_, err := cp.Dynamic.Resource(functionGVR).Namespace("default").Create(ctx, probe, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
		if err == nil {
			last = errors.New("an unsafe build source was admitted")
			return false, nil
		}
		if !strings.Contains(err.Error(), "spec.build.path") {
			last = err
			return false, nil
		}
		return true, nil
	})
	if err != nil {
		return fmt.Errorf("build-source policy not enforced (%v): %w", last, err)
	}
	return nil
}

// StartWebhook starts (or restarts, after StopWebhook) nuclio-webhook and waits for its /readyz.
func (cp *ControlPlane) StartWebhook(ctx context.Context) error {
	proc := &Process{Name: "nuclio-webhook", Path: cp.bin("nuclio-webhook"), LogFile: cp.logf("nuclio-webhook"), Args: cp.webhookArgs}
	cp.replace(cp.webhook, proc)
	cp.webhook = proc
	if err := proc.start(); err != nil {
		return err
	}
	hc := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{Proxy: nil}}
	return proc.waitFor(ctx, 60*time.Second, func(ctx context.Context) error {
		return httpOK(ctx, hc, "http://"+addr(cp.opts.Ports.WebhookHealth)+"/readyz")
	})
}

// StopWebhook stops nuclio-webhook; its configuration stays registered, so writes that need it fail
// closed.
func (cp *ControlPlane) StopWebhook() {
	if cp.webhook != nil {
		cp.webhook.stop(15 * time.Second)
	}
}

// replace swaps a restarted process into the stop list (or appends a new one).
func (cp *ControlPlane) replace(old, proc *Process) {
	for i, p := range cp.procs {
		if p == old && old != nil {
			cp.procs[i] = proc
			return
		}
	}
	cp.procs = append(cp.procs, proc)
}

func (cp *ControlPlane) registerWebhook(ctx context.Context) error {
	data, err := os.ReadFile(filepath.Join(cp.opts.RepoRoot, "artifacts", "webhook", "mutating-webhook.yaml"))
	if err != nil {
		return err
	}
	objs, err := DecodeManifests(data)
	if err != nil || len(objs) != 1 {
		return fmt.Errorf("artifacts/webhook/mutating-webhook.yaml: want one object: %v", err)
	}
	ca, err := os.ReadFile(cp.ca.CertFile)
	if err != nil {
		return err
	}
	cfg := objs[0]
	webhooks, _, _ := unstructured.NestedSlice(cfg.Object, "webhooks")
	for i, w := range webhooks {
		m := w.(map[string]interface{})
		path, _, _ := unstructured.NestedString(m, "clientConfig", "service", "path")
		// Services cannot reach loopback; nuclio-apiserver's webhook plugin calls the url directly.
		m["clientConfig"] = map[string]interface{}{
			"url":      "https://" + addr(cp.opts.Ports.Webhook) + path,
			"caBundle": base64.StdEncoding.EncodeToString(ca),
		}
		webhooks[i] = m
	}
	if err := unstructured.SetNestedSlice(cfg.Object, webhooks, "webhooks"); err != nil {
		return err
	}
	_, err = cp.Dynamic.Resource(mutatingWebhookGVR).Apply(ctx, cfg.GetName(), cfg, metav1.ApplyOptions{FieldManager: "nuclio-harness", Force: true})
	return err
}

var functionGVR = schema.GroupVersionResource{Group: "nuclio.io", Version: "v1beta1", Resource: "nucliofunctions"}

// waitMasking waits until nuclio-apiserver has picked up the webhook configuration (its admission
// plugin watches kube-apiserver): a dry-run function with a trigger password must come back masked.
func (cp *ControlPlane) waitMasking(ctx context.Context, timeout time.Duration) error {
	probe := &unstructured.Unstructured{Object: map[string]interface{}{
		"apiVersion": "nuclio.io/v1beta1", "kind": "NuclioFunction",
		"metadata": map[string]interface{}{"name": "harness-masking-probe", "namespace": "default"},
		"spec": map[string]interface{}{
			"runtime": "golang", "image": "registry.example.com/probe:1",
			"triggers": map[string]interface{}{"probe": map[string]interface{}{"kind": "kafka-cluster", "password": "probe-not-a-secret"}},
		},
	}}
	var last error
	err := wait.PollUntilContextTimeout(ctx, 250*time.Millisecond, timeout, true, func(ctx context.Context) (bool, error) {
		out, err := cp.Dynamic.Resource(functionGVR).Namespace("default").Create(ctx, probe, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
		if err != nil {
			last = err
			return false, nil
		}
		pw, _, _ := unstructured.NestedString(out.Object, "spec", "triggers", "probe", "password")
		if !strings.HasPrefix(pw, "$ref:") {
			last = errors.New("credentials are not masked yet")
			return false, nil
		}
		return true, nil
	})
	if err != nil {
		return fmt.Errorf("masking webhook not effective (%v): %w", last, err)
	}
	return nil
}
