// Copyright The nuclio-apiserver Authors.
// SPDX-License-Identifier: Apache-2.0

package fetch

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"path"
	"regexp"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/nuclio-apiserver/nuclio-apiserver/apis/nuclio/v1beta1"
	"github.com/nuclio-apiserver/nuclio-apiserver/pkg/build"
)

// Kinds of source: Nuclio's code entry types (builder.go constants), plus KindURL for a build.path that
// names one file and KindNone for a shell function that runs a command and has no files.
const (
	KindSourceCode = "sourceCode"
	KindArchive    = "archive"
	KindGitHub     = "github"
	KindGit        = "git"
	KindS3         = "s3"
	KindURL        = "url"
	KindNone       = "none"
)

// codeEntryImage is the code entry type of functions that run a prebuilt image and are never fetched.
const codeEntryImage = "image"

// ReferencePrefix starts the tokens that masking puts in place of credentials (nuclio-compat §4.3).
const ReferencePrefix = "$ref:"

// DefaultS3Region is the region used when s3Region is empty.
const DefaultS3Region = "us-east-1"

// githubURL is the pattern Nuclio accepts for `github` sources (builder.go GithubURLRegexPattern).
var githubURL = regexp.MustCompile(`^.*://.*github.com(?:/repos)?/(?P<org>[^/]+)/(?P<repo>[^/]+)/?$`)

// archiveSuffixes are the file-name endings that make a plain URL an archive, as Nuclio's
// util.IsArchive does for the formats supported here.
var archiveSuffixes = []string{".zip", ".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tbz2", ".tbz", ".tar.xz", ".txz"}

// Source is a resolved build source: what to fetch and with which credentials. Build it with
// SourceFromFunction or SourceFromBuild. It holds credentials; its String method redacts them.
type Source struct {
	// Kind is one of the Kind constants.
	Kind string
	// URL is the http(s) URL to download (archive, github zipball, single file) or clone (git).
	URL string
	// SourceCode is the decoded functionSourceCode with CRLF line ends turned into LF (KindSourceCode).
	SourceCode []byte
	// FileName is the file written for KindSourceCode and KindURL (and jar archives), e.g. `main.py`.
	FileName string
	// Headers are sent with HTTP downloads (codeEntryAttributes.headers).
	Headers http.Header
	// WorkDir is the directory (or file) inside the fetched tree that becomes the function's files, ""
	// for the whole tree (codeEntryAttributes.workDir).
	WorkDir string
	// StripTopDirectory drops the single top-level directory of GitHub zipballs (`<org>-<repo>-<sha>/`).
	StripTopDirectory bool
	// Git selects the reference to clone and its credentials (KindGit).
	Git GitSource
	// S3 names the object and its credentials (KindS3).
	S3 S3Source
}

// GitSource is the reference and credentials of a git source (nuclio/nuclio:pkg/common/git/types.go).
// Exactly one of Branch, Tag and Reference is used, in that order.
type GitSource struct {
	// Branch clones refs/heads/<Branch>.
	Branch string
	// Tag clones refs/tags/<Tag> (annotated tags are peeled to their commit).
	Tag string
	// Reference is a full reference name (refs/pull/1/head) or a 40-digit commit hash.
	Reference string
	// Username and Password authenticate over HTTP basic auth; an empty Username with a Password is
	// sent as `defaultuser`, as Nuclio does for token-only hosts.
	Username string
	Password string
}

// S3Source names an S3 object and the static credentials to read it with. Without AccessKeyID the
// request is anonymous; there is no fallback to instance or pod credentials (nuclio-compat §5.6).
type S3Source struct {
	Bucket, Key, Region                        string
	AccessKeyID, SecretAccessKey, SessionToken string
}

