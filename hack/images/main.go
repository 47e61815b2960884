// Copyright The nuclio-apiserver Authors.
// SPDX-License-Identifier: Apache-2.0

// Command images builds the OCI images of this project's binaries without a container engine: each
// command is compiled statically (CGO_ENABLED=0) and put FROM scratch into an image with
// go-containerregistry, next to a non-root user (65532, "nonroot"), /etc/passwd and /etc/group entries
// for it, the build host's CA certificates and /etc/nsswitch.conf. The entrypoint is the binary; there is
// no shell. Images are written as OCI image layouts (a directory per command; one platform gives an image,
// several give an image index) and, for a single platform, as docker-loadable tarballs.
//
// Usage:
//
//	go run ./hack/images [flags] [command | name=package ...]
//
// Without arguments it builds nuclio-apiserver, nuclio-webhook, nuclio-controller and nuclio-fetcher from
// ./cmd/<name>. Output, for each name, under -out (default _output/images):
//
//	<name>/      OCI image layout; index.json names the image <registry>/<name>:<version>
//	<name>.tar   the same image as a tarball for `docker load`, `crane push` or `skopeo copy docker-archive:`
//
// Builds are reproducible: file times and the image creation time come from SOURCE_DATE_EPOCH (default 0),
// so the same sources and toolchain give the same digests.
package main

import (
	"archive/tar"
	"bytes"
	"debug/elf"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Identity of the non-root user every image runs as (distroless' "nonroot").
const (
	UID      = 65532
	GID      = 65532
	UserName = "nonroot"
)

// BinDir is where binaries live in the images; the entrypoint is BinDir/<name>.
const BinDir = "/usr/local/bin"

// DefaultCommands are the commands built when none are named.
var DefaultCommands = []string{"nuclio-apiserver", "nuclio-webhook", "nuclio-controller", "nuclio-fetcher"}

// versionPackage is where the product version is stamped (pkg/version.Version).
const versionPackage = "github.com/nuclio-apiserver/nuclio-apiserver/pkg/version"

// Command is one binary to package: its name (binary, image and entrypoint) and the Go package to build.
type Command struct {
	Name    string
	Package string
}

// Options control a build.
type Options struct {
	// Dir is the module root the packages are built in.
	Dir string
	// Out receives <name>/ (OCI layout) and <name>.tar (tarball, single platform only).
	Out string
	// Registry is the repository prefix of image names, e.g. ghcr.io/nuclio-apiserver.
	Registry string
	// Version stamps pkg/version.Version, tags the images and fills org.opencontainers.image.version.
	Version string
	// Revision is the source revision (org.opencontainers.image.revision); empty leaves the label out.
	Revision string
	// Source is the source repository URL (org.opencontainers.image.source).
	Source string
	// Platforms are linux/<arch> platforms, e.g. linux/amd64.
	Platforms []v1.Platform
	// CACerts is the CA bundle copied to /etc/ssl/certs/ca-certificates.crt.
	CACerts string
	// Epoch is the time of every file and of the image's creation.
	Epoch time.Time
	// Tarball also writes <name>.tar (single platform only).
	Tarball bool
	// Log receives progress lines.
	Log io.Writer
}

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "images:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("images", flag.ContinueOnError)
	var (
		o         Options
		platforms string
		noTarball bool
	)
	fs.StringVar(&o.Out, "out", "_output/images", "Output directory.")
	fs.StringVar(&o.Registry, "registry", "ghcr.io/nuclio-apiserver", "Repository prefix of the image names.")
	fs.StringVar(&o.Version, "version", "dev", "Product version: stamped into the binaries, image tag and version label.")
	fs.StringVar(&o.Revision, "revision", "", "Source revision for the org.opencontainers.image.revision label (default: git rev-parse HEAD, if available).")
	fs.StringVar(&o.Source, "source", "https://github.com/nuclio-apiserver/nuclio-apiserver", "Source repository URL for the org.opencontainers.image.source label.")
	fs.StringVar(&platforms, "platforms", "linux/"+runtime.GOARCH, "Comma-separated linux/<arch> platforms; more than one writes an image index.")
	fs.StringVar(&o.CACerts, "ca-certs", "/etc/ssl/certs/ca-certificates.crt", "CA certificate bundle to include.")
	fs.BoolVar(&noTarball, "no-tarball", false, "Write only the OCI layouts, no <name>.tar.")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: go run ./hack/images [flags] [command | name=package ...]\n\n"+
			"Builds static, non-root OCI images FROM scratch of the given commands (default: %s).\n\nFlags:\n",
			strings.Join(DefaultCommands, ", "))
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	var err error
	if o.Platforms, err = parsePlatforms(platforms); err != nil {
		return err
	}
	o.Tarball = !noTarball && len(o.Platforms) == 1
	if o.Epoch, err = sourceDateEpoch(); err != nil {
		return err
	}
	if o.Dir, err = os.Getwd(); err != nil {
		return err
	}
	if o.Revision == "" {
		if out, err := exec.Command("git", "rev-parse", "HEAD").Output(); err == nil {
			o.Revision = strings.TrimSpace(string(out))
		}
	}
	o.Log = os.Stderr
	names := fs.Args()
	if len(names) == 0 {
		names = DefaultCommands
	}
	var cmds []Command
	for _, n := range names {
		c := Command{Name: n, Package: "./cmd/" + n}
		if name, pkg, ok := strings.Cut(n, "="); ok {
			c = Command{Name: name, Package: pkg}
		}
		cmds = append(cmds, c)
	}
	return Build(o, cmds...)
}

