// Copyright The nuclio-apiserver Authors.
// SPDX-License-Identifier: Apache-2.0

package fetch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"sort"
	"strings"
)

// Defaults of Limits.
const (
	// DefaultMaxDownloadBytes bounds one download (an archive, a single file, a git pack): 256 MiB.
	DefaultMaxDownloadBytes int64 = 256 << 20
	// DefaultMaxTotalBytes bounds the bytes of all files written: 1 GiB.
	DefaultMaxTotalBytes int64 = 1 << 30
	// DefaultMaxFileBytes bounds one file: 256 MiB.
	DefaultMaxFileBytes int64 = 256 << 20
	// DefaultMaxEntries bounds the files, directories and links written: 50,000, room for a
	// function with a vendored node_modules.
	DefaultMaxEntries = 50000
)

// Fixed bounds on names.
const (
	maxNameLength  = 4096 // bytes of an entry name (PATH_MAX)
	maxDepth       = 128  // directories in an entry name
	maxLinkTarget  = 4096 // bytes of a symbolic link target
	maxSymlinkHops = 40   // links followed while resolving one link (Linux's MAXSYMLINKS)
)

// Limits bound one fetch. Zero fields select the defaults; negative values are treated as zero.
type Limits struct {
	// MaxDownloadBytes bounds each download: an archive, a single file, an S3 object or a git pack.
	MaxDownloadBytes int64
	// MaxTotalBytes bounds the sum of the sizes of the files written.
	MaxTotalBytes int64
	// MaxFileBytes bounds each file written.
	MaxFileBytes int64
	// MaxEntries bounds the number of files, directories and links written, the top directory excluded.
	MaxEntries int
}

func (l Limits) withDefaults() Limits {
	if l.MaxDownloadBytes <= 0 {
		l.MaxDownloadBytes = DefaultMaxDownloadBytes
	}
	if l.MaxTotalBytes <= 0 {
		l.MaxTotalBytes = DefaultMaxTotalBytes
	}
	if l.MaxFileBytes <= 0 {
		l.MaxFileBytes = DefaultMaxFileBytes
	}
	if l.MaxEntries <= 0 {
		l.MaxEntries = DefaultMaxEntries
	}
	return l
}

// ErrLimitExceeded is wrapped by every error caused by a Limits bound (see LimitError).
var ErrLimitExceeded = errors.New("limit exceeded")

// ErrUnsafeEntry is wrapped by every error about an archive or git entry that could write outside the
// tree or is not a plain file, directory or link: `..` or absolute names, backslashes, links that
// resolve outside the tree, devices, FIFOs.
var ErrUnsafeEntry = errors.New("unsafe entry")

// LimitError reports which bound was exceeded. errors.Is(err, ErrLimitExceeded) is true for it.
type LimitError struct {
	// What names the bound: "download", "total size", "file size" or "entries".
	What string
	// Limit is the bound, in bytes or entries.
	Limit int64
	// Name is the entry or URL concerned, if any.
	Name string
}

func (e *LimitError) Error() string {
	unit := " bytes"
	if e.What == "entries" {
		unit = ""
	}
	if e.Name != "" {
		return fmt.Sprintf("%s: %s limit of %d%s exceeded", e.Name, e.What, e.Limit, unit)
	}
	return fmt.Sprintf("%s limit of %d%s exceeded", e.What, e.Limit, unit)
}

func (e *LimitError) Unwrap() error { return ErrLimitExceeded }

func unsafeEntry(name, reason string) error {
	return fmt.Errorf("%w %q: %s", ErrUnsafeEntry, name, reason)
}

type entryKind int

const (
	kindDir entryKind = iota + 1
	kindFile
	kindLink
)

// tree writes the entries of an archive or a git tree under one directory. Every write goes through an
// os.Root, never follows a link (files are created with O_EXCL, parents must be directories the tree
// created), and is counted against the limits. The tree remembers what it wrote, so that links can be
// resolved and work directories found without reading the file system back.
type tree struct {
	ctx     context.Context
	root    *os.Root
	limits  Limits
	entries int
	bytes   int64
	kinds   map[string]entryKind
	targets map[string]string // link name → target
}

func newTree(ctx context.Context, dir string, limits Limits) (*tree, error) {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, err
	}
	return &tree{ctx: ctx, root: root, limits: limits.withDefaults(), kinds: map[string]entryKind{"": kindDir}, targets: map[string]string{}}, nil
}

func (t *tree) Close() error { return t.root.Close() }