// String describes s without credentials, for logs.
func (s *Source) String() string {
	parts := []string{"kind=" + s.Kind}
	if s.URL != "" {
		parts = append(parts, "url="+redactURL(s.URL))
	}
	if s.FileName != "" {
		parts = append(parts, "file="+s.FileName)
	}
	if s.WorkDir != "" {
		parts = append(parts, "workDir="+s.WorkDir)
	}
	for _, ref := range []struct{ name, value string }{{"branch", s.Git.Branch}, {"tag", s.Git.Tag}, {"reference", s.Git.Reference}} {
		if ref.value != "" {
			parts = append(parts, ref.name+"="+ref.value)
		}
	}
	if s.S3.Bucket != "" {
		parts = append(parts, "s3=s3://"+s.S3.Bucket+"/"+s.S3.Key)
	}
	if len(s.Headers) > 0 {
		parts = append(parts, fmt.Sprintf("headers=%d", len(s.Headers)))
	}
	return "Source{" + strings.Join(parts, " ") + "}"
}

// GoString is String, so that %#v does not print credentials either.
func (s *Source) GoString() string { return s.String() }

// SourceFromFunction resolves the source of fn's build section. References maps `$ref:` tokens to their
// values (the function Secret decoded by the caller); any credential that is still a token after that
// is an error rather than being sent as a password. The caller may equally pass a function whose
// credentials it already restored, and nil references.
//
// Errors are a field.ErrorList aggregate naming the fields, e.g. spec.build.codeEntryAttributes.branch.
func SourceFromFunction(fn *v1beta1.NuclioFunction, references map[string]string) (*Source, error) {
	if fn == nil {
		return nil, fmt.Errorf("fetch: no function given")
	}
	b := &fn.Spec.Build
	return resolve(buildFields{
		path:          b.Path,
		sourceCode:    b.FunctionSourceCode,
		codeEntryType: b.CodeEntryType,
		attributes:    b.CodeEntryAttributes,
		runtime:       fn.Spec.Runtime,
		handler:       fn.Spec.Handler,
	}, references)
}

// SourceFromBuild is SourceFromFunction for a build section given as generic JSON (spec.build decoded
// into a map, as in an unstructured object), with the function's spec.runtime and spec.handler, which
// name the file of functionSourceCode. Fields of the wrong JSON type are errors naming them.
func SourceFromBuild(buildSection map[string]interface{}, runtime, handler string, references map[string]string) (*Source, error) {
	buildPath := field.NewPath("spec", "build")
	var errs field.ErrorList
	str := func(key string) string {
		v, ok := buildSection[key]
		if !ok || v == nil {
			return ""
		}
		s, ok := v.(string)
		if !ok {
			errs = append(errs, field.Invalid(buildPath.Child(key), field.OmitValueType{}, "must be a string"))
		}
		return s
	}
	in := buildFields{
		path:          str("path"),
		sourceCode:    str("functionSourceCode"),
		codeEntryType: str("codeEntryType"),
		runtime:       runtime,
		handler:       handler,
	}
	if v, ok := buildSection["codeEntryAttributes"]; ok && v != nil {
		attributes, ok := v.(map[string]interface{})
		if !ok {
			errs = append(errs, field.Invalid(buildPath.Child("codeEntryAttributes"), field.OmitValueType{}, "must be an object"))
		}
		in.attributes = attributes
	}
	if len(errs) > 0 {
		return nil, errs.ToAggregate()
	}
	return resolve(in, references)
}

// buildFields are the parts of spec.build (and spec) that decide the source.
type buildFields struct {
	path, sourceCode, codeEntryType string
	attributes                      map[string]interface{}
	runtime, handler                string
}

