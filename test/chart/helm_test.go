// Copyright The nuclio-apiserver Authors.
// SPDX-License-Identifier: Apache-2.0

// Package chart tests the Helm chart charts/nuclio-apiserver offline: `helm lint` and `helm template` with
// every value set in the chart's ci/ directory, properties of the rendered objects (TLS, pod security,
// disruption budgets, NetworkPolicies, RBAC, storage modes), the admission policies it ships compiled and
// evaluated with k8s.io/apiserver's policy code, the components' configuration files loaded with the
// components' own loaders, the values' documentation and schema, and the plain manifests in artifacts/.
//
// The tests need _output/bin/helm (hack/build-tools.sh helm; `make test` builds it) and skip without it.
// Nothing here talks to a cluster.
package chart

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
)

const (
	releaseName = "nuclio-apiserver"
	namespace   = "nuclio-system"
)

var (
	repoRoot  = filepath.Join("..", "..")
	chartDir  = filepath.Join(repoRoot, "charts", "nuclio-apiserver")
	helmPath  = filepath.Join(repoRoot, "_output", "bin", "helm")
	k8sGoMod  = filepath.Join(repoRoot, "hack", "tools", "kubernetes", "go.mod")
	kubeOnce  sync.Once
	kubeVer   string
	kubeVerEr error
)

// helm returns the helm binary, skipping the test when it has not been built.
func helm(t *testing.T) string {
	t.Helper()
	p, err := filepath.Abs(helmPath)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(p); err != nil {
		t.Skipf("%s is missing: build it with `hack/build-tools.sh helm` (make test does)", helmPath)
	}
	return p
}

// kubeVersion is the pinned Kubernetes version (hack/tools/kubernetes/go.mod), passed as --kube-version:
// the chart requires 1.36 or newer, and helm's own default is older.
func kubeVersion(t *testing.T) string {
	t.Helper()
	kubeOnce.Do(func() {
		data, err := os.ReadFile(k8sGoMod)
		if err != nil {
			kubeVerEr = err
			return
		}
		m := regexp.MustCompile(`(?m)^\s*(?:require\s+)?k8s\.io/kubernetes\s+(v1\.[0-9]+\.[0-9]+)`).FindSubmatch(data)
		if m == nil {
			kubeVerEr = fmt.Errorf("%s: no k8s.io/kubernetes requirement", k8sGoMod)
			return
		}
		kubeVer = string(m[1])
	})
	if kubeVerEr != nil {
		t.Fatal(kubeVerEr)
	}
	return kubeVer
}

// valueSet is a named set of values files and --set flags.
type valueSet struct {
	name  string
	files []string
	sets  []string
}

func (vs valueSet) args() []string {
	var a []string
	for _, f := range vs.files {
		a = append(a, "-f", f)
	}
	for _, s := range vs.sets {
		a = append(a, "--set", s)
	}
	return a
}

