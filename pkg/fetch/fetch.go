// Copyright The nuclio-apiserver Authors.
// SPDX-License-Identifier: Apache-2.0

package fetch

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/go-git/go-git/v5/plumbing/transport"
)

// S3Client is the part of *s3.Client that fetching needs.
type S3Client interface {
	GetObject(ctx context.Context, in *s3.GetObjectInput, optFns ...func(*s3.Options)) (*s3.GetObjectOutput, error)
}

// NewS3ClientFunc builds an S3 client for a region and credentials (nil credentials: anonymous
// requests). The fetcher binary passes one that routes through the egress guard, e.g. a closure over
// pkg/egress/s3client.New.
type NewS3ClientFunc func(region string, credentials aws.CredentialsProvider) (S3Client, error)

// Fetcher fetches sources with injected network clients. A nil client makes the kinds that need it fail;
// nothing falls back to a default client.
type Fetcher struct {
	// HTTPClient downloads archives, GitHub zipballs and single files. Use the egress-guarded client.
	HTTPClient *http.Client
	// GitTransport clones git sources, e.g. go-git's githttp.NewClient(guardedClient). Its endpoint
	// options are not consulted: the fetcher never sets a proxy, CA bundle or insecure flag.
	GitTransport transport.Transport
	// NewS3Client builds the S3 client of an s3 source.
	NewS3Client NewS3ClientFunc
	// Limits bound each fetch; zero fields select the defaults.
	Limits Limits
}

// Result describes a completed fetch.
type Result struct {
	// Kind is the kind of source fetched.
	Kind string
	// Entries is the number of files, directories and links written and Bytes the bytes of the files,
	// counted over everything unpacked, before the work directory is selected.
	Entries int
	Bytes   int64
	// Commit is the commit checked out, for git sources.
	Commit string
}

// Fetch writes src into the directory dest, which must not exist yet or be an empty directory (not a
// mount point), and whose parent must exist. The source is assembled in a temporary directory beside
// dest (named `.fetch-*`) and renamed into place only when complete and valid, so dest never holds a
// partial or unsafe tree.
//
// ctx bounds the whole fetch: the injected clients' requests, and unpacking between entries.
//
// Errors wrap ErrLimitExceeded (with a *LimitError), ErrUnsafeEntry, ErrUnsupportedArchive, network
// errors of the injected clients, and errors naming the attribute at fault (workDir, git references).
func (f *Fetcher) Fetch(ctx context.Context, src *Source, dest string) (*Result, error) {
	if src == nil {
		return nil, errors.New("fetch: no source given")
	}
	if err := checkDest(dest); err != nil {
		return nil, err
	}
	staging, err := os.MkdirTemp(filepath.Dir(dest), ".fetch-")
	if err != nil {
		return nil, fmt.Errorf("creating a staging directory beside %s: %w", dest, err)
	}
	defer os.RemoveAll(staging)
	treeDir := filepath.Join(staging, "tree")
	if err := os.Mkdir(treeDir, 0o755); err != nil {
		return nil, err
	}
	t, err := newTree(ctx, treeDir, f.Limits)
	if err != nil {
		return nil, err
	}
	defer t.Close()

	result := &Result{Kind: src.Kind}
	httpGet := func(w io.Writer, limit int64) error { return f.download(ctx, src.URL, src.Headers, w, limit) }
	s3Get := func(w io.Writer, limit int64) error { return f.downloadS3(ctx, &src.S3, w, limit) }
	switch src.Kind {
	case KindNone:
	case KindSourceCode:
		err = t.file(src.FileName, 0o644, bytes.NewReader(src.SourceCode), int64(len(src.SourceCode)))
	case KindURL:
		err = f.fetchSingle(t, staging, src.FileName, httpGet)
	case KindArchive, KindGitHub:
		err = f.fetchArchive(t, staging, src, httpGet)
	case KindS3:
		if src.FileName != "" {
			err = f.fetchSingle(t, staging, src.FileName, s3Get)
		} else {
			err = f.fetchArchive(t, staging, src, s3Get)
		}
	case KindGit:
		result.Commit, err = f.fetchGit(ctx, t, staging, src)
	default:
		err = fmt.Errorf("fetch: unknown source kind %q", src.Kind)
	}
	if err != nil {
		return nil, err
	}

	final, kind, err := t.resolve(src.StripTopDirectory, src.WorkDir)
	if err != nil {
		return nil, err
	}
	finalPath := filepath.Join(treeDir, filepath.FromSlash(final))
	if kind == kindFile {
		// A workDir naming one file makes that file the whole function, as Nuclio copies it alone.
		single := filepath.Join(staging, "single")
		if err := os.Mkdir(single, 0o755); err != nil {
			return nil, err
		}
		if err := os.Rename(finalPath, filepath.Join(single, filepath.Base(finalPath))); err != nil {
			return nil, err
		}
		finalPath = single
	} else if err := t.validateLinks(final); err != nil {
		return nil, err
	}
	result.Entries, result.Bytes = t.entries, t.bytes
	// os.Rename refuses to replace a directory; an empty one is removed first (os.Remove fails on any
	// other, so nothing is lost).
	if err := os.Remove(dest); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("replacing %s: %w", dest, err)
	}
	if err := os.Rename(finalPath, dest); err != nil {
		return nil, fmt.Errorf("moving the source into %s: %w", dest, err)
	}
	return result, nil
}

