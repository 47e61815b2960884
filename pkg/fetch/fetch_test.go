// Copyright The nuclio-apiserver Authors.
// SPDX-License-Identifier: Apache-2.0

package fetch

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/google/go-cmp/cmp"

	"github.com/nuclio-apiserver/nuclio-apiserver/apis/nuclio/freeform"
	"github.com/nuclio-apiserver/nuclio-apiserver/apis/nuclio/v1beta1"
)

func TestFetchSourceCode(t *testing.T) {
	code := base64.StdEncoding.EncodeToString([]byte("echo hi\r\necho there\r\n"))
	src, err := SourceFromFunction(function("shell", "main.sh", v1beta1.Build{FunctionSourceCode: code}), nil)
	if err != nil {
		t.Fatal(err)
	}
	// No client at all: source code needs no network.
	dest, res, err := fetchTo(t, &Fetcher{}, src)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]string{"main.sh": "echo hi\necho there\n"}, listTree(t, dest)); diff != "" {
		t.Errorf("tree (-want +got):\n%s", diff)
	}
	if res.Kind != KindSourceCode || res.Entries != 1 {
		t.Errorf("result %+v", res)
	}
}

func TestFetchSourceCodeOverLimit(t *testing.T) {
	src := &Source{Kind: KindSourceCode, FileName: "main.py", SourceCode: bytes.Repeat([]byte("x"), 2048)}
	dest, _, err := fetchTo(t, &Fetcher{Limits: Limits{MaxFileBytes: 1024}}, src)
	if !errors.Is(err, ErrLimitExceeded) {
		t.Fatalf("got %v, want a limit error", err)
	}
	assertNothingLeft(t, dest)
}

func TestFetchNone(t *testing.T) {
	dest, _, err := fetchTo(t, &Fetcher{}, &Source{Kind: KindNone})
	if err != nil {
		t.Fatal(err)
	}
	if got := listTree(t, dest); len(got) != 0 {
		t.Errorf("tree %v, want empty", got)
	}
}

func TestFetchSingleFileWithHeaders(t *testing.T) {
	srv := newFileServer(t, map[string]response{"/fns/main.py": {body: []byte("print(2)\n")}})
	src, err := SourceFromFunction(function("python", "main:handler", v1beta1.Build{
		Path:                srv.URL + "/fns/main.py?sig=abc",
		CodeEntryAttributes: freeform.Object{"headers": map[string]interface{}{"X-V3io-Session-Key": "$ref:/k"}},
	}), map[string]string{"$ref:/k": "session-key"})
	if err != nil {
		t.Fatal(err)
	}
	dest, _, err := fetchTo(t, &Fetcher{HTTPClient: srv.Client()}, src)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]string{"main.py": "print(2)\n"}, listTree(t, dest)); diff != "" {
		t.Errorf("tree (-want +got):\n%s", diff)
	}
	req := srv.lastRequest(t)
	if req.Header.Get("X-V3io-Session-Key") != "session-key" || req.URL.RawQuery != "sig=abc" {
		t.Errorf("request %s with headers %v", req.URL, req.Header)
	}
}

func TestFetchGitHubZipball(t *testing.T) {
	zipball := makeZip(t,
		entry{name: "nuclio-examples-0123abc/"},
		entry{name: "nuclio-examples-0123abc/README.md", body: "readme"},
		entry{name: "nuclio-examples-0123abc/hello/"},
		entry{name: "nuclio-examples-0123abc/hello/main.go", body: "package main\n"},
	)
	srv := newFileServer(t, map[string]response{"/repos/nuclio/examples/zipball/release/1.x": {body: zipball}})
	rt := &rewriteTransport{target: srv.URL, next: srv.Client().Transport}
	src, err := SourceFromFunction(function("golang", "main:Handler", v1beta1.Build{
		Path: "https://github.com/nuclio/examples", CodeEntryType: "github",
		CodeEntryAttributes: freeform.Object{"branch": "release/1.x", "workDir": "hello",
			"headers": map[string]interface{}{"Authorization": "token gh"}},
	}), nil)
	if err != nil {
		t.Fatal(err)
	}
	dest, _, err := fetchTo(t, &Fetcher{HTTPClient: &http.Client{Transport: rt}}, src)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]string{"main.go": "package main\n"}, listTree(t, dest)); diff != "" {
		t.Errorf("tree (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"https://api.github.com/repos/nuclio/examples/zipball/release/1.x"}, rt.asked); diff != "" {
		t.Errorf("requested URLs (-want +got):\n%s", diff)
	}
	if rt.auth[0] != "token gh" {
		t.Errorf("Authorization %q", rt.auth[0])
	}
}