func parsePlatforms(s string) ([]v1.Platform, error) {
	var out []v1.Platform
	for _, p := range strings.Split(s, ",") {
		osName, arch, ok := strings.Cut(strings.TrimSpace(p), "/")
		if !ok || osName != "linux" || arch == "" {
			return nil, fmt.Errorf("-platforms: %q is not linux/<arch>", p)
		}
		plat := v1.Platform{OS: "linux", Architecture: arch}
		if a, v, ok := strings.Cut(arch, "/"); ok { // linux/arm/v7
			plat.Architecture, plat.Variant = a, v
		}
		out = append(out, plat)
	}
	return out, nil
}

func sourceDateEpoch() (time.Time, error) {
	s := os.Getenv("SOURCE_DATE_EPOCH")
	if s == "" {
		return time.Unix(0, 0).UTC(), nil
	}
	sec, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return time.Time{}, fmt.Errorf("SOURCE_DATE_EPOCH=%q: %w", s, err)
	}
	return time.Unix(sec, 0).UTC(), nil
}

// Build compiles and packages every command.
func Build(o Options, cmds ...Command) error {
	if len(o.Platforms) == 0 {
		return errors.New("no platform")
	}
	ca, err := os.ReadFile(o.CACerts)
	if err != nil {
		return fmt.Errorf("reading the CA certificates: %w", err)
	}
	base, err := baseLayer(ca, o.Epoch)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(o.Out, 0o755); err != nil {
		return err
	}
	work, err := os.MkdirTemp("", "nuclio-images-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)

	for _, c := range cmds {
		ref, err := name.NewTag(o.Registry + "/" + c.Name + ":" + tagOf(o.Version))
		if err != nil {
			return fmt.Errorf("%s: image name: %w", c.Name, err)
		}
		var images []v1.Image
		for _, p := range o.Platforms {
			bin := filepath.Join(work, c.Name+"-"+p.Architecture+p.Variant)
			if err := compile(o, c, p, bin); err != nil {
				return err
			}
			img, err := Image(o, c.Name, p, bin, base)
			if err != nil {
				return fmt.Errorf("%s: %w", c.Name, err)
			}
			images = append(images, img)
		}
		dir := filepath.Join(o.Out, c.Name)
		if err := os.RemoveAll(dir); err != nil {
			return err
		}
		lp, err := layout.Write(dir, empty.Index)
		if err != nil {
			return err
		}
		annotations := layout.WithAnnotations(map[string]string{
			"org.opencontainers.image.ref.name": ref.TagStr(),
			"io.containerd.image.name":          ref.Name(),
		})
		var digest v1.Hash
		if len(images) == 1 {
			if err := lp.AppendImage(images[0], annotations); err != nil {
				return err
			}
			digest, err = images[0].Digest()
		} else {
			idx := mutate.IndexMediaType(empty.Index, types.OCIImageIndex)
			for i, img := range images {
				p := o.Platforms[i]
				idx = mutate.AppendManifests(idx, mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{Platform: &p}})
			}
			if err := lp.AppendIndex(idx, annotations); err != nil {
				return err
			}
			digest, err = idx.Digest()
		}
		if err != nil {
			return err
		}
		if o.Tarball && len(images) == 1 {
			if err := tarball.WriteToFile(filepath.Join(o.Out, c.Name+".tar"), ref, images[0]); err != nil {
				return err
			}
		}
		if o.Log != nil {
			fmt.Fprintf(o.Log, "%s@%s -> %s\n", ref.Name(), digest, dir)
		}
	}
	return nil
}

