// Copyright The nuclio-apiserver Authors.
// SPDX-License-Identifier: Apache-2.0

package fetch

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	utilerrors "k8s.io/apimachinery/pkg/util/errors"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/nuclio-apiserver/nuclio-apiserver/apis/nuclio/freeform"
	"github.com/nuclio-apiserver/nuclio-apiserver/apis/nuclio/v1beta1"
)

func function(runtime, handler string, b v1beta1.Build) *v1beta1.NuclioFunction {
	return &v1beta1.NuclioFunction{
		ObjectMeta: metav1.ObjectMeta{Name: "fn"},
		Spec:       v1beta1.FunctionSpec{Runtime: runtime, Handler: handler, Build: b},
	}
}

func TestSourceFromFunction(t *testing.T) {
	code := base64.StdEncoding.EncodeToString([]byte("def handler(c, e):\r\n    return 1\r\nx = '\r'\n"))
	for _, tc := range []struct {
		name    string
		fn      *v1beta1.NuclioFunction
		refs    map[string]string
		want    *Source
		wantErr string // a field path the error must name
	}{
		{
			name: "source code wins and loses its carriage returns before line feeds",
			fn: function("python:3.9", "main:handler", v1beta1.Build{FunctionSourceCode: code,
				Path: "https://example.com/ignored.zip", CodeEntryType: "archive"}),
			want: &Source{Kind: KindSourceCode, FileName: "main.py", SourceCode: []byte("def handler(c, e):\n    return 1\nx = '\r'\n")},
		},
		{
			name: "archive with headers and workDir",
			fn: function("python", "main:handler", v1beta1.Build{Path: "https://example.com/src.tar.gz", CodeEntryType: "archive",
				CodeEntryAttributes: freeform.Object{"workDir": "fn", "headers": map[string]interface{}{"X-V3io-Session-Key": "k"}}}),
			want: &Source{Kind: KindArchive, URL: "https://example.com/src.tar.gz", WorkDir: "fn",
				Headers: http.Header{"X-V3io-Session-Key": {"k"}}},
		},
		{
			name: "jar archives stay files",
			fn: function("java", "Handler", v1beta1.Build{Path: "https://example.com/dl/handler.jar?v=1", CodeEntryType: "archive",
				CodeEntryAttributes: freeform.Object{"workDir": "ignored"}}),
			want: &Source{Kind: KindURL, URL: "https://example.com/dl/handler.jar?v=1", FileName: "handler.jar"},
		},
		{
			name: "plain URL of one file",
			fn:   function("python", "main:handler", v1beta1.Build{Path: "https://example.com/fns/main.py?token=x"}),
			want: &Source{Kind: KindURL, URL: "https://example.com/fns/main.py?token=x", FileName: "main.py"},
		},
		{
			name: "plain URL of an archive",
			fn:   function("python", "main:handler", v1beta1.Build{Path: "https://example.com/fns/src.TGZ"}),
			want: &Source{Kind: KindArchive, URL: "https://example.com/fns/src.TGZ"},
		},
		{
			name: "github",
			fn: function("golang", "main:Handler", v1beta1.Build{Path: "https://github.com/nuclio/examples/", CodeEntryType: "github",
				CodeEntryAttributes: freeform.Object{"branch": "feature/x y", "workDir": "hello",
					"headers": map[string]interface{}{"Authorization": "token t"}}}),
			want: &Source{Kind: KindGitHub, URL: "https://api.github.com/repos/nuclio/examples/zipball/feature/x%20y",
				StripTopDirectory: true, WorkDir: "hello", Headers: http.Header{"Authorization": {"token t"}}},
		},
		{
			name: "git with credentials from references",
			fn: function("golang", "main:Handler", v1beta1.Build{Path: "https://git.example.com/team/repo.git", CodeEntryType: "git",
				CodeEntryAttributes: freeform.Object{"tag": "v1.0", "username": "bot",
					"password": "$ref:/spec/build/codeentryattributes/password"}}),
			refs: map[string]string{"$ref:/spec/build/codeentryattributes/password": "hunter2"},
			want: &Source{Kind: KindGit, URL: "https://git.example.com/team/repo.git",
				Git: GitSource{Tag: "v1.0", Username: "bot", Password: "hunter2"}},
		},
		{
			name: "s3 with the default region",
			fn: function("golang", "main:Handler", v1beta1.Build{CodeEntryType: "s3", CodeEntryAttributes: freeform.Object{
				"s3Bucket": "bucket", "s3ItemKey": "fns/src.zip", "s3AccessKeyId": "AKIA", "s3SecretAccessKey": "secret",
				"s3SessionToken": "token", "workDir": "src"}}),
			want: &Source{Kind: KindS3, WorkDir: "src", S3: S3Source{Bucket: "bucket", Key: "fns/src.zip", Region: DefaultS3Region,
				AccessKeyID: "AKIA", SecretAccessKey: "secret", SessionToken: "token"}},
		},
		{
			name: "s3 jar",
			fn: function("java", "Handler", v1beta1.Build{CodeEntryType: "s3", CodeEntryAttributes: freeform.Object{
				"s3Bucket": "bucket", "s3ItemKey": "fns/handler.jar", "s3Region": "eu-west-1"}}),
			want: &Source{Kind: KindS3, FileName: "handler.jar", S3: S3Source{Bucket: "bucket", Key: "fns/handler.jar", Region: "eu-west-1"}},
		},
		{
			name: "shell command without files",
			fn:   function("shell", "echo", v1beta1.Build{}),
			want: &Source{Kind: KindNone},
		},
		{name: "no source", fn: function("python", "main:handler", v1beta1.Build{}), wantErr: "spec.build.path"},
		{name: "source code type without code", fn: function("python", "main:handler", v1beta1.Build{CodeEntryType: "sourceCode"}), wantErr: "spec.build.functionSourceCode"},
		{name: "bad base64", fn: function("python", "main:handler", v1beta1.Build{FunctionSourceCode: "!!"}), wantErr: "spec.build.functionSourceCode"},
		{name: "source code without runtime", fn: function("", "main:handler", v1beta1.Build{FunctionSourceCode: code}), wantErr: "spec.runtime"},
		{name: "source code handler escaping", fn: function("python", "../x:handler", v1beta1.Build{FunctionSourceCode: code}), wantErr: "spec.handler"},
		{name: "image functions have no source", fn: function("python", "h", v1beta1.Build{CodeEntryType: "image"}), wantErr: "spec.build.codeEntryType"},
		{name: "unknown code entry type", fn: function("python", "h", v1beta1.Build{CodeEntryType: "svn", Path: "https://x.example.com/r"}), wantErr: "spec.build.codeEntryType"},
		{name: "local path", fn: function("python", "h", v1beta1.Build{Path: "/etc/passwd"}), wantErr: "spec.build.path"},
		{name: "file URL", fn: function("python", "h", v1beta1.Build{Path: "file:///etc/passwd", CodeEntryType: "archive"}), wantErr: "spec.build.path"},
		{name: "git scp syntax", fn: function("python", "h", v1beta1.Build{Path: "git@github.com:org/repo.git", CodeEntryType: "git",
			CodeEntryAttributes: freeform.Object{"branch": "main"}}), wantErr: "spec.build.path"},
		{name: "URL naming a directory", fn: function("python", "h", v1beta1.Build{Path: "https://example.com/dir/"}), wantErr: "spec.build.path"},
		{name: "workDir climbing out", fn: function("python", "h", v1beta1.Build{Path: "https://e.example.com/a.zip", CodeEntryType: "archive",
			CodeEntryAttributes: freeform.Object{"workDir": "a/../../b"}}), wantErr: "spec.build.codeEntryAttributes.workDir"},
		{name: "absolute workDir", fn: function("python", "h", v1beta1.Build{Path: "https://e.example.com/a.zip", CodeEntryType: "archive",
			CodeEntryAttributes: freeform.Object{"workDir": "/etc"}}), wantErr: "spec.build.codeEntryAttributes.workDir"},
		{name: "workDir not a string", fn: function("python", "h", v1beta1.Build{Path: "https://e.example.com/a.zip", CodeEntryType: "archive",
			CodeEntryAttributes: freeform.Object{"workDir": int64(3)}}), wantErr: "spec.build.codeEntryAttributes.workDir"},
		{name: "github without branch", fn: function("python", "h", v1beta1.Build{Path: "https://github.com/o/r", CodeEntryType: "github"}),
			wantErr: "spec.build.codeEntryAttributes.branch"},
		{name: "github branch walking the API", fn: function("python", "h", v1beta1.Build{Path: "https://github.com/o/r", CodeEntryType: "github",
			CodeEntryAttributes: freeform.Object{"branch": "../../../user"}}), wantErr: "spec.build.path"},
		{name: "github URL of something else", fn: function("python", "h", v1beta1.Build{Path: "https://gitlab.com/o/r", CodeEntryType: "github",
			CodeEntryAttributes: freeform.Object{"branch": "main"}}), wantErr: "spec.build.path"},
		{name: "git without reference", fn: function("python", "h", v1beta1.Build{Path: "https://g.example.com/r.git", CodeEntryType: "git"}),
			wantErr: "spec.build.codeEntryAttributes.branch"},
		{name: "git branch that is an option", fn: function("python", "h", v1beta1.Build{Path: "https://g.example.com/r.git", CodeEntryType: "git",
			CodeEntryAttributes: freeform.Object{"branch": "--upload-pack=touch /tmp/x"}}), wantErr: "spec.build.codeEntryAttributes.branch"},
		{name: "unrestored password", fn: function("python", "h", v1beta1.Build{Path: "https://g.example.com/r.git", CodeEntryType: "git",
			CodeEntryAttributes: freeform.Object{"branch": "main", "password": "$ref:/spec/build/codeentryattributes/password"}}),
			wantErr: "spec.build.codeEntryAttributes.password"},
		{name: "unrestored header", fn: function("python", "h", v1beta1.Build{Path: "https://e.example.com/a.zip", CodeEntryType: "archive",
			CodeEntryAttributes: freeform.Object{"headers": map[string]interface{}{"Authorization": "$ref:/x"}}}),
			wantErr: "spec.build.codeEntryAttributes.headers[Authorization]"},
		{name: "header value not a string", fn: function("python", "h", v1beta1.Build{Path: "https://e.example.com/a.zip", CodeEntryType: "archive",
			CodeEntryAttributes: freeform.Object{"headers": map[string]interface{}{"X-N": int64(1)}}}),
			wantErr: "spec.build.codeEntryAttributes.headers[X-N]"},
		{name: "header with a line break", fn: function("python", "h", v1beta1.Build{Path: "https://e.example.com/a.zip", CodeEntryType: "archive",
			CodeEntryAttributes: freeform.Object{"headers": map[string]interface{}{"X-A": "a\r\nHost: evil"}}}),
			wantErr: "spec.build.codeEntryAttributes.headers[X-A]"},
		{name: "header name that is not a token", fn: function("python", "h", v1beta1.Build{Path: "https://e.example.com/a.zip", CodeEntryType: "archive",
			CodeEntryAttributes: freeform.Object{"headers": map[string]interface{}{"Bad Name": "x"}}}),
			wantErr: "spec.build.codeEntryAttributes.headers"},
		{name: "s3 without bucket and key", fn: function("python", "h", v1beta1.Build{CodeEntryType: "s3"}), wantErr: "spec.build.codeEntryAttributes.s3Bucket"},
		{name: "s3 key id without secret", fn: function("python", "h", v1beta1.Build{CodeEntryType: "s3", CodeEntryAttributes: freeform.Object{
			"s3Bucket": "b", "s3ItemKey": "k.zip", "s3AccessKeyId": "AKIA"}}), wantErr: "spec.build.codeEntryAttributes.s3SecretAccessKey"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := SourceFromFunction(tc.fn, tc.refs)
			if tc.wantErr != "" {
				if !namesField(err, tc.wantErr) {
					t.Fatalf("got %v, %v; want an error naming %s", got, err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("source (-want +got):\n%s", diff)
			}
		})
	}
}

// namesField reports whether err is, or aggregates, a field error for fieldPath.
func namesField(err error, fieldPath string) bool {
	if err == nil {
		return false
	}
	var errs []error
	var agg utilerrors.Aggregate
	if errors.As(err, &agg) {
		errs = agg.Errors()
	} else {
		errs = []error{err}
	}
	for _, e := range errs {
		var fe *field.Error
		if errors.As(e, &fe) && fe.Field == fieldPath {
			return true
		}
	}
	return false
}

func TestSourceErrorsDoNotEchoCredentials(t *testing.T) {
	fn := function("python", "h", v1beta1.Build{Path: "https://user:pw-in-url@e.example.com/a.zip?sig=query-secret", CodeEntryType: "archive",
		CodeEntryAttributes: freeform.Object{
			"workDir": "../x",
			"headers": map[string]interface{}{"Authorization": "$ref:/token-ref", "X-Key": "a\nheader-secret"},
		}})
	_, err := SourceFromFunction(fn, nil)
	if err == nil {
		t.Fatal("no error")
	}
	for _, secret := range []string{"pw-in-url", "query-secret", "header-secret", "token-ref"} {
		if strings.Contains(err.Error(), secret) {
			t.Errorf("error %q repeats %q", err, secret)
		}
	}
}

func TestSourceFromBuildMatchesTyped(t *testing.T) {
	generic := map[string]interface{}{
		"path":          "https://git.example.com/r.git",
		"codeEntryType": "git",
		"codeEntryAttributes": map[string]interface{}{
			"branch": "main", "workDir": "fn", "password": "$ref:/p",
		},
	}
	got, err := SourceFromBuild(generic, "golang", "main:Handler", map[string]string{"$ref:/p": "pw"})
	if err != nil {
		t.Fatal(err)
	}
	want, err := SourceFromFunction(function("golang", "main:Handler", v1beta1.Build{Path: "https://git.example.com/r.git", CodeEntryType: "git",
		CodeEntryAttributes: freeform.Object{"branch": "main", "workDir": "fn", "password": "pw"}}), nil)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("generic vs typed (-typed +generic):\n%s", diff)
	}

	for _, bad := range []map[string]interface{}{
		{"path": int64(1)},
		{"functionSourceCode": []interface{}{}},
		{"path": "https://e.example.com/a.zip", "codeEntryAttributes": "x"},
	} {
		if _, err := SourceFromBuild(bad, "python", "h", nil); err == nil {
			t.Errorf("SourceFromBuild(%v) succeeded", bad)
		}
	}
}

func TestSourceStringRedacts(t *testing.T) {
	src := &Source{Kind: KindGit, URL: "https://user:pw@git.example.com/r.git?token=tok", Headers: http.Header{"Authorization": {"Bearer hdr"}},
		Git: GitSource{Branch: "main", Username: "bot", Password: "hunter2"},
		S3:  S3Source{Bucket: "b", Key: "k", SecretAccessKey: "s3secret", SessionToken: "s3token"}}
	for _, s := range []string{src.String(), fmt.Sprintf("%v", src), fmt.Sprintf("%+v", src), fmt.Sprintf("%#v", src)} {
		for _, secret := range []string{"pw", "tok", "hdr", "hunter2", "s3secret", "s3token"} {
			if strings.Contains(s, secret) {
				t.Errorf("%q contains %q", s, secret)
			}
		}
	}
}
