// Copyright The nuclio-apiserver Authors.
// SPDX-License-Identifier: Apache-2.0

package main

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/nuclio-apiserver/nuclio-apiserver/apis/nuclio/freeform"
	"github.com/nuclio-apiserver/nuclio-apiserver/apis/nuclio/v1beta1"
	"github.com/nuclio-apiserver/nuclio-apiserver/pkg/build"
	"github.com/nuclio-apiserver/nuclio-apiserver/pkg/masking"
)

var testBuildConfig = build.Config{Registry: "registry.example.com/team"}

// loopbackPolicy lets the fetcher reach the test server on 127.0.0.1 over plain HTTP; everything else
// about the policy is the default.
var loopbackPolicy = map[string]string{"allowedSchemes": "https,http", "allowPlainHTTP": "true", "allowedCIDRs": "127.0.0.1/32"}

const authToken = "$ref:/spec/build/codeentryattributes/headers/authorization"

// fixture is the mounted input of one fetcher run.
type fixture struct {
	t                                   *testing.T
	dir, workspace, termination, secret string
	args                                []string
}

func newFixture(t *testing.T, fn *v1beta1.NuclioFunction, policy map[string]string, secrets map[string]string) *fixture {
	t.Helper()
	dir := t.TempDir()
	f := &fixture{t: t, dir: dir, workspace: filepath.Join(dir, "workspace"), termination: filepath.Join(dir, "termination-log")}
	if err := os.Mkdir(f.workspace, 0o755); err != nil {
		t.Fatal(err)
	}
	cm, err := build.NewJobConfigMap(fn, testBuildConfig, policy, "nuclio-"+fn.Name+"-build-x", nil)
	if err != nil {
		t.Fatal(err)
	}
	input := filepath.Join(dir, "input")
	if err := os.Mkdir(input, 0o755); err != nil {
		t.Fatal(err)
	}
	for k, v := range cm.Data {
		if err := os.WriteFile(filepath.Join(input, k), []byte(v), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	plan, err := testBuildConfig.Generate(fn)
	if err != nil {
		t.Fatal(err)
	}
	f.args = []string{
		"--function=" + filepath.Join(input, build.FunctionKey),
		"--build-config=" + filepath.Join(input, build.BuildConfigKey),
		"--workspace=" + f.workspace,
		"--expected-source-hash=" + plan.SourceHash,
		"--termination-log=" + f.termination,
	}
	if policy != nil {
		f.args = append(f.args, "--policy="+filepath.Join(input, build.PolicyKey))
	}
	if secrets != nil {
		s, err := masking.NewSecret(masking.KindFunction, "ns", fn.Name, "default", secrets)
		if err != nil {
			t.Fatal(err)
		}
		f.secret = filepath.Join(dir, "secret")
		if err := os.Mkdir(f.secret, 0o755); err != nil {
			t.Fatal(err)
		}
		for k, v := range s.Data {
			if err := os.WriteFile(filepath.Join(f.secret, k), v, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		f.args = append(f.args, "--secret-dir="+f.secret)
	}
	return f
}

func (f *fixture) run(extra ...string) (code int, stdout, stderr, termination string) {
	f.t.Helper()
	var out, errOut bytes.Buffer
	code = run(context.Background(), append(append([]string{}, f.args...), extra...), &out, &errOut, false)
	raw, _ := os.ReadFile(f.termination)
	return code, out.String(), errOut.String(), string(raw)
}

func (f *fixture) read(rel string) string {
	f.t.Helper()
	raw, err := os.ReadFile(filepath.Join(f.workspace, rel))
	if err != nil {
		f.t.Fatalf("reading %s: %v", rel, err)
	}
	return string(raw)
}

func function(name string, b v1beta1.Build) *v1beta1.NuclioFunction {
	return &v1beta1.NuclioFunction{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns", Labels: map[string]string{v1beta1.LabelProjectName: "default"}},
		Spec:       v1beta1.FunctionSpec{Runtime: "python:3.11", Handler: "main:handler", Build: b},
	}
}

func zipOf(t *testing.T, files map[string]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := zip.NewWriter(&buf)
	for name, body := range files {
		fw, err := w.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := fw.Write([]byte(body)); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// archiveServer serves body at /src.zip to requests with the given Authorization header and counts
// requests. httptest listens on 127.0.0.1.
func archiveServer(t *testing.T, body []byte, auth string) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var hits atomic.Int32
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		if r.Header.Get("Authorization") != auth {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		if r.URL.Path != "/src.zip" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/zip")
		_, _ = w.Write(body)
	}))
	t.Cleanup(s.Close)
	return s, &hits
}

func TestArchiveEndToEnd(t *testing.T) {
	body := zipOf(t, map[string]string{
		"repo/functions/hello/main.py":          "def handler(context, event):\n    return 'hi'\n",
		"repo/functions/hello/requirements.txt": "requests\n",
		"repo/README.md":                        "not part of the function\n",
	})
	server, hits := archiveServer(t, body, "Bearer s3cr3t-token")
	fn := function("hello", v1beta1.Build{
		Path:          server.URL + "/src.zip",
		CodeEntryType: "archive",
		CodeEntryAttributes: freeform.Object{
			"workDir": "repo/functions/hello",
			"headers": map[string]interface{}{"Authorization": authToken},
		},
	})
	f := newFixture(t, fn, loopbackPolicy, map[string]string{authToken: "Bearer s3cr3t-token"})
	code, stdout, stderr, _ := f.run()
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if hits.Load() != 1 {
		t.Errorf("%d requests", hits.Load())
	}
	if got := f.read("handler/main.py"); !strings.Contains(got, "return 'hi'") {
		t.Errorf("main.py = %q", got)
	}
	if _, err := os.Stat(filepath.Join(f.workspace, "handler", "README.md")); !os.IsNotExist(err) {
		t.Error("workDir selects the function's directory only")
	}
	plan, err := testBuildConfig.Generate(fn)
	if err != nil {
		t.Fatal(err)
	}
	if got := f.read(build.DockerfileName); got != plan.Dockerfile {
		t.Errorf("Dockerfile differs from the plan:\n%s", got)
	}
	if !strings.Contains(stdout, "wrote Dockerfile.processor") || strings.Contains(stdout+stderr, "s3cr3t") {
		t.Errorf("stdout %q", stdout)
	}
	entries, err := os.ReadDir(f.workspace)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".fetch-") {
			t.Errorf("staging directory %s left in the build context", e.Name())
		}
	}
}

func TestSourceCodeEndToEnd(t *testing.T) {
	code := "def handler(context, event):\r\n    return 'hi'\r\n"
	fn := function("hello", v1beta1.Build{FunctionSourceCode: base64.StdEncoding.EncodeToString([]byte(code))})
	f := newFixture(t, fn, nil, nil)
	exit, _, stderr, _ := f.run()
	if exit != exitOK {
		t.Fatalf("exit %d: %s", exit, stderr)
	}
	if got := f.read("handler/main.py"); got != "def handler(context, event):\n    return 'hi'\n" {
		t.Errorf("main.py = %q (CRLF must become LF)", got)
	}
	dockerfile := f.read(build.DockerfileName)
	if !strings.Contains(dockerfile, "FROM python:3.11") || !strings.Contains(dockerfile, "COPY handler /opt/nuclio") {
		t.Errorf("Dockerfile:\n%s", dockerfile)
	}
}

func TestFailures(t *testing.T) {
	slip := zipOf(t, map[string]string{"../../evil.py": "x", "main.py": "y"})
	for _, tc := range []struct {
		name      string
		body      []byte
		path      string // appended to the server URL
		policy    map[string]string
		secrets   map[string]string
		headers   bool
		extraArgs []string
		wantCode  int
		wantMsg   string
		wantHits  int32
	}{{
		name:     "the default policy refuses loopback before any connection",
		policy:   nil,
		path:     "/src.zip",
		wantCode: exitRefused,
		wantMsg:  "refused by the build-source policy",
	}, {
		name:     "zip-slip",
		body:     slip,
		path:     "/src.zip",
		policy:   loopbackPolicy,
		wantCode: exitUnsafe,
		wantMsg:  "unsafe entry",
		wantHits: 1,
	}, {
		name:     "HTTP error, credentials in the query are redacted",
		path:     "/missing.zip?token=qu3ry-s3cret",
		policy:   loopbackPolicy,
		wantCode: exitFetch,
		wantMsg:  "fetching",
		wantHits: 1,
	}, {
		name:     "an unrestored credential is not sent",
		path:     "/src.zip",
		policy:   loopbackPolicy,
		headers:  true,
		wantCode: exitInvalid,
		wantMsg:  "spec.build.codeEntryAttributes.headers",
	}, {
		name:      "the controller and the fetcher disagree",
		path:      "/src.zip",
		policy:    loopbackPolicy,
		extraArgs: []string{"--expected-source-hash=0000"},
		wantCode:  exitInput,
		wantMsg:   "differs from the controller's 0000",
	}, {
		name:      "size cap",
		body:      zipOf(t, map[string]string{"main.py": strings.Repeat("x", 4096)}),
		path:      "/src.zip",
		policy:    loopbackPolicy,
		extraArgs: []string{"--max-file-bytes=1024"},
		wantCode:  exitUnsafe,
		wantMsg:   "main.py: file size limit of 1024 bytes exceeded",
		wantHits:  1,
	}} {
		t.Run(tc.name, func(t *testing.T) {
			body := tc.body
			if body == nil {
				body = zipOf(t, map[string]string{"main.py": "x"})
			}
			server, hits := archiveServer(t, body, "")
			b := v1beta1.Build{Path: server.URL + tc.path, CodeEntryType: "archive"}
			if tc.headers {
				b.CodeEntryAttributes = freeform.Object{"headers": map[string]interface{}{"Authorization": authToken}}
			}
			f := newFixture(t, function("hello", b), tc.policy, tc.secrets)
			code, _, stderr, termination := f.run(tc.extraArgs...)
			t.Logf("exit %d, termination message: %s", code, termination)
			if code != tc.wantCode {
				t.Fatalf("exit %d, want %d: %s", code, tc.wantCode, stderr)
			}
			if !strings.Contains(termination, tc.wantMsg) || strings.Contains(termination, "\n") {
				t.Errorf("termination message %q, want one line with %q", termination, tc.wantMsg)
			}
			if strings.Contains(termination+stderr, "qu3ry-s3cret") {
				t.Errorf("a credential reached the termination message: %q", termination)
			}
			if hits.Load() != tc.wantHits {
				t.Errorf("%d requests, want %d", hits.Load(), tc.wantHits)
			}
			if _, err := os.Stat(filepath.Join(f.dir, "evil.py")); !os.IsNotExist(err) {
				t.Error("zip-slip wrote outside the workspace")
			}
			if _, err := os.Stat(filepath.Join(f.workspace, build.DockerfileName)); !os.IsNotExist(err) {
				t.Error("no build context on failure")
			}
		})
	}
}

func TestRedact(t *testing.T) {
	got := redact(`Get "https://user:pw@example.com/a.zip?sig=abcd#frag": 403 Bearer t0ken-value`, map[string]string{"x": "Bearer t0ken-value"})
	for _, leak := range []string{"pw@", "sig=abcd", "t0ken", "frag"} {
		if strings.Contains(got, leak) {
			t.Errorf("%q leaks %q", got, leak)
		}
	}
	if !strings.Contains(got, "example.com/a.zip") {
		t.Errorf("the host and path stay readable: %q", got)
	}
}

func TestFlags(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := run(context.Background(), []string{"--max-entries=0"}, &out, &errOut, false); code != exitUsage {
		t.Errorf("exit %d for a zero limit", code)
	}
	if code := run(context.Background(), []string{"--nope"}, &out, &errOut, false); code != exitUsage {
		t.Errorf("exit %d for an unknown flag", code)
	}
	errOut.Reset()
	if code := run(context.Background(), []string{"--help"}, &out, &errOut, false); code != exitOK || !strings.Contains(errOut.String(), "Exit codes") {
		t.Errorf("--help: exit %d, %q", code, errOut.String())
	}
	if code := run(context.Background(), []string{"--function=/nonexistent", "--termination-log="}, &out, &errOut, false); code != exitInput {
		t.Errorf("exit %d for a missing input", code)
	}
}

// The JSON the controller writes decodes into the same function (a guard against drift between
// NewJobConfigMap and this command).
func TestInputRoundTrip(t *testing.T) {
	fn := function("hello", v1beta1.Build{FunctionSourceCode: "eA=="})
	cm, err := build.NewJobConfigMap(fn, testBuildConfig, nil, "x", nil)
	if err != nil {
		t.Fatal(err)
	}
	var back v1beta1.NuclioFunction
	if err := json.Unmarshal([]byte(cm.Data[build.FunctionKey]), &back); err != nil {
		t.Fatal(err)
	}
	if testBuildConfig.SourceHash(&back) != testBuildConfig.SourceHash(fn) {
		t.Error("hash differs after the round trip")
	}
}
