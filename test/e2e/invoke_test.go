// Copyright The nuclio-apiserver Authors.
// SPDX-License-Identifier: Apache-2.0

package e2e

import (
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TestInvokeAndLog calls a function through nucliofunctions/invoke. The function's Service gets a
// ClusterIP from the loopback service CIDR, and a stand-in processor listens on that address's port
// 8080 in this test process, so the whole path — kubectl, kube-apiserver, nuclio-apiserver's proxy, the
// Service address — is real and stays on loopback.
func TestInvokeAndLog(t *testing.T) {
	ctx := context.Background()
	ns := "team-a"
	mustKubectl(t, "alice", []byte(`apiVersion: nuclio.io/v1beta1
kind: NuclioFunction
metadata: {name: invoked}
spec: {runtime: python, handler: "main:handler", image: "registry.example.com/invoked:1"}
`), "apply", "-f", "-")
	defer mustKubectl(t, "alice", nil, "delete", "nfn", "invoked")

	// Before the function has a Service, invoke says so.
	_, errOut, err := kubectl(t, "alice", []byte("x"), "create", "--raw", "/apis/nuclio.io/v1beta1/namespaces/team-a/nucliofunctions/invoked/invoke", "-f", "-")
	if err == nil || !strings.Contains(errOut, "has no Service") {
		t.Errorf("invoke without a Service: %v %s", err, errOut)
	}

	svc, err := cp.Kube.CoreV1().Services(ns).Create(ctx, &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "nuclio-invoked"},
		Spec: corev1.ServiceSpec{Selector: map[string]string{"nuclio.io/function-name": "invoked"},
			Ports: []corev1.ServicePort{{Name: "http", Port: 8080}}},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer cp.Kube.CoreV1().Services(ns).Delete(ctx, svc.Name, metav1.DeleteOptions{})
	if !strings.HasPrefix(svc.Spec.ClusterIP, "127.96.") {
		t.Fatalf("ClusterIP %s is not in the loopback service CIDR", svc.Spec.ClusterIP)
	}
	l, err := net.Listen("tcp", net.JoinHostPort(svc.Spec.ClusterIP, "8080"))
	if err != nil {
		t.Fatal(err)
	}
	var gotPath, gotTarget, gotUser string
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		gotPath, gotTarget, gotUser = r.URL.Path, r.Header.Get("X-Nuclio-Target"), r.Header.Get("X-Remote-User")
		_, _ = io.WriteString(w, "Hello, from nuclio :] "+string(body))
	})}
	go srv.Serve(l)
	defer srv.Close()

	out := mustKubectl(t, "alice", []byte("ping"), "create", "--raw", "/apis/nuclio.io/v1beta1/namespaces/team-a/nucliofunctions/invoked/invoke/greet", "-f", "-")
	if out != "Hello, from nuclio :] ping" {
		t.Errorf("invoke returned %q", out)
	}
	if gotPath != "/greet" || gotTarget != "invoked" || gotUser != "" {
		t.Errorf("the processor saw path %q, X-Nuclio-Target %q, X-Remote-User %q", gotPath, gotTarget, gotUser)
	}
	if out := mustKubectl(t, "alice", nil, "get", "--raw", "/apis/nuclio.io/v1beta1/namespaces/team-a/nucliofunctions/invoked/invoke"); !strings.HasPrefix(out, "Hello") {
		t.Errorf("GET invoke returned %q", out)
	}
	// carol may read functions but not invoke them.
	if _, errOut, err := kubectl(t, "carol", []byte("ping"), "create", "--raw", "/apis/nuclio.io/v1beta1/namespaces/team-a/nucliofunctions/invoked/invoke", "-f", "-"); err == nil || !strings.Contains(errOut, "forbidden") {
		t.Errorf("carol invoked a function: %v %s", err, errOut)
	}

	// The log subresource looks for the function's processor pods.
	_, errOut, err = kubectl(t, "carol", nil, "get", "--raw", "/apis/nuclio.io/v1beta1/namespaces/team-a/nucliofunctions/invoked/log")
	if err == nil || !strings.Contains(errOut, "processor pod of function invoked") {
		t.Errorf("log without pods: %v %s", err, errOut)
	}
}
