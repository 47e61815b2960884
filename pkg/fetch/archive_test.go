// Copyright The nuclio-apiserver Authors.
// SPDX-License-Identifier: Apache-2.0

package fetch

import (
	"archive/tar"
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// sourceEntries is the tree every format test archive holds (testdata/source.tar.bz2 too).
var sourceEntries = []entry{
	{name: "lib/"},
	{name: "main.py", body: "print(1)\n"},
	{name: "lib/util.py", body: "x = 1\n"},
	{name: "run.sh", body: "#!/bin/sh\n", mode: 0o755},
}

var sourceTree = map[string]string{"lib": "/", "main.py": "print(1)\n", "lib/util.py": "x = 1\n", "run.sh": "#!/bin/sh\n"}

func TestArchiveFormats(t *testing.T) {
	tarball := makeTar(t, sourceEntries...)
	bz2, err := os.ReadFile(filepath.Join("testdata", "source.tar.bz2"))
	if err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string][]byte{
		"zip":     makeZip(t, sourceEntries...),
		"tar":     tarball,
		"tar.gz":  gzipped(t, tarball),
		"tar.bz2": bz2,
		"tar.xz":  xzed(t, tarball),
	} {
		t.Run(name, func(t *testing.T) {
			// The name says nothing about the format: content decides.
			srv := newFileServer(t, map[string]response{"/download": {body: data}})
			f := &Fetcher{HTTPClient: srv.Client()}
			dest, res, err := fetchTo(t, f, &Source{Kind: KindArchive, URL: srv.URL + "/download"})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(sourceTree, listTree(t, dest)); diff != "" {
				t.Errorf("tree (-want +got):\n%s", diff)
			}
			if res.Entries != 4 || res.Bytes != int64(len("print(1)\n")+len("x = 1\n")+len("#!/bin/sh\n")) {
				t.Errorf("result %+v", res)
			}
			info, err := os.Stat(filepath.Join(dest, "run.sh"))
			if err != nil || info.Mode().Perm() != 0o755 {
				t.Errorf("run.sh mode %v, %v; want 0755", info.Mode(), err)
			}
			info, err = os.Stat(filepath.Join(dest, "main.py"))
			if err != nil || info.Mode().Perm() != 0o644 {
				t.Errorf("main.py mode %v, %v; want 0644", info.Mode(), err)
			}
		})
	}
}

// fetchArchiveBytes serves data and fetches it as an archive with limits.
func fetchArchiveBytes(t *testing.T, data []byte, limits Limits, mutate func(*Source)) (string, *Result, error) {
	t.Helper()
	srv := newFileServer(t, map[string]response{"/a": {body: data}})
	src := &Source{Kind: KindArchive, URL: srv.URL + "/a"}
	if mutate != nil {
		mutate(src)
	}
	return fetchTo(t, &Fetcher{HTTPClient: srv.Client(), Limits: limits}, src)
}