// checkDest accepts a missing dest or an empty directory.
func checkDest(dest string) error {
	info, err := os.Lstat(dest)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if !info.IsDir() {
		return fmt.Errorf("fetch: %s exists and is not a directory", dest)
	}
	entries, err := os.ReadDir(dest)
	if err != nil {
		return err
	}
	if len(entries) > 0 {
		return fmt.Errorf("fetch: %s is not empty", dest)
	}
	return nil
}

// fetchSingle downloads one file into the staging directory and writes it into the tree as name,
// bounded by the download, file and total limits.
func (f *Fetcher) fetchSingle(t *tree, staging, name string, fetch func(io.Writer, int64) error) error {
	file, err := os.CreateTemp(staging, "download-")
	if err != nil {
		return err
	}
	defer file.Close()
	if err := fetch(file, min(t.limits.MaxDownloadBytes, t.limits.MaxFileBytes, t.limits.MaxTotalBytes)); err != nil {
		return err
	}
	size, err := file.Seek(0, io.SeekCurrent)
	if err != nil {
		return err
	}
	return t.file(name, 0o644, io.NewSectionReader(file, 0, size), size)
}

// fetchArchive downloads an archive into the staging directory and unpacks it into the tree.
func (f *Fetcher) fetchArchive(t *tree, staging string, src *Source, fetch func(io.Writer, int64) error) error {
	file, err := os.CreateTemp(staging, "archive-")
	if err != nil {
		return err
	}
	defer file.Close()
	if err := fetch(file, t.limits.MaxDownloadBytes); err != nil {
		return err
	}
	size, err := file.Seek(0, io.SeekCurrent)
	if err != nil {
		return err
	}
	if err := extractArchive(t, file, size); err != nil {
		return fmt.Errorf("unpacking %s: %w", src.describe(), err)
	}
	return nil
}

// describe names the origin of src for error messages, without credentials.
func (s *Source) describe() string {
	if s.Kind == KindS3 {
		return "s3://" + s.S3.Bucket + "/" + s.S3.Key
	}
	return redactURL(s.URL)
}

// download GETs url with headers into w, reading at most limit bytes. As in Nuclio (pkg/common/url.go
// DownloadFile) the status must be 200 and a declared Content-Length must match the body.
func (f *Fetcher) download(ctx context.Context, url string, headers http.Header, w io.Writer, limit int64) error {
	if f.HTTPClient == nil {
		return errors.New("fetch: no HTTP client configured")
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return fmt.Errorf("GET %s: %w", redactURL(url), err)
	}
	req.Header = headers.Clone()
	if req.Header == nil {
		req.Header = http.Header{}
	}
	resp, err := f.HTTPClient.Do(req)
	if err != nil {
		return fmt.Errorf("GET %s: %w", redactURL(url), scrubURLError(err))
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: unexpected status %s", redactURL(url), resp.Status)
	}
	return copyBody(w, resp.Body, resp.ContentLength, limit, redactURL(url))
}

// downloadS3 reads the object into w, at most limit bytes.
func (f *Fetcher) downloadS3(ctx context.Context, obj *S3Source, w io.Writer, limit int64) error {
	if f.NewS3Client == nil {
		return errors.New("fetch: no S3 client configured")
	}
	var creds aws.CredentialsProvider
	if obj.AccessKeyID != "" {
		static := aws.Credentials{
			AccessKeyID:     obj.AccessKeyID,
			SecretAccessKey: obj.SecretAccessKey,
			SessionToken:    obj.SessionToken,
			Source:          "spec.build.codeEntryAttributes",
		}
		creds = aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) { return static, nil })
	}
	client, err := f.NewS3Client(obj.Region, creds)
	if err != nil {
		return fmt.Errorf("creating the S3 client: %w", err)
	}
	name := "s3://" + obj.Bucket + "/" + obj.Key
	out, err := client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(obj.Bucket), Key: aws.String(obj.Key)})
	if err != nil {
		return fmt.Errorf("getting %s: %w", name, err)
	}
	defer out.Body.Close()
	length := int64(-1)
	if out.ContentLength != nil {
		length = *out.ContentLength
	}
	return copyBody(w, out.Body, length, limit, name)
}

// copyBody copies at most limit bytes of body to w and checks the declared length (-1 if unknown).
func copyBody(w io.Writer, body io.Reader, declared, limit int64, name string) error {
	if declared > limit {
		return &LimitError{What: "download", Limit: limit, Name: name}
	}
	n, err := io.Copy(w, io.LimitReader(body, limit+1))
	if err != nil {
		return fmt.Errorf("reading %s: %w", name, err)
	}
	if n > limit {
		return &LimitError{What: "download", Limit: limit, Name: name}
	}
	if declared >= 0 && n != declared {
		return fmt.Errorf("reading %s: got %d bytes, the server declared %d", name, n, declared)
	}
	return nil
}

// scrubURLError drops the URL that *url.Error repeats (it may carry query credentials); the caller
// names the redacted URL itself.
func scrubURLError(err error) error {
	var urlErr *url.Error
	if errors.As(err, &urlErr) && urlErr.Err != nil {
		return urlErr.Err
	}
	return err
}