// resolve applies Nuclio's code-entry rules (builder.go resolveFunctionPath and
// resolveFunctionPathFromURL): functionSourceCode wins over everything; otherwise codeEntryType decides,
// and without one a URL is an archive when its name ends like one and a single file otherwise.
func resolve(in buildFields, references map[string]string) (*Source, error) {
	buildPath := field.NewPath("spec", "build")
	attrPath := buildPath.Child("codeEntryAttributes")
	attrs := attributeReader{attrs: in.attributes, path: attrPath, references: references}
	src := &Source{}

	if in.sourceCode != "" {
		decoded, err := base64.StdEncoding.DecodeString(in.sourceCode)
		if err != nil {
			return nil, field.ErrorList{field.Invalid(buildPath.Child("functionSourceCode"), field.OmitValueType{},
				fmt.Sprintf("must be standard base64: %v", err))}.ToAggregate()
		}
		name, err := build.SourceFileName(in.runtime, in.handler)
		if err != nil {
			return nil, err
		}
		src.Kind, src.FileName = KindSourceCode, name
		// Nuclio removes the carriage return of CRLF pairs (pkg/common/helper.go RemoveWindowsCarriage).
		src.SourceCode = []byte(strings.ReplaceAll(string(decoded), "\r\n", "\n"))
		return src, nil
	}

	kind := in.codeEntryType
	switch kind {
	case KindSourceCode:
		return nil, field.ErrorList{field.Required(buildPath.Child("functionSourceCode"),
			"codeEntryType sourceCode needs the source")}.ToAggregate()
	case codeEntryImage:
		return nil, field.ErrorList{field.Invalid(buildPath.Child("codeEntryType"), kind,
			"functions of code entry type image run a prebuilt image and have no source to fetch")}.ToAggregate()
	case "":
		if in.path == "" {
			if strings.SplitN(in.runtime, ":", 2)[0] == build.RuntimeShell && in.handler != "" {
				src.Kind = KindNone
				return src, nil
			}
			return nil, field.ErrorList{field.Required(buildPath.Child("path"),
				"a source is needed: functionSourceCode, path, or codeEntryType s3")}.ToAggregate()
		}
		kind = KindURL
		if hasArchiveSuffix(in.path) {
			kind = KindArchive
		}
	case KindArchive, KindGitHub, KindGit, KindS3:
	default:
		return nil, field.ErrorList{field.NotSupported(buildPath.Child("codeEntryType"), kind,
			[]string{KindSourceCode, KindArchive, KindGitHub, KindGit, KindS3, codeEntryImage})}.ToAggregate()
	}
	src.Kind = kind

	if kind != KindS3 {
		u, err := parseHTTPURL(in.path)
		if err != nil {
			return nil, field.ErrorList{field.Invalid(buildPath.Child("path"), redactURL(in.path), err.Error())}.ToAggregate()
		}
		src.URL = u.String()
	}
	var errs field.ErrorList
	if kind != KindGit {
		src.Headers, errs = attrs.headers()
	}
	if kind != KindURL {
		src.WorkDir = attrs.str("workDir")
		if src.WorkDir != "" {
			if problem := workDirProblem(src.WorkDir); problem != "" {
				errs = append(errs, field.Invalid(attrPath.Child("workDir"), src.WorkDir, problem))
			}
		}
	}

	switch kind {
	case KindURL:
		src.FileName, errs = fileNameFromURL(src.URL, buildPath.Child("path"), errs)
	case KindArchive:
		// Jars stay compressed: the java runtime takes the jar itself (builder.go util.IsJar).
		if strings.HasSuffix(strings.ToLower(urlPath(src.URL)), ".jar") {
			src.Kind, src.WorkDir = KindURL, ""
			src.FileName, errs = fileNameFromURL(src.URL, buildPath.Child("path"), errs)
		}
	case KindGitHub:
		branch := attrs.str("branch")
		if branch == "" {
			errs = append(errs, field.Required(attrPath.Child("branch"), "github sources need a branch"))
			break
		}
		zipball, err := githubZipballURL(in.path, branch)
		if err != nil {
			errs = append(errs, field.Invalid(buildPath.Child("path"), redactURL(in.path), err.Error()))
			break
		}
		src.URL, src.StripTopDirectory = zipball, true
	case KindGit:
		src.Git = GitSource{
			Branch:    attrs.str("branch"),
			Tag:       attrs.str("tag"),
			Reference: attrs.str("reference"),
			Username:  attrs.str("username"),
			Password:  attrs.str("password"),
		}
		errs = append(errs, validateGitSource(src.Git, attrPath)...)
	case KindS3:
		src.S3 = S3Source{
			Bucket:          attrs.str("s3Bucket"),
			Key:             attrs.str("s3ItemKey"),
			Region:          attrs.str("s3Region"),
			AccessKeyID:     attrs.str("s3AccessKeyId"),
			SecretAccessKey: attrs.str("s3SecretAccessKey"),
			SessionToken:    attrs.str("s3SessionToken"),
		}
		errs = append(errs, validateS3Source(&src.S3, attrPath)...)
		if strings.HasSuffix(strings.ToLower(src.S3.Key), ".jar") {
			src.WorkDir = ""
			src.FileName = path.Base(src.S3.Key)
			if problem := fileNameProblem(src.FileName); problem != "" {
				errs = append(errs, field.Invalid(attrPath.Child("s3ItemKey"), src.S3.Key, problem))
			}
		}
	}
	errs = append(errs, attrs.errs...)
	if len(errs) > 0 {
		return nil, errs.ToAggregate()
	}
	return src, nil
}