func TestMaliciousArchives(t *testing.T) {
	big := strings.Repeat("\x00", 4<<20) // compresses to a few KiB
	for _, tc := range []struct {
		name   string
		data   func(t *testing.T) []byte
		limits Limits
		want   error
	}{
		{name: "tar zip-slip", data: func(t *testing.T) []byte { return makeTar(t, entry{name: "../../evil", body: "x"}) }, want: ErrUnsafeEntry},
		{name: "zip zip-slip", data: func(t *testing.T) []byte { return makeZip(t, entry{name: "a/../../evil", body: "x"}) }, want: ErrUnsafeEntry},
		{name: "zip backslash slip", data: func(t *testing.T) []byte { return makeZip(t, entry{name: `..\..\evil`, body: "x"}) }, want: ErrUnsafeEntry},
		{name: "absolute tar name", data: func(t *testing.T) []byte { return makeTar(t, entry{name: "/etc/cron.d/x", body: "x"}) }, want: ErrUnsafeEntry},
		{name: "absolute zip name", data: func(t *testing.T) []byte { return makeZip(t, entry{name: "/etc/x", body: "x"}) }, want: ErrUnsafeEntry},
		{
			name: "symlink out of the tree",
			data: func(t *testing.T) []byte {
				return makeTar(t, entry{name: "lib/", typ: tar.TypeDir}, entry{name: "lib/up", typ: tar.TypeSymlink, link: "../../outside"})
			},
			want: ErrUnsafeEntry,
		},
		{
			name: "absolute symlink",
			data: func(t *testing.T) []byte {
				return makeTar(t, entry{name: "passwd", typ: tar.TypeSymlink, link: "/etc/passwd"})
			},
			want: ErrUnsafeEntry,
		},
		{
			name: "zip symlink out of the tree",
			data: func(t *testing.T) []byte {
				return makeZip(t, entry{name: "x", typ: tar.TypeSymlink, link: "../../../etc"})
			},
			want: ErrUnsafeEntry,
		},
		{
			// Each link looks harmless by itself; followed together they leave the tree:
			// d/up -> .. is the top, x -> d/up/.. is then above it.
			name: "symlink chain out of the tree",
			data: func(t *testing.T) []byte {
				return makeTar(t,
					entry{name: "d/"},
					entry{name: "x", typ: tar.TypeSymlink, link: "d/up/.."},
					entry{name: "d/up", typ: tar.TypeSymlink, link: ".."})
			},
			want: ErrUnsafeEntry,
		},
		{
			name: "write through a symlink",
			data: func(t *testing.T) []byte {
				return makeTar(t, entry{name: "sub/"}, entry{name: "link", typ: tar.TypeSymlink, link: "sub"},
					entry{name: "link/file", body: "x"})
			},
			want: ErrUnsafeEntry,
		},
		{
			name: "hard link out of the tree",
			data: func(t *testing.T) []byte {
				return makeTar(t, entry{name: "passwd", typ: tar.TypeLink, link: "../../../etc/passwd"})
			},
			want: ErrUnsafeEntry,
		},
		{
			name: "hard link to a name not in the archive",
			data: func(t *testing.T) []byte { return makeTar(t, entry{name: "h", typ: tar.TypeLink, link: "missing"}) },
			want: ErrUnsafeEntry,
		},
		{
			name: "hard link to a symlink",
			data: func(t *testing.T) []byte {
				return makeTar(t, entry{name: "s", typ: tar.TypeSymlink, link: "x"}, entry{name: "h", typ: tar.TypeLink, link: "s"})
			},
			want: ErrUnsafeEntry,
		},
		{name: "character device", data: func(t *testing.T) []byte { return makeTar(t, entry{name: "null", typ: tar.TypeChar}) }, want: ErrUnsafeEntry},
		{name: "block device", data: func(t *testing.T) []byte { return makeTar(t, entry{name: "sda", typ: tar.TypeBlock}) }, want: ErrUnsafeEntry},
		{name: "fifo", data: func(t *testing.T) []byte { return makeTar(t, entry{name: "p", typ: tar.TypeFifo}) }, want: ErrUnsafeEntry},
		{name: "zip device", data: func(t *testing.T) []byte { return makeZip(t, entry{name: "null", typ: tar.TypeChar}) }, want: ErrUnsafeEntry},
		{
			name: "duplicate file",
			data: func(t *testing.T) []byte {
				return makeTar(t, entry{name: "a", body: "1"}, entry{name: "./a", body: "2"})
			},
			want: ErrUnsafeEntry,
		},
		{
			name: "file nested under a file",
			data: func(t *testing.T) []byte {
				return makeTar(t, entry{name: "a", body: "1"}, entry{name: "a/b", body: "2"})
			},
			want: ErrUnsafeEntry,
		},
		{
			name:   "too many tar entries",
			data:   func(t *testing.T) []byte { return makeTar(t, manyEntries(11)...) },
			limits: Limits{MaxEntries: 10},
			want:   ErrLimitExceeded,
		},
		{
			name:   "too many zip entries",
			data:   func(t *testing.T) []byte { return makeZip(t, manyEntries(11)...) },
			limits: Limits{MaxEntries: 10},
			want:   ErrLimitExceeded,
		},
		{
			name:   "implied parent directories count as entries",
			data:   func(t *testing.T) []byte { return makeTar(t, entry{name: "a/b/c/d/e/f/g/h/i/j/k", body: "x"}) },
			limits: Limits{MaxEntries: 10},
			want:   ErrLimitExceeded,
		},
		{
			name:   "gzip bomb file",
			data:   func(t *testing.T) []byte { return gzipped(t, makeTar(t, entry{name: "zeros", body: big})) },
			limits: Limits{MaxFileBytes: 1 << 20},
			want:   ErrLimitExceeded,
		},
		{
			name:   "xz bomb file",
			data:   func(t *testing.T) []byte { return xzed(t, makeTar(t, entry{name: "zeros", body: big})) },
			limits: Limits{MaxFileBytes: 1 << 20},
			want:   ErrLimitExceeded,
		},
		{
			name:   "zip bomb file",
			data:   func(t *testing.T) []byte { return makeZip(t, entry{name: "zeros", body: big}) },
			limits: Limits{MaxFileBytes: 1 << 20},
			want:   ErrLimitExceeded,
		},
		{
			name: "total size across files",
			data: func(t *testing.T) []byte {
				part := strings.Repeat("y", 400<<10)
				return gzipped(t, makeTar(t, entry{name: "a", body: part}, entry{name: "b", body: part}, entry{name: "c", body: part}))
			},
			limits: Limits{MaxTotalBytes: 1 << 20},
			want:   ErrLimitExceeded,
		},
		{
			name:   "download larger than the cap",
			data:   func(t *testing.T) []byte { return makeTar(t, entry{name: "a", body: strings.Repeat("z", 64<<10)}) },
			limits: Limits{MaxDownloadBytes: 16 << 10},
			want:   ErrLimitExceeded,
		},
		{name: "not an archive", data: func(*testing.T) []byte { return []byte("<html>not found</html>") }, want: ErrUnsupportedArchive},
		{name: "empty tar", data: func(t *testing.T) []byte { return makeTar(t) }, want: ErrUnsupportedArchive},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dest, _, err := fetchArchiveBytes(t, tc.data(t), tc.limits, nil)
			if !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
			assertNothingLeft(t, dest)
		})
	}
}

