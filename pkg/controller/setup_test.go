// Copyright The nuclio-apiserver Authors.
// SPDX-License-Identifier: Apache-2.0

package controller

import (
	"bufio"
	"bytes"
	"io"
	"os"
	"path/filepath"
	"testing"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/labels"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"

	"github.com/nuclio-apiserver/nuclio-apiserver/pkg/controller/config"
	"github.com/nuclio-apiserver/nuclio-apiserver/pkg/controller/internal/child"
	"github.com/nuclio-apiserver/nuclio-apiserver/pkg/masking"
)

func TestCacheOptions(t *testing.T) {
	cfg := config.Default()
	opts := CacheOptions(cfg)
	if opts.DefaultNamespaces != nil {
		t.Errorf("all namespaces by default, got %v", opts.DefaultNamespaces)
	}
	var secrets, configMaps labels.Selector
	for obj, by := range opts.ByObject {
		switch obj.(type) {
		case *corev1.Secret:
			secrets = by.Label
		case *corev1.ConfigMap:
			configMaps = by.Label
		}
	}
	if secrets == nil || configMaps == nil {
		t.Fatal("Secrets and ConfigMaps must be label-filtered")
	}
	for _, tc := range []struct {
		sel  labels.Selector
		set  labels.Set
		want bool
	}{
		{secrets, labels.Set{child.LabelManagedBy: masking.ManagedByValue}, true},
		{secrets, labels.Set{child.LabelManagedBy: child.ManagedBy}, true},
		{secrets, labels.Set{}, false},
		{secrets, labels.Set{child.LabelManagedBy: "helm"}, false},
		{configMaps, labels.Set{child.LabelManagedBy: child.ManagedBy}, true},
		{configMaps, labels.Set{child.LabelManagedBy: masking.ManagedByValue}, false},
	} {
		if got := tc.sel.Matches(tc.set); got != tc.want {
			t.Errorf("%s matches %v = %v", tc.sel, tc.set, got)
		}
	}
	cfg.Namespace = "team-a"
	if opts := CacheOptions(cfg); len(opts.DefaultNamespaces) != 1 {
		t.Errorf("namespaced mode: %v", opts.DefaultNamespaces)
	}
}

// The shipped RBAC grants what the controller does, and no more than reviewed here.
func TestRBAC(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "..", "artifacts", "controller", "rbac.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var role *rbacv1.ClusterRole
	reader := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(raw)))
	for {
		doc, err := reader.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		var meta struct{ Kind string }
		if err := yaml.Unmarshal(doc, &meta); err != nil {
			t.Fatal(err)
		}
		if meta.Kind == "ClusterRole" {
			role = &rbacv1.ClusterRole{}
			if err := yaml.UnmarshalStrict(doc, role); err != nil {
				t.Fatal(err)
			}
		}
	}
	if role == nil {
		t.Fatal("no ClusterRole")
	}
	allowed := func(group, resource, verb string) bool {
		for _, r := range role.Rules {
			if contains(r.APIGroups, group) && contains(r.Resources, resource) && contains(r.Verbs, verb) {
				return true
			}
		}
		return false
	}
	for _, need := range [][3]string{
		{"nuclio.io", "nucliofunctions", "watch"},
		{"nuclio.io", "nucliofunctions/status", "update"},
		{"nuclio.io", "nuclioprojects/status", "update"},
		{"nuclio.io", "nuclioapigateways/status", "update"},
		{"nuclio.io", "nuclioprojects", "create"},
		{"nuclio.io", "nuclioprojects", "patch"},
		{"nuclio.io", "nucliofunctions", "delete"},
		{"nuclio.io", "nuclioapigateways", "delete"},
		{"nuclio.io", "nucliofunctionevents", "update"},
		{"", "secrets", "get"},
		{"", "secrets", "watch"},
		{"", "pods", "list"},
		{"", "pods/log", "get"},
		{"", "serviceaccounts", "create"},
		{"batch", "jobs", "patch"},
		{"apps", "deployments", "update"},
		{"autoscaling", "horizontalpodautoscalers", "delete"},
		{"networking.k8s.io", "ingresses", "create"},
		{"events.k8s.io", "events", "create"},
	} {
		if !allowed(need[0], need[1], need[2]) {
			t.Errorf("rbac.yaml does not grant %s on %s/%s", need[2], need[0], need[1])
		}
	}
	for _, deny := range [][3]string{
		{"nuclio.io", "nucliofunctions", "update"}, // the spec is never written
		{"nuclio.io", "nucliofunctions", "deletecollection"},
		{"", "pods", "delete"},
		{"", "secrets", "patch"},
		{"", "serviceaccounts", "delete"},
	} {
		if allowed(deny[0], deny[1], deny[2]) {
			t.Errorf("rbac.yaml grants %s on %s/%s, which the controller does not need", deny[2], deny[0], deny[1])
		}
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s || v == "*" {
			return true
		}
	}
	return false
}
