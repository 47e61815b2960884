// Copyright The nuclio-apiserver Authors.
// SPDX-License-Identifier: Apache-2.0

// Command nuclio-fetcher is the init container of a function's build Job (see pkg/build/job.go). It
// reads the function as stored (credentials masked), restores code-entry credentials from the mounted
// function Secret, checks the function against the build-source policy, fetches the source under the
// egress guard (pkg/egress) with pkg/fetch's safe unpacking into <workspace>/handler, and writes the
// Dockerfile and the rest of the build context with pkg/build, for Kaniko to build.
//
// Exit codes (the first line of the error also goes to the termination log, which the controller copies
// into the function's status; credentials are redacted from it):
//
//	0  the build context is ready
//	1  an unexpected failure (writing the context, ...)
//	2  bad command-line flags
//	3  bad input: unreadable or malformed function, build configuration or policy, or a source hash that
//	   differs from the controller's (the controller and the fetcher disagree on the build)
//	4  the build-source policy refuses the function or a destination it leads to
//	5  the function's build section is invalid (unknown code entry type, bad attributes, a credential
//	   that is still a `$ref:` token)
//	6  fetching failed (network, HTTP status, not an archive, git reference not found)
//	7  the source is unsafe or too large (zip-slip, links out of the tree, devices, size or count caps)
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/nuclio-apiserver/nuclio-apiserver/apis/nuclio/v1beta1"
	"github.com/nuclio-apiserver/nuclio-apiserver/pkg/build"
	"github.com/nuclio-apiserver/nuclio-apiserver/pkg/egress"
	"github.com/nuclio-apiserver/nuclio-apiserver/pkg/egress/gitclient"
	"github.com/nuclio-apiserver/nuclio-apiserver/pkg/egress/s3client"
	"github.com/nuclio-apiserver/nuclio-apiserver/pkg/fetch"
	"github.com/nuclio-apiserver/nuclio-apiserver/pkg/masking"
	"github.com/nuclio-apiserver/nuclio-apiserver/pkg/version"
)

// Exit codes; see the package documentation.
const (
	exitOK       = 0
	exitInternal = 1
	exitUsage    = 2
	exitInput    = 3
	exitRefused  = 4
	exitInvalid  = 5
	exitFetch    = 6
	exitUnsafe   = 7
)

// maxTerminationMessage is the kubelet's limit on a termination message.
const maxTerminationMessage = 4096

// options are the command-line flags.
type options struct {
	function, buildConfig, policy, secretDir, workspace string
	expectedSourceHash, terminationLog                  string
	timeout                                             time.Duration
	limits                                              fetch.Limits
	showVersion                                         bool
}

// failure is an error with its exit code.
type failure struct {
	code int
	err  error
}

func (f *failure) Error() string { return f.err.Error() }
func (f *failure) Unwrap() error { return f.err }

func fail(code int, format string, args ...interface{}) error {
	return &failure{code: code, err: fmt.Errorf(format, args...)}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr, true)
	stop()
	os.Exit(code)
}

// run executes the fetcher with args and returns its exit code. installGit replaces go-git's
// process-wide transports with the guarded one (the binary does; tests need not).
func run(ctx context.Context, args []string, stdout, stderr io.Writer, installGit bool) int {
	o, err := parseFlags(args, stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	if o.showVersion {
		fmt.Fprintln(stdout, version.String("nuclio-fetcher"))
		return exitOK
	}
	if o.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, o.timeout)
		defer cancel()
	}
	var secrets map[string]string
	summary, err := prepare(ctx, o, &secrets, installGit)
	if err == nil {
		fmt.Fprintln(stdout, summary)
		return exitOK
	}
	code := exitInternal
	var f *failure
	if errors.As(err, &f) {
		code = f.code
	}
	message := redact(oneLine(err.Error()), secrets)
	if len(message) > maxTerminationMessage {
		message = message[:maxTerminationMessage-3] + "..."
	}
	fmt.Fprintln(stderr, "nuclio-fetcher:", message)
	if o.terminationLog != "" {
		// Best effort: the log line above stays the fallback (terminationMessagePolicy FallbackToLogsOnError).
		_ = os.WriteFile(o.terminationLog, []byte(message), 0o644)
	}
	return code
}

