// Copyright The nuclio-apiserver Authors.
// SPDX-License-Identifier: Apache-2.0

package fetch

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"context"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ulikunitz/xz"
)

// entry is one archive member for the test archive builders.
type entry struct {
	name string
	body string
	mode int64 // permission bits; 0 means 0644 (0755 for directories)
	typ  byte  // tar type flag; 0 means a regular file, or a directory if name ends in "/"
	link string
}

var fixedTime = time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)

func makeTar(t *testing.T, entries ...entry) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		hdr := &tar.Header{Name: e.name, Mode: e.mode, ModTime: fixedTime, Typeflag: e.typ, Linkname: e.link, Format: tar.FormatPAX}
		switch {
		case hdr.Typeflag == 0 && strings.HasSuffix(e.name, "/"):
			hdr.Typeflag = tar.TypeDir
		case hdr.Typeflag == 0:
			hdr.Typeflag = tar.TypeReg
		}
		if hdr.Mode == 0 {
			hdr.Mode = 0o644
			if hdr.Typeflag == tar.TypeDir {
				hdr.Mode = 0o755
			}
		}
		if hdr.Typeflag == tar.TypeReg {
			hdr.Size = int64(len(e.body))
		}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatal(err)
		}
		if hdr.Typeflag == tar.TypeReg {
			if _, err := tw.Write([]byte(e.body)); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func makeZip(t *testing.T, entries ...entry) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, e := range entries {
		hdr := &zip.FileHeader{Name: e.name, Method: zip.Deflate, Modified: fixedTime}
		mode := fs.FileMode(e.mode)
		switch {
		case e.typ == tar.TypeSymlink:
			hdr.SetMode(fs.ModeSymlink | 0o777)
		case strings.HasSuffix(e.name, "/"):
			hdr.SetMode(fs.ModeDir | 0o755)
		case e.typ == tar.TypeChar:
			hdr.SetMode(fs.ModeDevice | fs.ModeCharDevice | 0o644)
		default:
			if mode == 0 {
				mode = 0o644
			}
			hdr.SetMode(mode)
		}
		w, err := zw.CreateHeader(hdr)
		if err != nil {
			t.Fatal(err)
		}
		body := e.body
		if e.typ == tar.TypeSymlink {
			body = e.link
		}
		if _, err := w.Write([]byte(body)); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func gzipped(t *testing.T, data []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func xzed(t *testing.T, data []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	xw, err := xz.NewWriter(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := xw.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := xw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// response is what the test server answers for one path.
type response struct {
	body          []byte
	status        int    // 0 means 200
	contentLength string // "" means the real length; "-" means none (chunked)
}

// fileServer is an httptest server on 127.0.0.1 serving fixed responses and recording requests.
type fileServer struct {
	*httptest.Server
	mu       sync.Mutex
	files    map[string]response
	requests []*http.Request
}

func newFileServer(t *testing.T, files map[string]response) *fileServer {
	t.Helper()
	s := &fileServer{files: files}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.requests = append(s.requests, r.Clone(context.Background()))
		resp, ok := s.files[r.URL.Path]
		s.mu.Unlock()
		if !ok {
			http.NotFound(w, r)
			return
		}
		switch resp.contentLength {
		case "":
			w.Header().Set("Content-Length", strconv.Itoa(len(resp.body)))
		case "-":
		default:
			w.Header().Set("Content-Length", resp.contentLength)
		}
		if resp.status != 0 {
			w.WriteHeader(resp.status)
		}
		if f, ok := w.(http.Flusher); ok && resp.contentLength == "-" {
			f.Flush() // forces chunked encoding
		}
		_, _ = w.Write(resp.body)
	}))
	if !strings.HasPrefix(s.URL, "http://127.0.0.1:") {
		t.Fatalf("test server listens on %s, want 127.0.0.1", s.URL)
	}
	t.Cleanup(s.Close)
	return s
}

func (s *fileServer) lastRequest(t *testing.T) *http.Request {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.requests) == 0 {
		t.Fatal("the server received no request")
	}
	return s.requests[len(s.requests)-1]
}

// rewriteTransport sends every request to the test server whatever its URL says, recording the URL the
// fetcher asked for. It lets tests check requests to fixed hosts (api.github.com) without leaving
// 127.0.0.1.
type rewriteTransport struct {
	target string
	next   http.RoundTripper
	mu     sync.Mutex
	asked  []string
	auth   []string
}

func (rt *rewriteTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	rt.mu.Lock()
	rt.asked = append(rt.asked, req.URL.String())
	rt.auth = append(rt.auth, req.Header.Get("Authorization"))
	rt.mu.Unlock()
	out := req.Clone(req.Context())
	out.URL.Scheme, out.URL.Host, out.Host = "http", strings.TrimPrefix(rt.target, "http://"), ""
	return rt.next.RoundTrip(out)
}

// fetchTo runs f.Fetch into a fresh dest under a fresh parent and returns dest.
func fetchTo(t *testing.T, f *Fetcher, src *Source) (string, *Result, error) {
	t.Helper()
	dest := filepath.Join(t.TempDir(), "handler")
	res, err := f.Fetch(context.Background(), src, dest)
	return dest, res, err
}

// listTree returns the files and links under dir: path → content, "->target" for links, "/" for
// directories.
func listTree(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if rel == "." {
			return nil
		}
		rel = filepath.ToSlash(rel)
		switch {
		case d.Type()&fs.ModeSymlink != 0:
			target, err := os.Readlink(p)
			out[rel] = "->" + target
			return err
		case d.IsDir():
			out[rel] = "/"
		default:
			raw, err := os.ReadFile(p)
			out[rel] = string(raw)
			return err
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// assertNothingLeft checks that a failed fetch left no dest and no staging directory beside it.
func assertNothingLeft(t *testing.T, dest string) {
	t.Helper()
	entries, err := os.ReadDir(filepath.Dir(dest))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		t.Errorf("left behind: %s", e.Name())
	}
}