// attributeReader reads string attributes, replacing `$ref:` tokens from references and recording
// errors for values of the wrong type and for tokens left unresolved.
type attributeReader struct {
	attrs      map[string]interface{}
	path       *field.Path
	references map[string]string
	errs       field.ErrorList
}

// str reads a string attribute. Errors never echo attribute values, which may be credentials.
func (a *attributeReader) str(key string) string {
	v, ok := a.attrs[key]
	if !ok || v == nil {
		return ""
	}
	s, ok := v.(string)
	if !ok {
		a.errs = append(a.errs, field.Invalid(a.path.Child(key), field.OmitValueType{}, "must be a string"))
		return ""
	}
	return a.restore(a.path.Child(key), s)
}

// restore replaces a whole-value `$ref:` token (the processor's restore rule, nuclio-compat §4.5).
func (a *attributeReader) restore(fldPath *field.Path, s string) string {
	if strings.HasPrefix(s, ReferencePrefix) {
		if v, ok := a.references[s]; ok {
			return v
		}
		a.errs = append(a.errs, field.Invalid(fldPath, field.OmitValueType{},
			"is a masked reference ($ref:) with no value; restore the function's credentials before fetching"))
		return ""
	}
	return s
}

// headers reads codeEntryAttributes.headers: an object of header names to string values.
func (a *attributeReader) headers() (http.Header, field.ErrorList) {
	v, ok := a.attrs["headers"]
	if !ok || v == nil {
		return nil, nil
	}
	fldPath := a.path.Child("headers")
	m, ok := v.(map[string]interface{})
	if !ok {
		return nil, field.ErrorList{field.Invalid(fldPath, field.OmitValueType{}, "must be an object of header names to string values")}
	}
	var errs field.ErrorList
	h := http.Header{}
	for _, name := range sortedKeys(m) {
		value := m[name]
		s, ok := value.(string)
		switch {
		case !reHeaderName.MatchString(name):
			errs = append(errs, field.Invalid(fldPath, name, "header names must be HTTP tokens"))
		case !ok:
			errs = append(errs, field.Invalid(fldPath.Key(name), field.OmitValueType{}, "must be a string"))
		case strings.ContainsAny(s, "\r\n\x00"):
			errs = append(errs, field.Invalid(fldPath.Key(name), field.OmitValueType{}, "must not contain line breaks or NUL"))
		default:
			h.Set(name, a.restore(fldPath.Key(name), s))
		}
	}
	return h, errs
}

var reHeaderName = regexp.MustCompile("^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")

