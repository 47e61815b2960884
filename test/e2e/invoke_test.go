// Copyright The nuclio-apiserver Authors.
// SPDX-License-Identifier: Apache-2.0

package e2e

import (
	"strings"
	"testing"
)

// TestInvokeAndLogRefusals: invoke and log explain what is missing for a function that is stored but not
// deployed (skip-deploy, Nuclio's "imported"), and RBAC decides who may invoke. The successful path is
// TestInvokeDeployedFunction.
func TestInvokeAndLogRefusals(t *testing.T) {
	mustKubectl(t, "alice", []byte(`apiVersion: nuclio.io/v1beta1
kind: NuclioFunction
metadata: {name: imported, annotations: {skip-deploy: "true"}}
spec: {runtime: python, handler: "main:handler", image: "registry.example.com/imported:1"}
`), "apply", "-f", "-")
	defer mustKubectl(t, "alice", nil, "delete", "nfn", "imported")

	_, errOut, err := kubectl(t, "alice", []byte("x"), "create", "--raw", "/apis/nuclio.io/v1beta1/namespaces/team-a/nucliofunctions/imported/invoke", "-f", "-")
	if err == nil || !strings.Contains(errOut, "has no Service") {
		t.Errorf("invoke without a Service: %v %s", err, errOut)
	}
	// carol may read functions but not invoke them.
	if _, errOut, err := kubectl(t, "carol", []byte("ping"), "create", "--raw", "/apis/nuclio.io/v1beta1/namespaces/team-a/nucliofunctions/imported/invoke", "-f", "-"); err == nil || !strings.Contains(errOut, "forbidden") {
		t.Errorf("carol invoked a function: %v %s", err, errOut)
	}
	// The log subresource looks for the function's processor pods; carol may read logs.
	_, errOut, err = kubectl(t, "carol", nil, "get", "--raw", "/apis/nuclio.io/v1beta1/namespaces/team-a/nucliofunctions/imported/log")
	if err == nil || !strings.Contains(errOut, "processor pod of function imported") {
		t.Errorf("log without pods: %v %s", err, errOut)
	}
}