func manyEntries(n int) []entry {
	var out []entry
	for i := range n {
		out = append(out, entry{name: "f" + strings.Repeat("x", i), body: "x"})
	}
	return out
}

func TestLimitErrorNamesTheBound(t *testing.T) {
	_, _, err := fetchArchiveBytes(t, makeTar(t, entry{name: "big", body: strings.Repeat("a", 2048)}), Limits{MaxFileBytes: 1024}, nil)
	var limitErr *LimitError
	if !errors.As(err, &limitErr) || limitErr.What != "file size" || limitErr.Limit != 1024 || limitErr.Name != "big" {
		t.Fatalf("got %v, want a file size LimitError for big", err)
	}
}

func TestNestedArchivesAreNotUnpacked(t *testing.T) {
	inner := makeZip(t, entry{name: "zeros", body: strings.Repeat("\x00", 8<<20)})
	innerTar := gzipped(t, makeTar(t, entry{name: "zeros", body: strings.Repeat("\x00", 8<<20)}))
	outer := makeZip(t, entry{name: "inner.zip", body: string(inner)}, entry{name: "inner.tgz", body: string(innerTar)})
	dest, res, err := fetchArchiveBytes(t, outer, Limits{MaxFileBytes: 1 << 20, MaxTotalBytes: 1 << 20}, nil)
	if err != nil {
		t.Fatal(err)
	}
	got := listTree(t, dest)
	if len(got) != 2 || got["inner.zip"] != string(inner) || got["inner.tgz"] != string(innerTar) {
		t.Errorf("tree has %d entries; want inner.zip and inner.tgz as they are", len(got))
	}
	if res.Bytes != int64(len(inner)+len(innerTar)) {
		t.Errorf("bytes %d, want %d", res.Bytes, len(inner)+len(innerTar))
	}
}

