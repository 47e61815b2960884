// Copyright The nuclio-apiserver Authors.
// SPDX-License-Identifier: Apache-2.0

package e2e

import (
	"encoding/base64"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

// fixture is a real Nuclio function.yaml from test/testdata/nuclio, made applyable the way a user would:
// a metadata.name added, and the handler's source file inlined as spec.build.functionSourceCode.
type fixture struct {
	Name     string // <runtime dir>-<example dir>, e.g. python-helloworld
	Path     string
	Manifest []byte
	Object   map[string]interface{}
}

// loadFixtures reads every function.yaml under test/testdata/nuclio.
func loadFixtures(t *testing.T) []fixture {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(repoRoot, "test", "testdata", "nuclio", "*", "*", "function.yaml"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no fixtures found: %v", err)
	}
	sort.Strings(paths)
	var out []fixture
	for _, p := range paths {
		dir := filepath.Dir(p)
		name := filepath.Base(filepath.Dir(dir)) + "-" + filepath.Base(dir)
		raw, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		var obj map[string]interface{}
		if err := yaml.Unmarshal(raw, &obj); err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		obj["metadata"] = map[string]interface{}{"name": name}
		spec := obj["spec"].(map[string]interface{})
		build, _ := spec["build"].(map[string]interface{})
		if build == nil {
			build = map[string]interface{}{}
			spec["build"] = build
		}
		if src := sourceFile(t, dir); src != "" {
			code, err := os.ReadFile(src)
			if err != nil {
				t.Fatal(err)
			}
			build["functionSourceCode"] = base64.StdEncoding.EncodeToString(code)
		}
		manifest, err := yaml.Marshal(obj)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, fixture{Name: name, Path: p, Manifest: manifest, Object: obj})
	}
	return out
}

// sourceFile is the one non-YAML file beside a function.yaml (the handler source).
func sourceFile(t *testing.T, dir string) string {
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if !e.IsDir() && !strings.HasSuffix(e.Name(), ".yaml") {
			return filepath.Join(dir, e.Name())
		}
	}
	return ""
}