func tagOf(version string) string {
	// Tags allow [A-Za-z0-9_.-]; a semver build suffix (+meta) becomes _meta as Helm does.
	return strings.ReplaceAll(version, "+", "_")
}

// compile builds one static binary for p and makes sure it is static.
func compile(o Options, c Command, p v1.Platform, out string) error {
	ldflags := "-s -w -X " + versionPackage + ".Version=" + o.Version
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags", ldflags, "-o", out, c.Package)
	cmd.Dir = o.Dir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+p.Architecture)
	if p.Variant != "" && p.Architecture == "arm" {
		cmd.Env = append(cmd.Env, "GOARM="+strings.TrimPrefix(p.Variant, "v"))
	}
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if o.Log != nil {
		fmt.Fprintf(o.Log, "building %s (%s) for %s/%s\n", c.Name, c.Package, p.OS, p.Architecture)
	}
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("building %s: %w", c.Package, err)
	}
	return CheckStatic(out)
}

// CheckStatic fails unless path is an ELF executable without a program interpreter (dynamic loader).
func CheckStatic(path string) error {
	f, err := elf.Open(path)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return fmt.Errorf("%s is dynamically linked", path)
		}
	}
	return nil
}

// Image returns the image of one binary for one platform on top of the base layer.
func Image(o Options, cmdName string, p v1.Platform, binary string, base v1.Layer) (v1.Image, error) {
	data, err := os.ReadFile(binary)
	if err != nil {
		return nil, err
	}
	binLayer, err := layerOf([]tarEntry{
		{name: "usr/", mode: 0o755, dir: true},
		{name: "usr/local/", mode: 0o755, dir: true},
		{name: strings.TrimPrefix(BinDir, "/") + "/", mode: 0o755, dir: true},
		{name: strings.TrimPrefix(BinDir, "/") + "/" + cmdName, mode: 0o755, data: data},
	}, o.Epoch)
	if err != nil {
		return nil, err
	}
	created := v1.Time{Time: o.Epoch}
	img := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
	img, err = mutate.Append(img,
		mutate.Addendum{Layer: base, MediaType: types.OCILayer, History: v1.History{
			Created: created, CreatedBy: "hack/images: /etc/passwd, /etc/group, /etc/nsswitch.conf, CA certificates", Comment: "nonroot user " + strconv.Itoa(UID)}},
		mutate.Addendum{Layer: binLayer, MediaType: types.OCILayer, History: v1.History{
			Created: created, CreatedBy: "hack/images: go build -trimpath (CGO_ENABLED=0) " + cmdName}},
	)
	if err != nil {
		return nil, err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture, cf.Variant = p.OS, p.Architecture, p.Variant
	cf.Created = created
	labels := map[string]string{
		"org.opencontainers.image.title":       cmdName,
		"org.opencontainers.image.description": "nuclio-apiserver: " + cmdName,
		"org.opencontainers.image.version":     o.Version,
		"org.opencontainers.image.source":      o.Source,
		"org.opencontainers.image.url":         o.Source,
		"org.opencontainers.image.licenses":    "Apache-2.0",
		"org.opencontainers.image.created":     o.Epoch.Format(time.RFC3339),
	}
	if o.Revision != "" {
		labels["org.opencontainers.image.revision"] = o.Revision
	}
	cf.Config = v1.Config{
		Entrypoint: []string{BinDir + "/" + cmdName},
		User:       strconv.Itoa(UID) + ":" + strconv.Itoa(GID),
		WorkingDir: "/",
		Env: []string{
			"PATH=" + BinDir,
			"SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt",
			"HOME=/home/" + UserName,
		},
		Labels: labels,
	}
	img, err = mutate.ConfigFile(img, cf)
	if err != nil {
		return nil, err
	}
	// The manifest carries the same labels as annotations, where registries show them.
	return mutate.Annotations(img, labels).(v1.Image), nil
}

// baseLayer holds what a static Go binary needs from a root filesystem besides itself.
func baseLayer(caCerts []byte, epoch time.Time) (v1.Layer, error) {
	passwd := fmt.Sprintf("root:x:0:0:root:/root:/sbin/nologin\n%s:x:%d:%d:%s:/home/%s:/sbin/nologin\n", UserName, UID, GID, UserName, UserName)
	group := fmt.Sprintf("root:x:0:\n%s:x:%d:\n", UserName, GID)
	return layerOf([]tarEntry{
		{name: "etc/", mode: 0o755, dir: true},
		{name: "etc/passwd", mode: 0o644, data: []byte(passwd)},
		{name: "etc/group", mode: 0o644, data: []byte(group)},
		// Go's resolver consults /etc/hosts before DNS only when told so.
		{name: "etc/nsswitch.conf", mode: 0o644, data: []byte("hosts: files dns\n")},
		{name: "etc/ssl/", mode: 0o755, dir: true},
		{name: "etc/ssl/certs/", mode: 0o755, dir: true},
		{name: "etc/ssl/certs/ca-certificates.crt", mode: 0o644, data: caCerts},
		{name: "home/", mode: 0o755, dir: true},
		{name: "home/" + UserName + "/", mode: 0o700, dir: true, uid: UID, gid: GID},
		{name: "tmp/", mode: 0o1777, dir: true},
	}, epoch)
}

type tarEntry struct {
	name     string
	mode     int64
	dir      bool
	data     []byte
	uid, gid int
}

// layerOf writes entries into an uncompressed tar with fixed times and owners, as an OCI layer.
func layerOf(entries []tarEntry, epoch time.Time) (v1.Layer, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		h := &tar.Header{
			Name:    e.name,
			Mode:    e.mode,
			Uid:     e.uid,
			Gid:     e.gid,
			ModTime: epoch,
		}
		if e.uid == 0 {
			h.Uname, h.Gname = "root", "root"
		} else {
			h.Uname, h.Gname = UserName, UserName
		}
		if e.dir {
			h.Typeflag = tar.TypeDir
		} else {
			h.Typeflag = tar.TypeReg
			h.Size = int64(len(e.data))
		}
		if err := tw.WriteHeader(h); err != nil {
			return nil, err
		}
		if !e.dir {
			if _, err := tw.Write(e.data); err != nil {
				return nil, err
			}
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	b := buf.Bytes()
	return tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(b)), nil
	}, tarball.WithMediaType(types.OCILayer), tarball.WithCompressedCaching)
}