func TestFetchGitHubZipballMustStartWithADirectory(t *testing.T) {
	srv := newFileServer(t, map[string]response{"/z": {body: makeZip(t, entry{name: "a-file", body: "x"}, entry{name: "b/"})}})
	dest, _, err := fetchTo(t, &Fetcher{HTTPClient: srv.Client()}, &Source{Kind: KindGitHub, URL: srv.URL + "/z", StripTopDirectory: true})
	if err == nil || !strings.Contains(err.Error(), "does not start with a directory") {
		t.Fatalf("got %v", err)
	}
	assertNothingLeft(t, dest)
}

func TestFetchDestination(t *testing.T) {
	src := &Source{Kind: KindSourceCode, FileName: "a.py", SourceCode: []byte("a")}
	parent := t.TempDir()

	empty := filepath.Join(parent, "empty")
	if err := os.Mkdir(empty, 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := (&Fetcher{}).Fetch(context.Background(), src, empty); err != nil {
		t.Errorf("empty destination: %v", err)
	}

	full := filepath.Join(parent, "full")
	if err := os.MkdirAll(filepath.Join(full, "x"), 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := (&Fetcher{}).Fetch(context.Background(), src, full); err == nil {
		t.Error("fetching into a non-empty directory succeeded")
	}

	file := filepath.Join(parent, "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := (&Fetcher{}).Fetch(context.Background(), src, file); err == nil {
		t.Error("fetching onto a file succeeded")
	}

	if _, err := (&Fetcher{}).Fetch(context.Background(), src, filepath.Join(parent, "missing", "dest")); err == nil {
		t.Error("fetching under a missing parent succeeded")
	}

	entries, _ := os.ReadDir(parent)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if diff := cmp.Diff([]string{"empty", "file", "full"}, names); diff != "" {
		t.Errorf("parent entries (-want +got):\n%s", diff)
	}
}

func TestFetchNeedsInjectedClients(t *testing.T) {
	for _, src := range []*Source{
		{Kind: KindURL, URL: "https://example.com/a.py", FileName: "a.py"},
		{Kind: KindArchive, URL: "https://example.com/a.zip"},
		{Kind: KindGit, URL: "https://example.com/r.git", Git: GitSource{Branch: "main"}},
		{Kind: KindS3, S3: S3Source{Bucket: "b", Key: "k.zip", Region: "us-east-1"}},
	} {
		dest, _, err := fetchTo(t, &Fetcher{}, src)
		if err == nil || !strings.Contains(err.Error(), "configured") {
			t.Errorf("%v: got %v, want a missing-client error", src, err)
		}
		assertNothingLeft(t, dest)
	}
}

// fakeS3 serves objects from memory and records what it was asked.
type fakeS3 struct {
	objects       map[string][]byte
	declaredExtra int64
	region        string
	creds         aws.CredentialsProvider
	gets          []string
}

func (f *fakeS3) newClient(region string, creds aws.CredentialsProvider) (S3Client, error) {
	f.region, f.creds = region, creds
	return f, nil
}

func (f *fakeS3) GetObject(_ context.Context, in *s3.GetObjectInput, _ ...func(*s3.Options)) (*s3.GetObjectOutput, error) {
	key := aws.ToString(in.Bucket) + "/" + aws.ToString(in.Key)
	f.gets = append(f.gets, key)
	body, ok := f.objects[key]
	if !ok {
		return nil, errors.New("NoSuchKey: the specified key does not exist")
	}
	return &s3.GetObjectOutput{Body: io.NopCloser(bytes.NewReader(body)), ContentLength: aws.Int64(int64(len(body)) + f.declaredExtra)}, nil
}

func TestFetchS3(t *testing.T) {
	fake := &fakeS3{objects: map[string][]byte{
		"bucket/fns/src.tgz":      gzipped(t, makeTar(t, entry{name: "src/"}, entry{name: "src/main.go", body: "package main\n"})),
		"bucket/fns/handler.jar":  []byte("PK\x03\x04jar"),
		"bucket/fns/not-an-archv": []byte("plain"),
	}}
	f := &Fetcher{NewS3Client: fake.newClient}

	src, err := SourceFromFunction(function("golang", "main:Handler", v1beta1.Build{CodeEntryType: "s3", CodeEntryAttributes: freeform.Object{
		"s3Bucket": "bucket", "s3ItemKey": "fns/src.tgz", "s3Region": "eu-central-1", "workDir": "src",
		"s3AccessKeyId": "AKIAEXAMPLE", "s3SecretAccessKey": "$ref:/s", "s3SessionToken": "session",
	}}), map[string]string{"$ref:/s": "secret"})
	if err != nil {
		t.Fatal(err)
	}
	dest, _, err := fetchTo(t, f, src)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]string{"main.go": "package main\n"}, listTree(t, dest)); diff != "" {
		t.Errorf("tree (-want +got):\n%s", diff)
	}
	if fake.region != "eu-central-1" || fake.creds == nil {
		t.Fatalf("client for region %q with credentials %v", fake.region, fake.creds)
	}
	creds, err := fake.creds.Retrieve(context.Background())
	if err != nil || creds.AccessKeyID != "AKIAEXAMPLE" || creds.SecretAccessKey != "secret" || creds.SessionToken != "session" {
		t.Errorf("credentials %+v, %v", creds, err)
	}

	// Anonymous, a jar kept as a file.
	src, err = SourceFromFunction(function("java", "Handler", v1beta1.Build{CodeEntryType: "s3", CodeEntryAttributes: freeform.Object{
		"s3Bucket": "bucket", "s3ItemKey": "fns/handler.jar"}}), nil)
	if err != nil {
		t.Fatal(err)
	}
	dest, _, err = fetchTo(t, f, src)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]string{"handler.jar": "PK\x03\x04jar"}, listTree(t, dest)); diff != "" {
		t.Errorf("tree (-want +got):\n%s", diff)
	}
	if fake.creds != nil || fake.region != DefaultS3Region {
		t.Errorf("anonymous request got credentials %v in region %q", fake.creds, fake.region)
	}

	for name, tc := range map[string]struct {
		key   string
		extra int64
		want  string
	}{
		"missing object":           {key: "fns/missing.zip", want: "NoSuchKey"},
		"not an archive":           {key: "fns/not-an-archv", want: ErrUnsupportedArchive.Error()},
		"length differs from body": {key: "fns/src.tgz", extra: 10, want: "declared"},
	} {
		fake.declaredExtra = tc.extra
		dest, _, err := fetchTo(t, f, &Source{Kind: KindS3, S3: S3Source{Bucket: "bucket", Key: tc.key, Region: "us-east-1"}})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: got %v, want an error containing %q", name, err, tc.want)
		}
		assertNothingLeft(t, dest)
	}
}

func TestFetchStopsWhenCancelled(t *testing.T) {
	srv := newFileServer(t, map[string]response{"/a.tar": {body: makeTar(t, sourceEntries...)}})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	dest := filepath.Join(t.TempDir(), "handler")
	_, err := (&Fetcher{HTTPClient: srv.Client()}).Fetch(ctx, &Source{Kind: KindArchive, URL: srv.URL + "/a.tar"}, dest)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want context.Canceled", err)
	}
	assertNothingLeft(t, dest)
	if _, err := (&Fetcher{}).Fetch(ctx, &Source{Kind: KindSourceCode, FileName: "a.py", SourceCode: []byte("x")}, dest); !errors.Is(err, context.Canceled) {
		t.Fatalf("source code: got %v, want context.Canceled", err)
	}
}