func parseFlags(args []string, stderr io.Writer) (*options, error) {
	o := &options{}
	fs := flag.NewFlagSet("nuclio-fetcher", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.function, "function", build.InputDir+"/"+build.FunctionKey,
		"JSON of the NuclioFunction as stored (credentials masked as $ref: tokens).")
	fs.StringVar(&o.buildConfig, "build-config", build.InputDir+"/"+build.BuildConfigKey,
		"JSON of the controller's build configuration (pkg/build Config).")
	fs.StringVar(&o.policy, "policy", "",
		"JSON object of the build-source policy parameters (the policy ConfigMap's data). Empty: the built-in default policy (https only, public hosts).")
	fs.StringVar(&o.secretDir, "secret-dir", "",
		"Directory of the mounted function Secret; its `content` file restores masked code-entry credentials. Empty or missing: no credentials.")
	fs.StringVar(&o.workspace, "workspace", build.WorkspaceDir, "Build context directory to write: handler/ and "+build.DockerfileName+".")
	fs.StringVar(&o.expectedSourceHash, "expected-source-hash", "",
		"Source hash the controller planned the build with; a different hash here is an error (exit 3). Empty: not checked.")
	fs.StringVar(&o.terminationLog, "termination-log", "/dev/termination-log", "File that receives a one-line error on failure; empty: none.")
	fs.DurationVar(&o.timeout, "timeout", 30*time.Minute, "Bound on the whole fetch; 0: none (the Job's activeDeadlineSeconds still applies).")
	fs.Int64Var(&o.limits.MaxDownloadBytes, "max-download-bytes", fetch.DefaultMaxDownloadBytes, "Largest download (archive, file, S3 object, git pack).")
	fs.Int64Var(&o.limits.MaxTotalBytes, "max-total-bytes", fetch.DefaultMaxTotalBytes, "Largest total size of the files written.")
	fs.Int64Var(&o.limits.MaxFileBytes, "max-file-bytes", fetch.DefaultMaxFileBytes, "Largest single file written.")
	fs.IntVar(&o.limits.MaxEntries, "max-entries", fetch.DefaultMaxEntries, "Most files, directories and links written.")
	fs.BoolVar(&o.showVersion, "version", false, "Print the version and exit.")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: nuclio-fetcher [flags]\n\n"+
			"Fetches a NuclioFunction's source under the build-source policy and writes the Kaniko build context.\n"+
			"Exit codes: 0 ok, 1 internal, 2 flags, 3 input, 4 refused by policy, 5 invalid build, 6 fetch failed, 7 unsafe or too large.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "nuclio-fetcher: unexpected arguments %q\n", fs.Args())
		fs.Usage()
		return nil, errors.New("unexpected arguments")
	}
	for name, v := range map[string]int64{"max-download-bytes": o.limits.MaxDownloadBytes, "max-total-bytes": o.limits.MaxTotalBytes,
		"max-file-bytes": o.limits.MaxFileBytes, "max-entries": int64(o.limits.MaxEntries)} {
		if v <= 0 {
			fmt.Fprintf(stderr, "nuclio-fetcher: --%s must be positive\n", name)
			return nil, errors.New("bad limit")
		}
	}
	return o, nil
}

// prepare builds the context and returns a one-line summary. *secrets receives the restored credentials
// as soon as they are known, so that the caller can redact them from any error.
func prepare(ctx context.Context, o *options, secrets *map[string]string, installGit bool) (string, error) {
	raw, err := os.ReadFile(o.function)
	if err != nil {
		return "", fail(exitInput, "reading the function: %w", err)
	}
	fn := &v1beta1.NuclioFunction{}
	if err := json.Unmarshal(raw, fn); err != nil {
		return "", fail(exitInput, "decoding the function %s: %w", o.function, err)
	}
	obj, err := masking.DecodeObject(raw)
	if err != nil {
		return "", fail(exitInput, "decoding the function %s: %w", o.function, err)
	}
	cfg := build.Config{}
	if raw, err := os.ReadFile(o.buildConfig); err != nil {
		return "", fail(exitInput, "reading the build configuration: %w", err)
	} else if err := json.Unmarshal(raw, &cfg); err != nil {
		return "", fail(exitInput, "decoding the build configuration %s: %w", o.buildConfig, err)
	}
	policy := egress.DefaultPolicy()
	if o.policy != "" {
		raw, err := os.ReadFile(o.policy)
		if err != nil {
			return "", fail(exitInput, "reading the build-source policy: %w", err)
		}
		data := map[string]string{}
		if err := json.Unmarshal(raw, &data); err != nil {
			return "", fail(exitInput, "decoding the build-source policy %s (want a JSON object of strings): %w", o.policy, err)
		}
		var errs []error
		if policy, errs = policyFrom(data); len(errs) > 0 {
			return "", fail(exitInput, "the build-source policy is invalid: %w", errors.Join(errs...))
		}
	}

	// The admission policy judged the function when it was written; the rules may have changed since.
	if errs := policy.ValidateFunction(obj); len(errs) > 0 {
		return "", fail(exitRefused, "refused by the build-source policy: %w", errs.ToAggregate())
	}
	plan, err := cfg.Generate(fn)
	if err != nil {
		return "", fail(exitInvalid, "planning the build: %w", err)
	}
	if o.expectedSourceHash != "" && plan.SourceHash != o.expectedSourceHash {
		return "", fail(exitInput, "source hash %s differs from the controller's %s: the fetcher and the controller disagree on the build (versions?)",
			plan.SourceHash, o.expectedSourceHash)
	}

	references, err := readSecret(o.secretDir)
	if err != nil {
		return "", err
	}
	*secrets = references
	src, err := fetch.SourceFromFunction(fn, references)
	if err != nil {
		return "", fail(exitInvalid, "resolving the source: %w", err)
	}

	client := egress.NewClient(egress.NewGuard(policy, egress.GuardOptions{}), egress.ClientOptions{})
	if installGit {
		gitclient.Install(client)
	}
	fetcher := &fetch.Fetcher{
		HTTPClient:   client,
		GitTransport: gitclient.NewTransport(client),
		NewS3Client: func(region string, creds aws.CredentialsProvider) (fetch.S3Client, error) {
			return s3client.New(client, region, creds), nil
		},
		Limits: o.limits,
	}
	result, err := fetcher.Fetch(ctx, src, filepath.Join(o.workspace, build.HandlerDir))
	if err != nil {
		return "", classifyFetchError(src, err)
	}
	if err := plan.PrepareContext(o.workspace); err != nil {
		return "", fail(exitInternal, "writing the build context: %w", err)
	}
	summary := fmt.Sprintf("fetched %s: %d entries, %d bytes", src, result.Entries, result.Bytes)
	if result.Commit != "" {
		summary += ", commit " + result.Commit
	}
	return summary + fmt.Sprintf("; wrote %s for %s, image %s", build.DockerfileName, plan.Runtime, plan.Image.Destination), nil
}

