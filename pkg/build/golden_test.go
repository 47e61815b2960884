// Copyright The nuclio-apiserver Authors.
// SPDX-License-Identifier: Apache-2.0

package build

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	"sigs.k8s.io/yaml"

	"github.com/nuclio-apiserver/nuclio-apiserver/apis/nuclio/v1beta1"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/ from the current output")

// goldenPlan is the part of a Plan the golden files pin besides the Dockerfile. SourceHash is left out:
// its own tests pin its behaviour, and golden files should not churn when the hash scheme changes.
type goldenPlan struct {
	Runtime        string
	RuntimeName    string
	RuntimeVersion string
	BaseImage      string
	Stages         []Stage
	BuildArgs      map[string]string
	BuildArgFlags  []string
	Image          OutputImage
	SourceFileName string `json:",omitempty"`
}

// TestGolden generates the plan of every testdata/<case>/function.yaml (with the Config in
// testdata/<case>/config.yaml, if any) and compares the Dockerfile, the plan and, for Java, the Gradle
// script with the golden files beside the input. Run `go test ./pkg/build -run TestGolden -update` to
// rewrite them after an intended change, and review the diff.
func TestGolden(t *testing.T) {
	cases, err := filepath.Glob(filepath.Join("testdata", "*", "function.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(cases) < 10 {
		t.Fatalf("found %d golden cases under testdata/, want at least 10", len(cases))
	}
	covered := map[string]bool{}
	for _, input := range cases {
		dir := filepath.Dir(input)
		t.Run(filepath.Base(dir), func(t *testing.T) {
			fn := readFunction(t, input)
			var cfg Config
			if raw, err := os.ReadFile(filepath.Join(dir, "config.yaml")); err == nil {
				if err := yaml.UnmarshalStrict(raw, &cfg); err != nil {
					t.Fatalf("config.yaml: %v", err)
				}
			} else if !os.IsNotExist(err) {
				t.Fatal(err)
			}

			plan, err := cfg.Generate(fn)
			if err != nil {
				t.Fatalf("Generate: %v", err)
			}
			covered[plan.Runtime] = true

			summary, err := json.MarshalIndent(goldenPlan{
				Runtime:        plan.Runtime,
				RuntimeName:    plan.RuntimeName,
				RuntimeVersion: plan.RuntimeVersion,
				BaseImage:      plan.BaseImage,
				Stages:         plan.Stages,
				BuildArgs:      plan.BuildArgs,
				BuildArgFlags:  plan.BuildArgFlags(),
				Image:          plan.Image,
				SourceFileName: plan.SourceFileName,
			}, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			compareGolden(t, filepath.Join(dir, DockerfileName), plan.Dockerfile)
			compareGolden(t, filepath.Join(dir, "plan.json"), string(summary)+"\n")
			if plan.RuntimeName == RuntimeJava {
				compareGolden(t, filepath.Join(dir, "build.gradle"), plan.JavaBuildScript)
			} else if plan.JavaBuildScript != "" {
				t.Errorf("JavaBuildScript is set for runtime %s", plan.Runtime)
			}
		})
	}
	for _, runtime := range []string{"python:3.9", "python:3.10", "python:3.11", "golang", "nodejs", "shell", "java", "dotnetcore", "ruby"} {
		if !covered[runtime] {
			t.Errorf("no golden case covers runtime %s", runtime)
		}
	}
}

func readFunction(t *testing.T, path string) *v1beta1.NuclioFunction {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	fn := &v1beta1.NuclioFunction{}
	if err := yaml.UnmarshalStrict(raw, fn); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return fn
}

func compareGolden(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("%s differs from the golden file (-want +got):\n%s", path, diff)
	}
}
