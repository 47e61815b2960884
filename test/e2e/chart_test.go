// Copyright The nuclio-apiserver Authors.
// SPDX-License-Identifier: Apache-2.0

package e2e

import (
	"bytes"
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/yaml"

	"github.com/nuclio-apiserver/nuclio-apiserver/test/harness"
)

// TestChartServerSideDryRun renders the Helm chart with several value sets and sends every object to the
// local control plane as a server-side dry-run, so kube-apiserver's own validation (and, for our kinds,
// nuclio-apiserver's) judges what the chart would install. cert-manager's kinds are left out: the
// control plane has no cert-manager CRDs (test/chart checks their shape offline).
func TestChartServerSideDryRun(t *testing.T) {
	helm := filepath.Join(cp.BinDir(), "helm")
	kubeVersion := "v1.37.2"
	// The namespaced-controller value set runs builds in its own namespace, which must exist.
	createNamespace(t, "nuclio-functions")
	for values, buildNamespaces := range map[string]string{
		"": "team-a", "external-etcd-ha-values.yaml": "team-a", "namespaced-controller-values.yaml": "nuclio-functions",
		"airgap-values.yaml": "team-a", "policy-parameters-values.yaml": "team-a",
	} {
		name := values
		if name == "" {
			name = "defaults"
		}
		t.Run(name, func(t *testing.T) {
			args := []string{"template", "nuclio-apiserver", filepath.Join(repoRoot, "charts", "nuclio-apiserver"),
				"--namespace", harness.SystemNamespace, "--kube-version", kubeVersion,
				"--set", "networkPolicy.builds.namespaces={" + buildNamespaces + "}"}
			if values != "" {
				args = append(args, "-f", filepath.Join(repoRoot, "charts", "nuclio-apiserver", "ci", values))
			}
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			var out, errOut bytes.Buffer
			cmd := exec.CommandContext(ctx, helm, args...)
			cmd.Stdout, cmd.Stderr = &out, &errOut
			if err := cmd.Run(); err != nil {
				t.Fatalf("helm template: %v\n%s", err, errOut.String())
			}
			objs, err := harness.DecodeManifests(out.Bytes())
			if err != nil {
				t.Fatal(err)
			}
			var docs []string
			kinds := map[string]int{}
			for _, o := range objs {
				if o.GroupVersionKind().Group == "cert-manager.io" {
					continue
				}
				if o.GetNamespace() == "" && o.GetKind() != "Namespace" && !clusterScoped[o.GetKind()] {
					o.SetNamespace(harness.SystemNamespace)
				}
				if o.GetKind() == "MutatingWebhookConfiguration" {
					// The harness's live configuration points at a loopback url; a dry-run apply under the same
					// name would merge the chart's service reference into it. Judge the chart's object alone.
					o.SetName(o.GetName() + "-chart-dry-run")
				}
				doc, err := yaml.Marshal(o.Object)
				if err != nil {
					t.Fatal(err)
				}
				docs = append(docs, string(doc))
				kinds[o.GetKind()]++
			}
			for _, want := range []string{"Deployment", "APIService", "MutatingWebhookConfiguration", "ValidatingAdmissionPolicy", "ClusterRole", "NetworkPolicy"} {
				if kinds[want] == 0 {
					t.Errorf("the chart rendered no %s (kinds: %v)", want, kinds)
				}
			}
			res, errs, err := kubectl(t, "admin", []byte(strings.Join(docs, "---\n")), "apply", "--server-side", "--force-conflicts",
				"--field-manager=chart-dry-run", "--dry-run=server", "-f", "-")
			if err != nil {
				t.Fatalf("server-side dry-run of %d objects: %v\n%s\n%s", len(docs), err, res, errs)
			}
			if n := strings.Count(res, "(server dry run)"); n != len(docs) {
				t.Errorf("dry-run reported %d objects, want %d:\n%s", n, len(docs), res)
			}
		})
	}
}

// clusterScoped kinds the chart renders.
var clusterScoped = map[string]bool{
	"ClusterRole": true, "ClusterRoleBinding": true, "APIService": true, "MutatingWebhookConfiguration": true,
	"ValidatingAdmissionPolicy": true, "ValidatingAdmissionPolicyBinding": true, "Namespace": true,
}
