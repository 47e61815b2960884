// Copyright The nuclio-apiserver Authors.
// SPDX-License-Identifier: Apache-2.0

package fetch

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-git/go-billy/v5/osfs"
	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/format/pktline"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/protocol/packp"
	"github.com/go-git/go-git/v5/plumbing/transport"
	githttp "github.com/go-git/go-git/v5/plumbing/transport/http"
	"github.com/go-git/go-git/v5/plumbing/transport/server"
	"github.com/google/go-cmp/cmp"

	"github.com/nuclio-apiserver/nuclio-apiserver/apis/nuclio/freeform"
	"github.com/nuclio-apiserver/nuclio-apiserver/apis/nuclio/v1beta1"
)

// testRepo is a git repository built with go-git in a temporary directory.
type testRepo struct {
	base    string // directory the in-process git server serves from
	path    string // endpoint path of the repository under base
	first   plumbing.Hash
	second  plumbing.Hash
	release plumbing.Hash
}

var signature = &object.Signature{Name: "Test", Email: "test@example.com", When: fixedTime}

// commitFiles writes files (a content starting with "->" is a symlink) into the worktree and commits.
func commitFiles(t *testing.T, repo *git.Repository, dir string, files map[string]string, message string) plumbing.Hash {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		_ = os.Remove(p)
		if target, ok := strings.CutPrefix(content, "->"); ok {
			if err := os.Symlink(target, p); err != nil {
				t.Fatal(err)
			}
			continue
		}
		mode := os.FileMode(0o644)
		if strings.HasSuffix(name, ".sh") {
			mode = 0o755
		}
		if err := os.WriteFile(p, []byte(content), mode); err != nil {
			t.Fatal(err)
		}
	}
	wt, err := repo.Worktree()
	if err != nil {
		t.Fatal(err)
	}
	if err := wt.AddWithOptions(&git.AddOptions{All: true}); err != nil {
		t.Fatal(err)
	}
	h, err := wt.Commit(message, &git.CommitOptions{Author: signature, Committer: signature})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func newTestRepo(t *testing.T, files map[string]string) *testRepo {
	t.Helper()
	base := t.TempDir()
	dir := filepath.Join(base, "repo")
	repo, err := git.PlainInit(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	r := &testRepo{base: base, path: "/repo/.git"}
	r.first = commitFiles(t, repo, dir, files, "first")
	if _, err := repo.CreateTag("v1", r.first, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := repo.CreateTag("v1-annotated", r.first, &git.CreateTagOptions{Tagger: signature, Message: "release 1"}); err != nil {
		t.Fatal(err)
	}
	if err := repo.Storer.SetReference(plumbing.NewHashReference("refs/heads/release", r.first)); err != nil {
		t.Fatal(err)
	}
	r.release = r.first
	r.second = commitFiles(t, repo, dir, map[string]string{"main.go": "package main // v2\n"}, "second")
	return r
}

// transport serves the repository in-process: no socket at all.
func (r *testRepo) transport() transport.Transport {
	return server.NewClient(server.NewFilesystemLoader(osfs.New(r.base)))
}

func (r *testRepo) url() string { return "https://git.example.com" + r.path }

var repoFiles = map[string]string{
	"main.go":     "package main // v1\n",
	"build.sh":    "#!/bin/sh\n",
	"lib/util.go": "package lib\n",
	"util.go":     "->lib/util.go",
	"fn/handler":  "h",
}

func TestFetchGitReferences(t *testing.T) {
	repo := newTestRepo(t, repoFiles)
	v1 := map[string]string{"main.go": "package main // v1\n", "build.sh": "#!/bin/sh\n", "lib": "/", "lib/util.go": "package lib\n",
		"util.go": "->lib/util.go", "fn": "/", "fn/handler": "h"}
	v2 := map[string]string{}
	for k, v := range v1 {
		v2[k] = v
	}
	v2["main.go"] = "package main // v2\n"
	for _, tc := range []struct {
		name       string
		git        GitSource
		want       map[string]string
		wantCommit plumbing.Hash
	}{
		{name: "default branch", git: GitSource{Branch: "master"}, want: v2, wantCommit: repo.second},
		{name: "other branch", git: GitSource{Branch: "release"}, want: v1, wantCommit: repo.first},
		{name: "lightweight tag", git: GitSource{Tag: "v1"}, want: v1, wantCommit: repo.first},
		{name: "annotated tag", git: GitSource{Tag: "v1-annotated"}, want: v1, wantCommit: repo.first},
		{name: "reference name", git: GitSource{Reference: "refs/heads/release"}, want: v1, wantCommit: repo.first},
		{name: "HEAD", git: GitSource{Reference: "HEAD"}, want: v2, wantCommit: repo.second},
		{name: "commit hash", git: GitSource{Reference: repo.first.String()}, want: v1, wantCommit: repo.first},
		{name: "branch wins over tag", git: GitSource{Branch: "master", Tag: "v1"}, want: v2, wantCommit: repo.second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := &Fetcher{GitTransport: repo.transport()}
			dest, res, err := fetchTo(t, f, &Source{Kind: KindGit, URL: repo.url(), Git: tc.git})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, listTree(t, dest)); diff != "" {
				t.Errorf("tree (-want +got):\n%s", diff)
			}
			if res.Commit != tc.wantCommit.String() {
				t.Errorf("commit %s, want %s", res.Commit, tc.wantCommit)
			}
			info, err := os.Stat(filepath.Join(dest, "build.sh"))
			if err != nil || info.Mode().Perm() != 0o755 {
				t.Errorf("build.sh mode %v, %v; want 0755", info.Mode(), err)
			}
		})
	}
}

