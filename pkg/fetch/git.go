// Copyright The nuclio-apiserver Authors.
// SPDX-License-Identifier: Apache-2.0

package fetch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/go-git/go-billy/v5/osfs"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/cache"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/format/packfile"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/protocol/packp"
	"github.com/go-git/go-git/v5/plumbing/protocol/packp/capability"
	"github.com/go-git/go-git/v5/plumbing/protocol/packp/sideband"
	"github.com/go-git/go-git/v5/plumbing/transport"
	githttp "github.com/go-git/go-git/v5/plumbing/transport/http"
	"github.com/go-git/go-git/v5/storage/filesystem"
)

// maxTagDepth bounds how many tag objects are followed to reach a commit.
const maxTagDepth = 10

// fetchGit clones one commit of a git repository, the equivalent of Nuclio's shallow go-git clone
// (nuclio/nuclio:pkg/common/git/git.go Clone: depth 1, reference from branch, tag or reference,
// basic auth from username and password), and writes its tree into t.
//
// It speaks the upload-pack protocol through f.GitTransport itself instead of calling git.Clone, which
// would pick a transport from go-git's process-wide table: so the injected transport is the only way
// out, the pack is capped at MaxDownloadBytes while it streams, and the commit's tree goes through the
// same checks as an archive (names, links, sizes, entry count) instead of being checked out by go-git.
// The pack is stored on disk under staging; objects are read with their declared size checked first.
// Submodules become empty directories, as in a clone without --recurse-submodules.
func (f *Fetcher) fetchGit(ctx context.Context, t *tree, staging string, src *Source) (string, error) {
	if f.GitTransport == nil {
		return "", errors.New("fetch: no git transport configured")
	}
	name := redactURL(src.URL)
	ep, err := transport.NewEndpoint(src.URL)
	if err != nil {
		return "", fmt.Errorf("git %s: %w", name, err)
	}
	var auth transport.AuthMethod
	if src.Git.Username != "" || src.Git.Password != "" {
		user := src.Git.Username
		if user == "" {
			user = "defaultuser"
		}
		auth = &githttp.BasicAuth{Username: user, Password: src.Git.Password}
	}
	session, err := f.GitTransport.NewUploadPackSession(ep, auth)
	if err != nil {
		return "", fmt.Errorf("git %s: %w", name, scrubURLError(err))
	}
	defer session.Close()
	advertised, err := session.AdvertisedReferencesContext(ctx)
	if err != nil {
		return "", fmt.Errorf("git %s: listing references: %w", name, scrubURLError(err))
	}
	want, err := resolveWant(advertised, src.Git)
	if err != nil {
		return "", err
	}

	req := packp.NewUploadPackRequestFromCapabilities(advertised.Capabilities)
	req.Wants = []plumbing.Hash{want}
	if advertised.Capabilities.Supports(capability.Shallow) {
		req.Depth = packp.DepthCommits(1)
		if err := req.Capabilities.Set(capability.Shallow); err != nil {
			return "", err
		}
	}
	if advertised.Capabilities.Supports(capability.NoProgress) {
		if err := req.Capabilities.Set(capability.NoProgress); err != nil {
			return "", err
		}
	}
	resp, err := session.UploadPack(ctx, req)
	if err != nil {
		return "", fmt.Errorf("git %s: fetching %s: %w", name, want, scrubURLError(err))
	}
	defer resp.Close()
	var pack io.Reader = resp
	switch {
	case req.Capabilities.Supports(capability.Sideband64k):
		pack = sideband.NewDemuxer(sideband.Sideband64k, resp)
	case req.Capabilities.Supports(capability.Sideband):
		pack = sideband.NewDemuxer(sideband.Sideband, resp)
	}
	pack = &capReader{r: pack, limit: t.limits.MaxDownloadBytes, what: "download", name: name}

	storage := filesystem.NewStorage(osfs.New(filepath.Join(staging, "git")), cache.NewObjectLRUDefault())
	if err := packfile.UpdateObjectStorage(storage, pack); err != nil {
		return "", fmt.Errorf("git %s: reading the pack: %w", name, err)
	}
	commit, err := peelToCommit(storage, want)
	if err != nil {
		return "", fmt.Errorf("git %s: %w", name, err)
	}
	if err := writeGitTree(t, storage, commit.TreeHash, "", 0); err != nil {
		return "", err
	}
	return commit.Hash.String(), nil
}