// policyFrom parses policy parameters, returning the errors as plain errors.
func policyFrom(data map[string]string) (*egress.Policy, []error) {
	p, errs := egress.PolicyFromConfigMapData(data)
	var out []error
	for _, e := range errs {
		out = append(out, e)
	}
	return p, out
}

// readSecret decodes dir/content of the mounted function Secret into token → value. A missing
// directory or file means there is nothing to restore (the mount is optional).
func readSecret(dir string) (map[string]string, error) {
	if dir == "" {
		return nil, nil
	}
	content, err := os.ReadFile(filepath.Join(dir, masking.SecretContentKey))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fail(exitInput, "reading the function Secret: %w", err)
	}
	values, err := masking.DecodeContent(content)
	if err != nil {
		return nil, fail(exitInput, "decoding the function Secret's %s: %w", masking.SecretContentKey, err)
	}
	return values, nil
}

func classifyFetchError(src *fetch.Source, err error) error {
	switch {
	case egress.IsDenied(err):
		return &failure{code: exitRefused, err: fmt.Errorf("fetching %s: %w", src, err)}
	case errors.Is(err, fetch.ErrUnsafeEntry), errors.Is(err, fetch.ErrLimitExceeded), errors.Is(err, egress.ErrResponseTooLarge):
		return &failure{code: exitUnsafe, err: fmt.Errorf("fetching %s: %w", src, err)}
	default:
		return &failure{code: exitFetch, err: fmt.Errorf("fetching %s: %w", src, err)}
	}
}

// oneLine joins the lines of s.
func oneLine(s string) string {
	return strings.Join(strings.Fields(strings.ReplaceAll(s, "\n", " ")), " ")
}

// urlPattern finds URLs in error messages (net/http quotes the request URL).
var urlPattern = regexp.MustCompile(`[a-zA-Z][a-zA-Z0-9+.-]*://[^\s"'{}<>]+`)

// redact removes credentials from a message: every restored secret value, and the user information,
// query and fragment of URLs (presigned URLs and tokens in query strings are credentials too).
func redact(message string, secrets map[string]string) string {
	values := make([]string, 0, len(secrets))
	for _, v := range secrets {
		if len(v) >= 4 {
			values = append(values, v)
		}
	}
	// Longest first, so that a value containing another is removed whole.
	sort.Slice(values, func(i, j int) bool { return len(values[i]) > len(values[j]) })
	for _, v := range values {
		message = strings.ReplaceAll(message, v, "<redacted>")
	}
	return urlPattern.ReplaceAllStringFunc(message, func(s string) string {
		// Punctuation that ends a sentence or a quoted list is not part of the URL.
		trimmed := strings.TrimRight(s, ".,;:)]")
		tail := s[len(trimmed):]
		u, err := url.Parse(trimmed)
		if err != nil {
			return "<url>" + tail
		}
		if u.User != nil {
			u.User = url.User("redacted")
		}
		if u.RawQuery != "" {
			u.RawQuery = "redacted"
		}
		u.Fragment, u.RawFragment = "", ""
		return u.String() + tail
	})
}
