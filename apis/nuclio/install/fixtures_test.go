// Copyright The nuclio-apiserver Authors.
// SPDX-License-Identifier: Apache-2.0

package install

import (
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	runtimeserializer "k8s.io/apimachinery/pkg/runtime/serializer"
	"sigs.k8s.io/yaml"

	"github.com/nuclio-apiserver/nuclio-apiserver/apis/nuclio"
	"github.com/nuclio-apiserver/nuclio-apiserver/apis/nuclio/v1beta1"
	"github.com/nuclio-apiserver/nuclio-apiserver/apis/nuclio/validation"
)

// fixturesDir holds real function.yaml files from the Nuclio project (Apache-2.0).
const fixturesDir = "../../../test/testdata/nuclio"

// TestNuclioFixtures is the compatibility promise of DESIGN §3: a Nuclio function.yaml with a name added
// applies unchanged. Each file is read as kubectl sends it (YAML → JSON, strict field validation), then
// goes the server's way: decode with defaulting, convert to internal, validate.
func TestNuclioFixtures(t *testing.T) {
	var files []string
	err := filepath.WalkDir(fixturesDir, func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && d.Name() == "function.yaml" {
			files = append(files, path)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatalf("no function.yaml under %s", fixturesDir)
	}

	scheme := newScheme()
	codecs := runtimeserializer.NewCodecFactory(scheme)
	for _, file := range files {
		rel, _ := filepath.Rel(fixturesDir, filepath.Dir(file))
		name := strings.ReplaceAll(rel, string(filepath.Separator), "-")
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			doc := withName(t, data, name)

			// Strict decode: no field of Nuclio's file is unknown to us.
			if _, ok := strictDecode(t, scheme, string(doc)).(*v1beta1.NuclioFunction); !ok {
				t.Fatal("not decoded as a NuclioFunction")
			}

			// The server path: decode to internal with defaulting.
			obj, gvk, err := codecs.UniversalDecoder(nuclio.SchemeGroupVersion).Decode(doc, nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			if gvk.Kind != "NuclioFunction" || gvk.GroupVersion() != v1beta1.SchemeGroupVersion {
				t.Errorf("decoded as %v", gvk)
			}
			fn, ok := obj.(*nuclio.NuclioFunction)
			if !ok {
				t.Fatalf("decoded %T, want *nuclio.NuclioFunction", obj)
			}
			if errs := validation.ValidateNuclioFunction(fn); len(errs) != 0 {
				t.Errorf("validation errors: %v", errs.ToAggregate())
			}
			if w := validation.FunctionWarnings(fn); len(w) != 0 {
				t.Errorf("warnings: %v", w)
			}
			// The files rely on enrichment: a project, a versioned runtime and the default http trigger.
			if fn.Labels[v1beta1.LabelProjectName] != "default" || fn.Spec.Runtime == "python" || fn.Spec.Triggers["default-http"].Kind != "http" {
				t.Errorf("not enriched: labels %v, runtime %q, triggers %v", fn.Labels, fn.Spec.Runtime, fn.Spec.Triggers)
			}
		})
	}
}

// withName converts a function.yaml to JSON and adds metadata.name and namespace, which the files leave
// to the nuctl command line.
func withName(t *testing.T, data []byte, name string) []byte {
	t.Helper()
	j, err := yaml.YAMLToJSON(data)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]interface{}
	if err := json.Unmarshal(j, &doc); err != nil {
		t.Fatal(err)
	}
	md, _ := doc["metadata"].(map[string]interface{})
	if md == nil {
		md = map[string]interface{}{}
	}
	md["name"], md["namespace"] = name, "default"
	doc["metadata"] = md
	out, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	return out
}