func TestSafeLinksAndHardLinks(t *testing.T) {
	data := makeTar(t,
		entry{name: "./"},
		entry{name: "lib/"},
		entry{name: "lib/real.py", body: "r"},
		entry{name: "lib/alias.py", typ: tar.TypeSymlink, link: "real.py"},
		entry{name: "top.py", typ: tar.TypeSymlink, link: "lib/../lib/real.py"},
		entry{name: "dangling", typ: tar.TypeSymlink, link: "lib/not-yet"},
		entry{name: "libdir", typ: tar.TypeSymlink, link: "lib"},
		entry{name: "copy.py", typ: tar.TypeLink, link: "lib/real.py"},
	)
	dest, res, err := fetchArchiveBytes(t, data, Limits{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"lib": "/", "lib/real.py": "r", "lib/alias.py": "->real.py", "top.py": "->lib/../lib/real.py",
		"dangling": "->lib/not-yet", "libdir": "->lib", "copy.py": "r",
	}
	if diff := cmp.Diff(want, listTree(t, dest)); diff != "" {
		t.Errorf("tree (-want +got):\n%s", diff)
	}
	if res.Entries != 7 {
		t.Errorf("entries %d, want 7", res.Entries)
	}
	// The hard link is a copy, not a second name for the same inode.
	a, _ := os.Stat(filepath.Join(dest, "lib/real.py"))
	b, _ := os.Stat(filepath.Join(dest, "copy.py"))
	if os.SameFile(a, b) {
		t.Error("copy.py shares its inode with lib/real.py")
	}
}

func TestWorkDir(t *testing.T) {
	data := makeTar(t,
		entry{name: "repo/"},
		entry{name: "repo/common/"},
		entry{name: "repo/common/shared.py", body: "s"},
		entry{name: "repo/fn/"},
		entry{name: "repo/fn/main.py", body: "m"},
		entry{name: "repo/fn/inside", typ: tar.TypeSymlink, link: "main.py"},
		entry{name: "repo/linked", typ: tar.TypeSymlink, link: "fn"},
		entry{name: "repo/other/"},
		entry{name: "repo/other/up", typ: tar.TypeSymlink, link: "../common/shared.py"},
		entry{name: "repo/readme.md", body: "r"},
	)
	for _, tc := range []struct {
		workDir string
		want    map[string]string
		wantErr string
	}{
		{workDir: "repo/fn", want: map[string]string{"main.py": "m", "inside": "->main.py"}},
		{workDir: "./repo/fn/", want: map[string]string{"main.py": "m", "inside": "->main.py"}},
		{workDir: "repo/readme.md", want: map[string]string{"readme.md": "r"}},
		{workDir: "repo/missing", wantErr: "does not exist"},
		{workDir: "repo/readme.md/x", wantErr: "does not exist"},
		{workDir: "repo/linked", wantErr: "symbolic link"},
		// Inside the archive but outside the work directory: the link would dangle out of handler/.
		{workDir: "repo/other", wantErr: "outside the tree"},
	} {
		t.Run(tc.workDir, func(t *testing.T) {
			dest, _, err := fetchArchiveBytes(t, data, Limits{}, func(s *Source) { s.WorkDir = tc.workDir })
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("got %v, want an error containing %q", err, tc.wantErr)
				}
				assertNothingLeft(t, dest)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, listTree(t, dest)); diff != "" {
				t.Errorf("tree (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDownloadChecks(t *testing.T) {
	body := makeTar(t, entry{name: "a", body: "1"})
	for _, tc := range []struct {
		name string
		resp response
		want string
	}{
		{name: "not found", resp: response{body: []byte("no"), status: 404}, want: "unexpected status 404"},
		{name: "body shorter than declared", resp: response{body: body, contentLength: "99999"}, want: "unexpected EOF"},
		{name: "chunked", resp: response{body: body, contentLength: "-"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := newFileServer(t, map[string]response{"/a.tar": tc.resp})
			dest, _, err := fetchTo(t, &Fetcher{HTTPClient: srv.Client()}, &Source{Kind: KindArchive, URL: srv.URL + "/a.tar"})
			switch {
			case tc.name == "chunked":
				if err != nil {
					t.Fatal(err)
				}
			case err == nil || !strings.Contains(err.Error(), tc.want):
				t.Fatalf("got %v, want an error containing %q", err, tc.want)
			default:
				assertNothingLeft(t, dest)
			}
		})
	}
}

func TestDownloadCapWithoutContentLength(t *testing.T) {
	srv := newFileServer(t, map[string]response{"/a": {body: bytes.Repeat([]byte("z"), 64<<10), contentLength: "-"}})
	f := &Fetcher{HTTPClient: srv.Client(), Limits: Limits{MaxDownloadBytes: 4 << 10}}
	dest, _, err := fetchTo(t, f, &Source{Kind: KindURL, URL: srv.URL + "/a", FileName: "a"})
	if !errors.Is(err, ErrLimitExceeded) {
		t.Fatalf("got %v, want a download limit error", err)
	}
	assertNothingLeft(t, dest)
}
