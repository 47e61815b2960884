// Copyright The nuclio-apiserver Authors.
// SPDX-License-Identifier: Apache-2.0

package main

import (
	"archive/tar"
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// imagesDirEnv points at the output of `make images` (go run ./hack/images); TestBuiltImages checks those.
const imagesDirEnv = "NUCLIO_IMAGES_DIR"

// TestBuildImage builds the image of a tiny command (testdata/hello) into a temporary directory, reads
// it back from the OCI layout and the tarball, and runs the binary it contains.
func TestBuildImage(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the image's binary is a linux executable")
	}
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	build := func(out string) Options {
		o := Options{
			Dir:       root,
			Out:       out,
			Registry:  "registry.example.com/nuclio-apiserver",
			Version:   "v9.8.7-test",
			Revision:  "0123456789abcdef",
			Source:    "https://example.com/nuclio-apiserver",
			Platforms: []v1.Platform{{OS: "linux", Architecture: runtime.GOARCH}},
			CACerts:   filepath.Join(t.TempDir(), "ca.crt"),
			Epoch:     time.Unix(1700000000, 0).UTC(),
			Tarball:   true,
		}
		if err := os.WriteFile(o.CACerts, []byte("-----BEGIN CERTIFICATE-----\ntest\n-----END CERTIFICATE-----\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := Build(o, Command{Name: "hello", Package: "./hack/images/testdata/hello"}); err != nil {
			t.Fatal(err)
		}
		return o
	}
	o := build(t.TempDir())

	img := readLayout(t, filepath.Join(o.Out, "hello"), "v9.8.7-test")
	checkImage(t, img, "hello", "v9.8.7-test", t.TempDir(), true)
	if got := labels(t, img)["org.opencontainers.image.revision"]; got != "0123456789abcdef" {
		t.Errorf("revision label %q", got)
	}
	files := fileSystem(t, img)
	if got := string(files["etc/ssl/certs/ca-certificates.crt"].data); !strings.Contains(got, "BEGIN CERTIFICATE") {
		t.Errorf("CA certificates not copied: %q", got)
	}
	for name, f := range files {
		if !f.modTime.Equal(o.Epoch) {
			t.Errorf("%s: modification time %s, want SOURCE_DATE_EPOCH %s", name, f.modTime, o.Epoch)
		}
	}

	// The tarball holds the same image: the docker-archive format rewrites the manifest, but the config
	// (and with it the layers' diff IDs) is kept byte for byte.
	fromTar, err := tarball.ImageFromPath(filepath.Join(o.Out, "hello.tar"), nil)
	if err != nil {
		t.Fatal(err)
	}
	a, err := img.ConfigName()
	if err != nil {
		t.Fatal(err)
	}
	b, err := fromTar.ConfigName()
	if err != nil {
		t.Fatal(err)
	}
	if a != b {
		t.Errorf("tarball image config %s differs from the layout's %s", b, a)
	}
	checkImage(t, fromTar, "hello", "v9.8.7-test", t.TempDir(), false)

	// Same sources, same epoch: same digest.
	again := readLayout(t, filepath.Join(build(t.TempDir()).Out, "hello"), "v9.8.7-test")
	if a, b := digest(t, img), digest(t, again); a != b {
		t.Errorf("rebuild gave %s, first build %s: builds are not reproducible", b, a)
	}
}

// TestBuiltImages checks the images `make images` wrote (the directory in $NUCLIO_IMAGES_DIR): every
// command's image is valid, non-root, shell-less, and its entrypoint runs and reports the version.
func TestBuiltImages(t *testing.T) {
	dir := os.Getenv(imagesDirEnv)
	if dir == "" {
		t.Skipf("set %s to the output of `make images` (e.g. _output/images) to check the built images", imagesDirEnv)
	}
	if runtime.GOOS != "linux" {
		t.Skip("the images' binaries are linux executables")
	}
	for _, name := range DefaultCommands {
		t.Run(name, func(t *testing.T) {
			img := readLayout(t, filepath.Join(dir, name), "")
			cf, err := img.ConfigFile()
			if err != nil {
				t.Fatal(err)
			}
			if cf.Architecture != runtime.GOARCH {
				t.Skipf("image is for %s, cannot run it on %s", cf.Architecture, runtime.GOARCH)
			}
			checkImage(t, img, name, labels(t, img)["org.opencontainers.image.version"], t.TempDir(), true)
		})
	}
}

// readLayout reads the only image of an OCI layout (for a multi-platform index, the one for this
// machine), checking its reference name when wantTag is not empty.
func readLayout(t *testing.T, dir, wantTag string) v1.Image {
	t.Helper()
	idx, err := layout.ImageIndexFromPath(dir)
	if err != nil {
		t.Fatal(err)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	if len(im.Manifests) != 1 {
		t.Fatalf("%s: index.json has %d entries, want 1", dir, len(im.Manifests))
	}
	desc := im.Manifests[0]
	if wantTag != "" && desc.Annotations["org.opencontainers.image.ref.name"] != wantTag {
		t.Errorf("%s: ref.name %q, want %q", dir, desc.Annotations["org.opencontainers.image.ref.name"], wantTag)
	}
	switch desc.MediaType {
	case types.OCIManifestSchema1:
		img, err := idx.Image(desc.Digest)
		if err != nil {
			t.Fatal(err)
		}
		return img
	case types.OCIImageIndex:
		sub, err := idx.ImageIndex(desc.Digest)
		if err != nil {
			t.Fatal(err)
		}
		sm, err := sub.IndexManifest()
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range sm.Manifests {
			if m.Platform != nil && m.Platform.OS == "linux" && m.Platform.Architecture == runtime.GOARCH {
				img, err := sub.Image(m.Digest)
				if err != nil {
					t.Fatal(err)
				}
				return img
			}
		}
		t.Fatalf("%s: no image for linux/%s", dir, runtime.GOARCH)
	default:
		t.Fatalf("%s: unexpected media type %s", dir, desc.MediaType)
	}
	return nil
}

// checkImage asserts the properties every image of this project has, then extracts the entrypoint and
// runs it with --version. oci is false for images read from a docker-archive tarball, whose manifest and
// layers have docker media types.
func checkImage(t *testing.T, img v1.Image, name, version, scratch string, oci bool) {
	t.Helper()
	wantManifest, wantLayer := types.OCIManifestSchema1, types.OCILayer
	if !oci {
		wantManifest, wantLayer = types.DockerManifestSchema2, types.DockerLayer
	}
	mt, err := img.MediaType()
	if err != nil || mt != wantManifest {
		t.Errorf("manifest media type %s (%v), want %s", mt, err, wantManifest)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	entry := BinDir + "/" + name
	if got := cf.Config.Entrypoint; len(got) != 1 || got[0] != entry {
		t.Errorf("entrypoint %q, want [%s]", got, entry)
	}
	if len(cf.Config.Cmd) != 0 {
		t.Errorf("cmd %q, want none", cf.Config.Cmd)
	}
	if cf.Config.User != "65532:65532" {
		t.Errorf("user %q, want 65532:65532 (non-root, numeric so that runAsNonRoot can verify it)", cf.Config.User)
	}
	if cf.OS != "linux" {
		t.Errorf("os %q", cf.OS)
	}
	l := cf.Config.Labels
	if l["org.opencontainers.image.version"] != version || version == "" {
		t.Errorf("version label %q, want %q", l["org.opencontainers.image.version"], version)
	}
	if l["org.opencontainers.image.title"] != name || l["org.opencontainers.image.source"] == "" {
		t.Errorf("labels %v: want title %s and a source", l, name)
	}
	layers, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	for i, layer := range layers {
		if lmt, err := layer.MediaType(); err != nil || lmt != wantLayer {
			t.Errorf("layer %d media type %s (%v)", i, lmt, err)
		}
	}
	if len(cf.RootFS.DiffIDs) != len(layers) || len(cf.History) != len(layers) {
		t.Errorf("config has %d diff IDs and %d history entries for %d layers", len(cf.RootFS.DiffIDs), len(cf.History), len(layers))
	}

	files := fileSystem(t, img)
	for p, f := range files {
		base := path.Base(p)
		if base == "sh" || base == "bash" || base == "ash" || base == "busybox" {
			t.Errorf("image contains a shell: /%s", p)
		}
		if f.typ == tar.TypeReg && strings.HasPrefix(p, "bin/") {
			t.Errorf("unexpected file /%s", p)
		}
	}
	passwd := string(files["etc/passwd"].data)
	if !strings.Contains(passwd, ":x:65532:65532:") {
		t.Errorf("/etc/passwd lacks the nonroot user:\n%s", passwd)
	}
	if !strings.Contains(string(files["etc/group"].data), ":x:65532:") {
		t.Errorf("/etc/group lacks the nonroot group")
	}
	if len(files["etc/ssl/certs/ca-certificates.crt"].data) == 0 {
		t.Error("no CA certificates")
	}
	if f, ok := files["tmp"]; !ok || f.mode&0o1777 != 0o1777 {
		t.Errorf("/tmp missing or not world-writable with the sticky bit: %+v", f)
	}
	bin, ok := files[strings.TrimPrefix(entry, "/")]
	if !ok || bin.typ != tar.TypeReg || bin.mode&0o111 == 0 {
		t.Fatalf("entrypoint %s is not an executable file in the image", entry)
	}
	if bin.uid != 0 {
		t.Errorf("binary owned by uid %d; root-owned keeps the non-root user from replacing it", bin.uid)
	}

	exe := filepath.Join(scratch, name)
	if err := os.WriteFile(exe, bin.data, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := CheckStatic(exe); err != nil {
		t.Error(err)
	}
	cmd := exec.Command(exe, "--version")
	cmd.Env = []string{"PATH=" + BinDir} // as in the image; nothing from this environment
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s --version: %v\n%s", entry, err, out)
	}
	if !strings.HasPrefix(string(out), name+" "+version) {
		t.Errorf("%s --version printed %q, want %q...", entry, out, name+" "+version)
	}
}

type file struct {
	typ      byte
	mode     int64
	uid      int
	modTime  time.Time
	data     []byte
	linkname string
}

// fileSystem flattens the image's layers into path -> file (paths without a leading slash or a
// trailing one).
func fileSystem(t *testing.T, img v1.Image) map[string]file {
	t.Helper()
	rc := mutate.Extract(img)
	defer rc.Close()
	files := map[string]file{}
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return files
		}
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		if _, err := io.Copy(&buf, tr); err != nil {
			t.Fatal(err)
		}
		p := strings.Trim(path.Clean("/"+h.Name), "/")
		files[p] = file{typ: h.Typeflag, mode: h.Mode, uid: h.Uid, modTime: h.ModTime.UTC(), data: buf.Bytes(), linkname: h.Linkname}
	}
}

func labels(t *testing.T, img v1.Image) map[string]string {
	t.Helper()
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	return cf.Config.Labels
}

func digest(t *testing.T, img v1.Image) v1.Hash {
	t.Helper()
	d, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	return d
}