// resolveWant finds the object to fetch: refs/heads/<branch>, else refs/tags/<tag> (peeled when the
// server advertises the peeled commit), else the reference, which is a full reference name or a
// 40-digit commit hash (servers may refuse hashes they do not advertise).
func resolveWant(ar *packp.AdvRefs, g GitSource) (plumbing.Hash, error) {
	var refName plumbing.ReferenceName
	attr := ""
	switch {
	case g.Branch != "":
		refName, attr = plumbing.NewBranchReferenceName(g.Branch), "branch"
	case g.Tag != "":
		refName, attr = plumbing.NewTagReferenceName(g.Tag), "tag"
	case plumbing.IsHash(g.Reference):
		return plumbing.NewHash(g.Reference), nil
	case g.Reference != "":
		refName, attr = plumbing.ReferenceName(g.Reference), "reference"
	default:
		return plumbing.ZeroHash, errors.New("spec.build.codeEntryAttributes.branch: git sources need a branch, tag or reference")
	}
	if refName != plumbing.HEAD {
		if err := refName.Validate(); err != nil {
			return plumbing.ZeroHash, fmt.Errorf("spec.build.codeEntryAttributes.%s: %q is not a valid reference name", attr, refName)
		}
	}
	refs, err := ar.AllReferences()
	if err != nil {
		return plumbing.ZeroHash, fmt.Errorf("reading advertised references: %w", err)
	}
	ref, ok := refs[refName]
	if ok && ref.Type() == plumbing.SymbolicReference {
		refName = ref.Target()
		ref, ok = refs[refName]
	}
	if !ok || ref.Type() != plumbing.HashReference {
		return plumbing.ZeroHash, fmt.Errorf("spec.build.codeEntryAttributes.%s: the repository has no %s", attr, refName)
	}
	if peeled, ok := ar.Peeled[refName.String()]; ok {
		return peeled, nil
	}
	return ref.Hash(), nil
}

// peelToCommit returns the commit h names, following annotated tags.
func peelToCommit(storage *filesystem.Storage, h plumbing.Hash) (*object.Commit, error) {
	for range maxTagDepth {
		obj, err := object.GetObject(storage, h)
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", h, err)
		}
		switch o := obj.(type) {
		case *object.Commit:
			return o, nil
		case *object.Tag:
			h = o.Target
		default:
			return nil, fmt.Errorf("%s is a %s, not a commit", h, obj.Type())
		}
	}
	return nil, fmt.Errorf("more than %d nested tags", maxTagDepth)
}

// writeGitTree writes the tree h at prefix into t, depth-first in the tree's (sorted) order.
func writeGitTree(t *tree, storage *filesystem.Storage, h plumbing.Hash, prefix string, depth int) error {
	if depth > maxDepth {
		return unsafeEntry(prefix, "the tree is nested too deeply")
	}
	encoded, err := storage.EncodedObject(plumbing.TreeObject, h)
	if err != nil {
		return fmt.Errorf("reading tree %s: %w", h, err)
	}
	if encoded.Size() > t.limits.MaxFileBytes {
		return &LimitError{What: "file size", Limit: t.limits.MaxFileBytes, Name: "tree of " + strings.TrimPrefix(prefix+"/", "/")}
	}
	gitTree, err := object.DecodeTree(storage, encoded)
	if err != nil {
		return fmt.Errorf("reading tree %s: %w", h, err)
	}
	for _, entry := range gitTree.Entries {
		if entry.Name == "" || entry.Name == "." || entry.Name == ".." || strings.ContainsAny(entry.Name, "/\\\x00") {
			return unsafeEntry(prefix+"/"+entry.Name, "git tree entries must be single, plain names")
		}
		name := strings.TrimPrefix(prefix+"/"+entry.Name, "/")
		switch entry.Mode {
		case filemode.Dir:
			if err := t.dir(name); err != nil {
				return err
			}
			if err := writeGitTree(t, storage, entry.Hash, name, depth+1); err != nil {
				return err
			}
		case filemode.Submodule:
			if err := t.dir(name); err != nil {
				return err
			}
		case filemode.Regular, filemode.Deprecated, filemode.Executable:
			if err := writeGitBlob(t, storage, entry.Hash, name, func(r io.Reader, size int64) error {
				mode := uint32(0o644)
				if entry.Mode == filemode.Executable {
					mode = 0o755
				}
				return t.file(name, fsMode(mode), r, size)
			}); err != nil {
				return err
			}
		case filemode.Symlink:
			if err := writeGitBlob(t, storage, entry.Hash, name, func(r io.Reader, size int64) error {
				if size > maxLinkTarget {
					return unsafeEntry(name, "the link target is too long")
				}
				target, err := io.ReadAll(r)
				if err != nil {
					return err
				}
				return t.symlink(name, string(target))
			}); err != nil {
				return err
			}
		default:
			return unsafeEntry(name, fmt.Sprintf("git tree entries of mode %s are not allowed", entry.Mode))
		}
	}
	return nil
}

// writeGitBlob opens blob h after checking its declared size and passes its content to write.
func writeGitBlob(t *tree, storage *filesystem.Storage, h plumbing.Hash, name string, write func(io.Reader, int64) error) error {
	encoded, err := storage.EncodedObject(plumbing.BlobObject, h)
	if err != nil {
		return fmt.Errorf("reading %s: %w", name, err)
	}
	if encoded.Size() > t.limits.MaxFileBytes {
		return &LimitError{What: "file size", Limit: t.limits.MaxFileBytes, Name: name}
	}
	r, err := encoded.Reader()
	if err != nil {
		return fmt.Errorf("reading %s: %w", name, err)
	}
	defer r.Close()
	return write(r, encoded.Size())
}