// parseHTTPURL accepts absolute http and https URLs only: Nuclio treats anything else as a path on the
// builder host, which a build pod must never read.
func parseHTTPURL(raw string) (*url.URL, error) {
	if raw == "" {
		return nil, fmt.Errorf("an http or https URL is required")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("must be an http or https URL")
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Opaque != "" {
		return nil, fmt.Errorf("must be an http or https URL; local paths and other schemes are not fetched")
	}
	return u, nil
}

// githubZipballURL maps a GitHub repository URL to the API's zipball of branch
// (builder.go generateGithubZipballURL). Each path segment is escaped, and `.`/`..` segments are refused
// so that the request cannot walk to another API endpoint with the caller's Authorization header.
func githubZipballURL(repoURL, branch string) (string, error) {
	m := githubURL.FindStringSubmatch(repoURL)
	if m == nil {
		return "", fmt.Errorf("must be a GitHub repository URL such as https://github.com/org/repo")
	}
	org, repo := m[githubURL.SubexpIndex("org")], m[githubURL.SubexpIndex("repo")]
	segments := []string{org, repo}
	segments = append(segments, strings.Split(branch, "/")...)
	for i, s := range segments {
		if s == "" || s == "." || s == ".." {
			return "", fmt.Errorf("the organisation, repository and branch must not contain empty, . or .. path segments")
		}
		segments[i] = url.PathEscape(s)
	}
	return fmt.Sprintf("https://api.github.com/repos/%s/%s/zipball/%s", segments[0], segments[1], strings.Join(segments[2:], "/")), nil
}

// validateGitSource requires one reference and refuses values git would read as options or that cannot
// be reference names.
func validateGitSource(g GitSource, attrPath *field.Path) field.ErrorList {
	var errs field.ErrorList
	if g.Branch == "" && g.Tag == "" && g.Reference == "" {
		return field.ErrorList{field.Required(attrPath.Child("branch"),
			"git sources need a branch, tag or reference")}
	}
	for _, r := range []struct{ key, value string }{{"branch", g.Branch}, {"tag", g.Tag}, {"reference", g.Reference}} {
		if r.value == "" {
			continue
		}
		if strings.HasPrefix(r.value, "-") || strings.ContainsAny(r.value, " \t\r\n\x00\\") || strings.Contains(r.value, "..") {
			errs = append(errs, field.Invalid(attrPath.Child(r.key), r.value,
				`must be a git reference name: no leading "-", blanks, backslashes, ".." or control characters`))
		}
	}
	return errs
}

// validateS3Source requires bucket and key, defaults the region, and requires the secret with the key id.
func validateS3Source(s *S3Source, attrPath *field.Path) field.ErrorList {
	var errs field.ErrorList
	if s.Bucket == "" {
		errs = append(errs, field.Required(attrPath.Child("s3Bucket"), "s3 sources need a bucket"))
	}
	if s.Key == "" {
		errs = append(errs, field.Required(attrPath.Child("s3ItemKey"), "s3 sources need an item key"))
	}
	if s.Region == "" {
		s.Region = DefaultS3Region
	}
	if (s.AccessKeyID == "") != (s.SecretAccessKey == "") {
		errs = append(errs, field.Required(attrPath.Child("s3SecretAccessKey"),
			"s3AccessKeyId and s3SecretAccessKey go together; give both or neither (anonymous access)"))
	}
	return errs
}

// workDirProblem explains why dir is not a relative path inside the tree, "" when it is one.
func workDirProblem(dir string) string {
	if strings.HasPrefix(dir, "/") || strings.Contains(dir, "\\") || strings.ContainsRune(dir, 0) {
		return "must be a relative path inside the source tree"
	}
	for _, part := range strings.Split(dir, "/") {
		if part == ".." {
			return "must be a relative path inside the source tree (no ..)"
		}
	}
	return ""
}

// fileNameFromURL derives the file name of a single-file download from the URL path's last element.
func fileNameFromURL(rawURL string, fldPath *field.Path, errs field.ErrorList) (string, field.ErrorList) {
	p := urlPath(rawURL)
	name := path.Base(p)
	if strings.HasSuffix(p, "/") {
		name = ""
	}
	if problem := fileNameProblem(name); problem != "" {
		return "", append(errs, field.Invalid(fldPath, redactURL(rawURL), "must name a file: "+problem))
	}
	return name, errs
}

// urlPath returns the unescaped path of a URL ("" if it does not parse).
func urlPath(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return ""
	}
	return u.Path
}

func hasArchiveSuffix(rawURL string) bool {
	p := strings.ToLower(urlPath(rawURL))
	for _, s := range archiveSuffixes {
		if strings.HasSuffix(p, s) {
			return true
		}
	}
	return false
}

// fileNameProblem explains why name cannot be one file name in the tree, "" when it can.
func fileNameProblem(name string) string {
	switch {
	case name == "" || name == "/" || name == "." || name == "..":
		return "the file name is empty, . or .."
	case strings.ContainsAny(name, "/\\"):
		return "the file name contains / or \\"
	case len(name) > 255:
		return "the file name is longer than 255 bytes"
	}
	for _, r := range name {
		if r < 0x20 || r == 0x7f {
			return "the file name contains control characters"
		}
	}
	return ""
}

// redactURL drops user information, query and fragment, which may carry credentials.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "<unparsable URL>"
	}
	u.User, u.RawQuery, u.Fragment, u.ForceQuery = nil, "", "", false
	return u.String()
}

func sortedKeys(m map[string]interface{}) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