// cleanName normalises an entry name to a slash-separated relative path without `.` or empty elements.
// It returns "" for names that denote the top directory itself ("./", "."). Names with `..` elements,
// absolute names, backslashes (Windows separators, zip-slip's other spelling), NUL and over-long names
// are unsafe.
func cleanName(raw string) (string, error) {
	switch {
	case len(raw) > maxNameLength:
		return "", unsafeEntry(raw[:64]+"...", "the name is too long")
	case strings.ContainsRune(raw, 0):
		return "", unsafeEntry(raw, "the name contains NUL")
	case strings.Contains(raw, `\`):
		return "", unsafeEntry(raw, `the name contains a backslash`)
	case strings.HasPrefix(raw, "/"):
		return "", unsafeEntry(raw, "the name is absolute")
	}
	var parts []string
	for _, part := range strings.Split(raw, "/") {
		switch part {
		case "", ".":
			continue
		case "..":
			return "", unsafeEntry(raw, "the name contains ..")
		}
		parts = append(parts, part)
	}
	if len(parts) > maxDepth {
		return "", unsafeEntry(raw, "the name is nested too deeply")
	}
	return strings.Join(parts, "/"), nil
}

// claim reserves name for a new entry of kind: it counts the entry, refuses duplicates (a second
// directory entry for an existing directory is accepted and not counted) and creates missing parent
// directories. ok is false when nothing is left to do.
func (t *tree) claim(name string, kind entryKind) (ok bool, err error) {
	if existing, found := t.kinds[name]; found {
		if existing == kindDir && kind == kindDir {
			return false, nil
		}
		return false, unsafeEntry(name, "the archive has more than one entry with this name")
	}
	dir := path.Dir(name)
	if dir == "." {
		dir = ""
	}
	if err := t.ensureDir(dir); err != nil {
		return false, err
	}
	if err := t.count(name); err != nil {
		return false, err
	}
	t.kinds[name] = kind
	return true, nil
}

// ensureDir creates dir and its parents as needed; every existing component must be a directory.
func (t *tree) ensureDir(dir string) error {
	if kind, found := t.kinds[dir]; found {
		if kind != kindDir {
			return unsafeEntry(dir, "entries are nested under something that is not a directory")
		}
		return nil
	}
	parent := path.Dir(dir)
	if parent == "." {
		parent = ""
	}
	if err := t.ensureDir(parent); err != nil {
		return err
	}
	if err := t.count(dir); err != nil {
		return err
	}
	if err := t.root.Mkdir(dir, 0o755); err != nil {
		return err
	}
	t.kinds[dir] = kindDir
	return nil
}

func (t *tree) count(name string) error {
	// Unpacking is bounded by the limits, not by time; a cancelled context still stops it between entries.
	if err := t.ctx.Err(); err != nil {
		return err
	}
	if t.entries >= t.limits.MaxEntries {
		return &LimitError{What: "entries", Limit: int64(t.limits.MaxEntries), Name: name}
	}
	t.entries++
	return nil
}

// dir adds a directory entry.
func (t *tree) dir(raw string) error {
	name, err := cleanName(raw)
	if err != nil || name == "" {
		return err
	}
	ok, err := t.claim(name, kindDir)
	if err != nil || !ok {
		return err
	}
	return t.root.Mkdir(name, 0o755)
}

// file adds a regular file with r's content. Any execute bit in mode makes it 0755, else 0644;
// ownership, set-id and sticky bits are dropped. declared is the size the archive claims (-1 if
// unknown), used to refuse early; the bytes actually read are what is counted.
func (t *tree) file(raw string, mode fs.FileMode, r io.Reader, declared int64) error {
	name, err := cleanName(raw)
	if err != nil {
		return err
	}
	if name == "" {
		return unsafeEntry(raw, "a file cannot replace the top directory")
	}
	limit, what := t.limits.MaxFileBytes, "file size"
	if remaining := t.limits.MaxTotalBytes - t.bytes; remaining < limit {
		limit, what = remaining, "total size"
	}
	if declared > limit {
		return t.sizeError(what, name)
	}
	if _, err := t.claim(name, kindFile); err != nil {
		return err
	}
	perm := fs.FileMode(0o644)
	if mode&0o111 != 0 {
		perm = 0o755
	}
	f, err := t.root.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return err
	}
	n, err := io.Copy(f, io.LimitReader(r, limit+1))
	closeErr := f.Close()
	t.bytes += n
	switch {
	case err != nil:
		return fmt.Errorf("writing %s: %w", name, err)
	case n > limit:
		return t.sizeError(what, name)
	case closeErr != nil:
		return fmt.Errorf("writing %s: %w", name, closeErr)
	}
	return nil
}

func (t *tree) sizeError(what, name string) error {
	if what == "total size" {
		return &LimitError{What: what, Limit: t.limits.MaxTotalBytes, Name: name}
	}
	return &LimitError{What: what, Limit: t.limits.MaxFileBytes, Name: name}
}

// symlink adds a symbolic link. The target must be relative and must not climb above the tree from the
// link's directory; Validate later checks whole chains of links against the final tree.
func (t *tree) symlink(raw, target string) error {
	name, err := cleanName(raw)
	if err != nil {
		return err
	}
	switch {
	case name == "":
		return unsafeEntry(raw, "a link cannot replace the top directory")
	case target == "":
		return unsafeEntry(name, "the link target is empty")
	case len(target) > maxLinkTarget || strings.ContainsRune(target, 0):
		return unsafeEntry(name, "the link target is too long or contains NUL")
	case strings.HasPrefix(target, "/"):
		return unsafeEntry(name, "the link target is absolute")
	case strings.Contains(target, `\`):
		return unsafeEntry(name, "the link target contains a backslash")
	}
	if resolved := path.Join(path.Dir(name), target); resolved == ".." || strings.HasPrefix(resolved, "../") {
		return unsafeEntry(name, "the link points outside the tree")
	}
	if _, err := t.claim(name, kindLink); err != nil {
		return err
	}
	t.targets[name] = target
	return t.root.Symlink(target, name)
}

// hardlink adds a hard link as a copy of an earlier regular file of the tree; links to anything else,
// or to names not written yet, are unsafe.
func (t *tree) hardlink(raw, target string) error {
	name, err := cleanName(raw)
	if err != nil {
		return err
	}
	targetName, err := cleanName(target)
	if err != nil {
		return unsafeEntry(raw, "the hard link target is unsafe: "+err.Error())
	}
	if t.kinds[targetName] != kindFile {
		return unsafeEntry(raw, "hard links must point to a regular file earlier in the archive")
	}
	src, err := t.root.Open(targetName)
	if err != nil {
		return err
	}
	defer src.Close()
	info, err := src.Stat()
	if err != nil {
		return err
	}
	return t.file(name, info.Mode(), src, info.Size())
}

// resolve returns the final directory of the fetch inside the tree: the single top-level directory for
// GitHub zipballs (the first entry in name order, as Nuclio takes it, which must be a directory) joined
// with workDir, which must name a directory or file the tree contains, reached without links.
func (t *tree) resolve(stripTop bool, workDir string) (string, entryKind, error) {
	base := ""
	if stripTop {
		var top []string
		for name := range t.kinds {
			if name != "" && !strings.Contains(name, "/") {
				top = append(top, name)
			}
		}
		sort.Strings(top)
		if len(top) == 0 || t.kinds[top[0]] != kindDir {
			return "", 0, errors.New("spec.build.path: the GitHub archive does not start with a directory")
		}
		base = top[0]
	}
	if workDir == "" {
		return base, kindDir, nil
	}
	const workDirField = "spec.build.codeEntryAttributes.workDir"
	wd, err := cleanName(workDir)
	if err != nil {
		return "", 0, fmt.Errorf("%s: %w", workDirField, err)
	}
	full := strings.TrimPrefix(base+"/"+wd, "/")
	current := base
	for _, part := range strings.Split(wd, "/") {
		if part == "" {
			continue
		}
		if t.kinds[current] != kindDir {
			return "", 0, fmt.Errorf("%s: %q does not exist in the source", workDirField, workDir)
		}
		current = strings.TrimPrefix(current+"/"+part, "/")
	}
	switch t.kinds[full] {
	case kindDir, kindFile:
		return full, t.kinds[full], nil
	case kindLink:
		return "", 0, fmt.Errorf("%s: %q is a symbolic link", workDirField, workDir)
	default:
		return "", 0, fmt.Errorf("%s: %q does not exist in the source", workDirField, workDir)
	}
}

// validateLinks checks every link under dir (a directory of the tree, "" for the whole tree): following
// it, through any chain of links the tree holds, must never climb above dir. Dangling links that stay
// inside are accepted. The first offending link, in name order, is reported.
func (t *tree) validateLinks(dir string) error {
	var floor []string
	if dir != "" {
		floor = strings.Split(dir, "/")
	}
	links := make([]string, 0, len(t.targets))
	for name := range t.targets {
		if dir == "" || strings.HasPrefix(name, dir+"/") {
			links = append(links, name)
		}
	}
	sort.Strings(links)
	for _, link := range links {
		if t.escapes(link, len(floor)) {
			rel := strings.TrimPrefix(strings.TrimPrefix(link, dir), "/")
			return unsafeEntry(rel, "the link resolves outside the tree")
		}
	}
	return nil
}

// escapes walks link's target component by component, expanding links of the tree, and reports whether
// the walk climbs above the first floor components. Links cannot sit under other links (claim refuses
// that), so the directory holding link is real and the walk starts there.
func (t *tree) escapes(link string, floor int) bool {
	var stack []string
	if dir := path.Dir(link); dir != "." {
		stack = strings.Split(dir, "/")
	}
	pending := strings.Split(t.targets[link], "/")
	hops := 0
	for len(pending) > 0 {
		part := pending[0]
		pending = pending[1:]
		switch part {
		case "", ".":
			continue
		case "..":
			if len(stack) <= floor {
				return true
			}
			stack = stack[:len(stack)-1]
			continue
		}
		stack = append(stack, part)
		current := strings.Join(stack, "/")
		if t.kinds[current] != kindLink {
			continue // a directory, a file, or nothing: the walk goes on by name
		}
		hops++
		if hops > maxSymlinkHops {
			return true // a loop or a very long chain: refuse rather than guess
		}
		stack = stack[:len(stack)-1]
		target := t.targets[current]
		if strings.HasPrefix(target, "/") {
			return true
		}
		pending = append(strings.Split(target, "/"), pending...)
	}
	return false
}

// fsMode converts Unix permission bits to an fs.FileMode.
func fsMode(perm uint32) fs.FileMode { return fs.FileMode(perm) & fs.ModePerm }