// readChart reads every file of the chart once, so that `go test` caching sees changes to templates
// (helm reads them in a subprocess, which the test cache does not track).
func readChart(t *testing.T) {
	t.Helper()
	err := filepath.WalkDir(chartDir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		_, err = os.ReadFile(path)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// valueSets are the chart's defaults and every file in its ci/ directory.
func valueSets(t *testing.T) []valueSet {
	t.Helper()
	readChart(t)
	files, err := filepath.Glob(filepath.Join(chartDir, "ci", "*-values.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	sets := []valueSet{{name: "default"}}
	for _, f := range files {
		sets = append(sets, valueSet{name: strings.TrimSuffix(filepath.Base(f), "-values.yaml"), files: []string{f}})
	}
	want := []string{"default", "cert-manager", "external-etcd-ha", "namespaced-controller", "airgap", "policy-parameters", "plain-manifests", "minimal"}
	for _, w := range want {
		found := false
		for _, s := range sets {
			found = found || s.name == w
		}
		if !found {
			t.Errorf("value set %s is missing from %s/ci", w, chartDir)
		}
	}
	return sets
}

// runHelm runs helm with args and returns stdout, or the error with stderr.
func runHelm(t *testing.T, args ...string) ([]byte, error) {
	t.Helper()
	cmd := exec.Command(helm(t), args...)
	// No repositories, plugins or caches from the developer's home are used.
	home := t.TempDir()
	cmd.Env = append(os.Environ(), "HELM_CACHE_HOME="+home, "HELM_CONFIG_HOME="+home, "HELM_DATA_HOME="+home)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("helm %s: %w\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return stdout.Bytes(), nil
}

// rendered is the output of helm template.
type rendered struct {
	raw  []byte
	objs []*unstructured.Unstructured
}

// render runs helm template for the value set; extra are more helm arguments.
func render(t *testing.T, vs valueSet, extra ...string) (*rendered, error) {
	t.Helper()
	args := append([]string{"template", releaseName, chartDir, "--namespace", namespace, "--kube-version", kubeVersion(t)}, vs.args()...)
	out, err := runHelm(t, append(args, extra...)...)
	if err != nil {
		return nil, err
	}
	objs, err := decode(out)
	if err != nil {
		return nil, err
	}
	return &rendered{raw: out, objs: objs}, nil
}

func mustRender(t *testing.T, vs valueSet, extra ...string) *rendered {
	t.Helper()
	r, err := render(t, vs, extra...)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// decode splits multi-document YAML into objects, skipping empty documents.
func decode(data []byte) ([]*unstructured.Unstructured, error) {
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(data), 4096)
	var objs []*unstructured.Unstructured
	for {
		var m map[string]interface{}
		if err := dec.Decode(&m); err != nil {
			if errors.Is(err, io.EOF) {
				return objs, nil
			}
			return nil, err
		}
		if len(m) == 0 {
			continue
		}
		objs = append(objs, &unstructured.Unstructured{Object: m})
	}
}

// find returns the objects of a kind (and name, unless empty).
func (r *rendered) find(kind, name string) []*unstructured.Unstructured {
	var out []*unstructured.Unstructured
	for _, o := range r.objs {
		if o.GetKind() == kind && (name == "" || o.GetName() == name) {
			out = append(out, o)
		}
	}
	return out
}

// one returns the only object of a kind and name, failing otherwise.
func (r *rendered) one(t *testing.T, kind, name string) *unstructured.Unstructured {
	t.Helper()
	objs := r.find(kind, name)
	if len(objs) != 1 {
		t.Fatalf("want one %s %s, got %d", kind, name, len(objs))
	}
	return objs[0]
}

// kinds lists "Kind/name" of every object, for messages.
func (r *rendered) kinds() string {
	var s []string
	for _, o := range r.objs {
		s = append(s, o.GetKind()+"/"+o.GetName())
	}
	sort.Strings(s)
	return strings.Join(s, " ")
}

// into converts an unstructured object to a typed one, strictly.
func into(t *testing.T, o *unstructured.Unstructured, target interface{}) {
	t.Helper()
	data, err := json.Marshal(o.Object)
	if err != nil {
		t.Fatal(err)
	}
	if err := strictJSON(data, target); err != nil {
		t.Fatalf("%s %s: %v", o.GetKind(), o.GetName(), err)
	}
}

func TestLint(t *testing.T) {
	for _, vs := range valueSets(t) {
		t.Run(vs.name, func(t *testing.T) {
			args := append([]string{"lint", chartDir, "--strict", "--namespace", namespace, "--kube-version", kubeVersion(t)}, vs.args()...)
			if out, err := runHelm(t, args...); err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
		})
	}
}

// TestRefusedValues checks that inconsistent values fail the render with a message naming the fix.
func TestRefusedValues(t *testing.T) {
	for _, c := range []struct {
		name string
		sets []string
		want string
	}{
		{"embedded etcd with two replicas", []string{"apiserver.replicas=2"},
			"etcd.mode=embedded runs one etcd member inside the single nuclio-apiserver pod: apiserver.replicas must be 1, not 2"},
		{"external etcd without servers", []string{"etcd.mode=external", "etcd.external.tls.secretName=etcd"},
			"etcd.mode=external needs etcd.external.servers"},
		{"external etcd without client certificates", []string{"etcd.mode=external", "etcd.external.servers={https://etcd:2379}"},
			"etcd.mode=external needs etcd.external.tls.secretName"},
		{"external etcd over plain http", []string{"etcd.mode=external", "etcd.external.servers={http://etcd:2379}", "etcd.external.tls.secretName=etcd"},
			"/etcd/external/servers/0"},
		{"manual certificates without a CA", []string{"certificates.mode=manual"},
			"certificates.mode=manual needs certificates.manual.caBundle"},
		{"plain manifests with generated keys", []string{"plainManifests=true"},
			"plainManifests=true cannot use certificates.mode=helm"},
		{"no insecure certificate mode", []string{"certificates.mode=insecure"}, "/certificates/mode"},
		{"webhook timeout above 5s", []string{"webhook.timeoutSeconds=10"}, "/webhook/timeoutSeconds"},
		{"unknown value", []string{"apiserver.replica=2"}, "additional properties 'replica' not allowed"},
		{"namespaced controller outside the build namespaces", []string{"controller.namespace=team-a", "networkPolicy.builds.namespaces={team-b}"},
			"networkPolicy.builds.namespaces must include controller.namespace (team-a)"},
		{"build source scheme", []string{"policies.buildSources.parameters.allowedSchemes={ftp}"}, "/policies/buildSources/parameters/allowedSchemes/0"},
		{"list entries with commas", []string{"policies.buildSources.parameters.allowedHosts={a.example\\,b.example}"}, "/policies/buildSources/parameters/allowedHosts/0"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := render(t, valueSet{name: c.name, sets: c.sets})
			if err == nil {
				t.Fatalf("rendered with %v", c.sets)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("error does not contain %q:\n%v", c.want, err)
			}
		})
	}
}