func TestFetchGitWorkDirAndErrors(t *testing.T) {
	repo := newTestRepo(t, repoFiles)
	f := &Fetcher{GitTransport: repo.transport()}

	dest, _, err := fetchTo(t, f, &Source{Kind: KindGit, URL: repo.url(), Git: GitSource{Branch: "master"}, WorkDir: "fn"})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]string{"handler": "h"}, listTree(t, dest)); diff != "" {
		t.Errorf("tree (-want +got):\n%s", diff)
	}

	for _, tc := range []struct {
		name string
		src  *Source
		want string
	}{
		{name: "missing branch", src: &Source{Kind: KindGit, URL: repo.url(), Git: GitSource{Branch: "nope"}},
			want: "spec.build.codeEntryAttributes.branch: the repository has no refs/heads/nope"},
		{name: "missing tag", src: &Source{Kind: KindGit, URL: repo.url(), Git: GitSource{Tag: "v9"}},
			want: "spec.build.codeEntryAttributes.tag"},
		{name: "invalid reference", src: &Source{Kind: KindGit, URL: repo.url(), Git: GitSource{Reference: "refs/heads/a..b"}},
			want: "spec.build.codeEntryAttributes.reference"},
		{name: "missing repository", src: &Source{Kind: KindGit, URL: "https://git.example.com/none/.git", Git: GitSource{Branch: "master"}},
			want: "repository not found"},
		{name: "missing workDir", src: &Source{Kind: KindGit, URL: repo.url(), Git: GitSource{Branch: "master"}, WorkDir: "nope"},
			want: "workDir"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dest, _, err := fetchTo(t, f, tc.src)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error containing %q", err, tc.want)
			}
			assertNothingLeft(t, dest)
		})
	}
}

func TestFetchGitRefusesUnsafeTrees(t *testing.T) {
	for name, files := range map[string]map[string]string{
		"symlink out of the repository": {"main.go": "x", "escape": "->../../../../etc"},
		"absolute symlink":              {"main.go": "x", "passwd": "->/etc/passwd"},
	} {
		t.Run(name, func(t *testing.T) {
			repo := newTestRepo(t, files)
			dest, _, err := fetchTo(t, &Fetcher{GitTransport: repo.transport()}, &Source{Kind: KindGit, URL: repo.url(), Git: GitSource{Branch: "master"}})
			if !errors.Is(err, ErrUnsafeEntry) {
				t.Fatalf("got %v, want an unsafe entry error", err)
			}
			assertNothingLeft(t, dest)
		})
	}
}

