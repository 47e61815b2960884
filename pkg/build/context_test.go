// Copyright The nuclio-apiserver Authors.
// SPDX-License-Identifier: Apache-2.0

package build

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/nuclio-apiserver/nuclio-apiserver/apis/nuclio/v1beta1"
)

// writeTree creates files (path → content) under dir; a content starting with "->" makes a symlink.
func writeTree(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if target, ok := strings.CutPrefix(content, "->"); ok {
			if err := os.Symlink(target, p); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// listTree returns the regular files and symlinks under dir as slash paths, with their content (or
// "->target" for links).
func listTree(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if d.Type()&os.ModeSymlink != 0 {
			target, err := os.Readlink(p)
			out[filepath.ToSlash(rel)] = "->" + target
			return err
		}
		raw, err := os.ReadFile(p)
		out[filepath.ToSlash(rel)] = string(raw)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func javaPlan(t *testing.T) *Plan {
	t.Helper()
	plan, err := testConfig.Generate(newFunction("java", "Handler", nil))
	if err != nil {
		t.Fatal(err)
	}
	return plan
}

func TestPrepareContextJava(t *testing.T) {
	for _, tc := range []struct {
		name  string
		files map[string]string
		want  map[string]string
	}{
		{
			name:  "flat sources move to src/main/java and get the generated script",
			files: map[string]string{"handler/Handler.java": "class Handler {}", "handler/lib/Util.java": "class Util {}"},
			want: map[string]string{
				"handler/src/main/java/Handler.java":  "class Handler {}",
				"handler/src/main/java/lib/Util.java": "class Util {}",
				"handler/build.gradle":                "GENERATED",
			},
		},
		{
			name: "a Gradle project stays as it is and keeps its script",
			files: map[string]string{
				"handler/src/main/java/Handler.java": "class Handler {}",
				"handler/build.gradle":               "user script",
			},
			want: map[string]string{
				"handler/src/main/java/Handler.java": "class Handler {}",
				"handler/build.gradle":               "user script",
			},
		},
		{
			name:  "a flat script moves up to handler/",
			files: map[string]string{"handler/Handler.java": "class Handler {}", "handler/build.gradle": "user script"},
			want: map[string]string{
				"handler/src/main/java/Handler.java": "class Handler {}",
				"handler/build.gradle":               "user script",
			},
		},
		{
			name:  "a jar is moved like a source file",
			files: map[string]string{"handler/handler.jar": "PK"},
			want: map[string]string{
				"handler/src/main/java/handler.jar": "PK",
				"handler/build.gradle":              "GENERATED",
			},
		},
		{
			name:  "a src directory that is not a Gradle project is moved whole",
			files: map[string]string{"handler/src/Handler.java": "class Handler {}"},
			want: map[string]string{
				"handler/src/main/java/src/Handler.java": "class Handler {}",
				"handler/build.gradle":                   "GENERATED",
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			plan := javaPlan(t)
			dir := t.TempDir()
			writeTree(t, dir, tc.files)
			for run := 0; run < 2; run++ { // the second run must change nothing
				if err := plan.PrepareContext(dir); err != nil {
					t.Fatalf("run %d: %v", run, err)
				}
				want := map[string]string{DockerfileName: plan.Dockerfile}
				for k, v := range tc.want {
					if v == "GENERATED" {
						v = plan.JavaBuildScript
					}
					want[k] = v
				}
				if diff := cmp.Diff(want, listTree(t, dir)); diff != "" {
					t.Fatalf("run %d: context (-want +got):\n%s", run, diff)
				}
			}
		})
	}
}

func TestPrepareContextOtherRuntimes(t *testing.T) {
	plan, err := testConfig.Generate(newFunction("python:3.9", "main:handler", nil))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	writeTree(t, dir, map[string]string{"handler/main.py": "x", DockerfileName: "stale"})
	if err := plan.PrepareContext(dir); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"handler/main.py": "x", DockerfileName: plan.Dockerfile}
	if diff := cmp.Diff(want, listTree(t, dir)); diff != "" {
		t.Errorf("context (-want +got):\n%s", diff)
	}
	info, err := os.Stat(filepath.Join(dir, DockerfileName))
	if err != nil || info.Mode().Perm() != 0o644 {
		t.Errorf("Dockerfile mode %v, %v; want 0644", info.Mode(), err)
	}
}

func TestPrepareContextRefusals(t *testing.T) {
	plan := javaPlan(t)
	outside := t.TempDir()
	for _, tc := range []struct {
		name  string
		files map[string]string
		want  string
	}{
		{name: "no handler directory", files: map[string]string{"other/x": "x"}, want: "must be a directory"},
		{name: "handler is a file", files: map[string]string{"handler": "x"}, want: "must be a directory"},
		{name: "handler is a symlink", files: map[string]string{"real/x": "x", "handler": "->real"}, want: "must be a directory"},
		{
			name:  "Dockerfile replaced by a symlink",
			files: map[string]string{"handler/src/main/java/A.java": "x", "handler/build.gradle": "x", DockerfileName: "->" + filepath.Join(outside, "owned")},
			want:  "not a regular file",
		},
		{
			name:  "build.gradle symlink out of the context is not written through",
			files: map[string]string{"handler/src/main/java/A.java": "x", "handler/src/main/java/build.gradle": "x", "handler/build.gradle": "->" + filepath.Join(outside, "owned")},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			writeTree(t, dir, tc.files)
			err := plan.PrepareContext(dir)
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
			} else if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error containing %q", err, tc.want)
			}
			entries, _ := os.ReadDir(outside)
			var names []string
			for _, e := range entries {
				names = append(names, e.Name())
			}
			sort.Strings(names)
			if len(names) > 0 {
				t.Errorf("files appeared outside the context: %v", names)
			}
		})
	}
}

func TestJavaBuildScriptDefaults(t *testing.T) {
	script, errs := generateJavaBuildScript(&v1beta1.Build{})
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	for _, want := range []string{
		"id 'com.github.johnrengelman.shadow' version '5.2.0'",
		"repositories {\n    mavenCentral()\n}",
		"compile files('./nuclio-sdk-java-1.1.0.jar')",
		"baseName = 'user-handler'",
		"task userHandler(dependsOn: shadowJar)",
	} {
		if !strings.Contains(script, want) {
			t.Errorf("script lacks %q:\n%s", want, script)
		}
	}
}
