// Copyright The nuclio-apiserver Authors.
// SPDX-License-Identifier: Apache-2.0

package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/nuclio-apiserver/nuclio-apiserver/pkg/build"
)

func TestDefaults(t *testing.T) {
	c := Default()
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if c.KanikoImage != build.DefaultKanikoImage || c.BuilderServiceAccount != "nuclio-builder" || c.BuildTimeout.Duration != time.Hour ||
		*c.JobTTLSecondsAfterFinished != 600 || c.ReadinessTimeout.Duration != 120*time.Second || c.DefaultIngressClass != "nginx" ||
		c.DefaultServiceType != corev1.ServiceTypeClusterIP || c.PlatformConfigMap != "nuclio-platform-config" {
		t.Errorf("defaults %+v", c)
	}
	if c.DefaultFunctionResources.Requests.Cpu().String() != "25m" || c.DefaultFunctionResources.Requests.Memory().String() != "1Mi" {
		t.Errorf("default requests %v", c.DefaultFunctionResources.Requests)
	}
	if key, ok := c.PolicyKey(); !ok || key != (types.NamespacedName{Namespace: "nuclio-system", Name: "nuclio-build-source-policy"}) {
		t.Errorf("policy %v %v", key, ok)
	}
	if got, err := Load([]byte("")); err != nil || got.KanikoImage != build.DefaultKanikoImage {
		t.Errorf("empty file: %v", err)
	}
}

func TestLoad(t *testing.T) {
	c, err := Load([]byte(`
registry: registry.example.com/team
buildTimeout: 20m
jobTTLSecondsAfterFinished: -1
buildSourcePolicy: {name: ""}
defaultFunctionResources:
  requests: {cpu: 100m}
fetchLimits: {maxEntries: 10, maxFileBytes: 1024}
`))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := c.PolicyKey(); ok {
		t.Error(`buildSourcePolicy {name: ""} selects the built-in policy`)
	}
	if c.DefaultFunctionResources.Requests.Cpu().String() != "100m" || c.DefaultFunctionResources.Requests.Memory().String() != "1Mi" {
		t.Errorf("requests %v", c.DefaultFunctionResources.Requests)
	}
	jc := c.JobConfig()
	if jc.DefaultTimeoutSeconds != 1200 || jc.TTLSecondsAfterFinished != -1 || jc.ServiceAccountName != "nuclio-builder" {
		t.Errorf("job config %+v", jc)
	}
	if diff := cmp.Diff([]string{"--max-file-bytes=1024", "--max-entries=10"}, jc.FetcherArgs); diff != "" {
		t.Errorf("fetcher args (-want +got):\n%s", diff)
	}
	if bc := c.BuildConfig(); bc.Registry != "registry.example.com/team" {
		t.Errorf("build config %+v", bc)
	}
}

func TestLoadErrors(t *testing.T) {
	for _, tc := range []struct{ yaml, want string }{
		{"registy: x", `unknown field "registy"`},
		{"buildTimeout: forever", "buildTimeout: must be a duration"},
		{"buildTimeout: 10ms", "config.buildTimeout"},
		{"jobTTLSecondsAfterFinished: 0", "config.jobTTLSecondsAfterFinished"},
		{"defaultServiceType: LoadBalancer", "config.defaultServiceType"},
		{"kanikoImagePullPolicy: Sometimes", "config.kanikoImagePullPolicy"},
		{"namespace: Not_A_Namespace", "config.namespace"},
		{"registry: 'bad registry'", "config.registry"},
		{"buildSourcePolicy: {name: x, namespace: 'a b'}", "config.buildSourcePolicy.namespace"},
		{"fetchLimits: {maxEntries: -1}", "config.fetchLimits.maxEntries"},
		{"- a list", "must be a mapping"},
	} {
		if _, err := Load([]byte(tc.yaml)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Load(%q) = %v, want an error containing %q", tc.yaml, err, tc.want)
		}
	}
}

// The example shipped in artifacts/controller stays loadable.
func TestExampleConfig(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "..", "..", "artifacts", "controller", "config.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	c, err := Load(raw)
	if err != nil {
		t.Fatal(err)
	}
	if c.Registry == "" || c.RegistrySecret == "" {
		t.Errorf("example %+v", c)
	}
}