func TestFetchGitLimits(t *testing.T) {
	repo := newTestRepo(t, map[string]string{"big.bin": strings.Repeat("0123456789abcdef", 8<<10), "a": "a", "b": "b", "c": "c"})
	for _, tc := range []struct {
		name   string
		limits Limits
	}{
		{name: "pack larger than the download cap", limits: Limits{MaxDownloadBytes: 200}},
		{name: "blob larger than the file cap", limits: Limits{MaxFileBytes: 64 << 10}},
		{name: "too many entries", limits: Limits{MaxEntries: 3}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dest, _, err := fetchTo(t, &Fetcher{GitTransport: repo.transport(), Limits: tc.limits},
				&Source{Kind: KindGit, URL: repo.url(), Git: GitSource{Branch: "master"}})
			if !errors.Is(err, ErrLimitExceeded) {
				t.Fatalf("got %v, want a limit error", err)
			}
			assertNothingLeft(t, dest)
		})
	}
}

// smartHTTP serves a repository over git's smart HTTP protocol (upload-pack only) with go-git's server
// side, requiring basic auth.
func smartHTTP(t *testing.T, repo *testRepo, user, password string) *httptest.Server {
	t.Helper()
	srv := server.NewServer(server.NewFilesystemLoader(osfs.New(repo.base)))
	ep, err := transport.NewEndpoint(repo.url())
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /repo/.git/info/refs", func(w http.ResponseWriter, r *http.Request) {
		if u, p, ok := r.BasicAuth(); !ok || u != user || p != password {
			w.Header().Set("WWW-Authenticate", `Basic realm="git"`)
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		if r.URL.Query().Get("service") != "git-upload-pack" {
			http.Error(w, "dumb protocol not served", http.StatusForbidden)
			return
		}
		session, err := srv.NewUploadPackSession(ep, nil)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		ar, err := session.AdvertisedReferencesContext(r.Context())
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		ar.Prefix = [][]byte{[]byte("# service=git-upload-pack"), pktline.Flush}
		w.Header().Set("Content-Type", "application/x-git-upload-pack-advertisement")
		_ = ar.Encode(w)
	})
	mux.HandleFunc("POST /repo/.git/git-upload-pack", func(w http.ResponseWriter, r *http.Request) {
		if u, p, ok := r.BasicAuth(); !ok || u != user || p != password {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		session, err := srv.NewUploadPackSession(ep, nil)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		if _, err := session.AdvertisedReferencesContext(r.Context()); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		req := packp.NewUploadPackRequest()
		if err := req.Decode(r.Body); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		resp, err := session.UploadPack(r.Context(), req)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		defer resp.Close()
		w.Header().Set("Content-Type", "application/x-git-upload-pack-result")
		_ = resp.Encode(w)
	})
	s := httptest.NewServer(mux)
	if !strings.HasPrefix(s.URL, "http://127.0.0.1:") {
		t.Fatalf("test server listens on %s, want 127.0.0.1", s.URL)
	}
	t.Cleanup(s.Close)
	return s
}

func TestFetchGitOverSmartHTTPWithCredentials(t *testing.T) {
	repo := newTestRepo(t, repoFiles)
	s := smartHTTP(t, repo, "bot", "hunter2")
	f := &Fetcher{GitTransport: githttp.NewClient(s.Client())}

	src, err := SourceFromFunction(function("golang", "main:Handler", v1beta1.Build{
		Path: s.URL + "/repo/.git", CodeEntryType: "git",
		CodeEntryAttributes: freeform.Object{"branch": "release", "username": "bot", "password": "$ref:/pw", "workDir": "lib"},
	}), map[string]string{"$ref:/pw": "hunter2"})
	if err != nil {
		t.Fatal(err)
	}
	dest, res, err := fetchTo(t, f, src)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]string{"util.go": "package lib\n"}, listTree(t, dest)); diff != "" {
		t.Errorf("tree (-want +got):\n%s", diff)
	}
	if res.Commit != repo.first.String() {
		t.Errorf("commit %s, want %s", res.Commit, repo.first)
	}

	src.Git.Password = "wrong"
	dest, _, err = fetchTo(t, f, src)
	if err == nil || !strings.Contains(err.Error(), "authentication required") ||
		strings.Contains(err.Error(), "wrong") || strings.Contains(err.Error(), "hunter2") {
		t.Fatalf("got %v, want an authentication error without the password", err)
	}
	assertNothingLeft(t, dest)
}
