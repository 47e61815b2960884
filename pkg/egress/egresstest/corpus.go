// Copyright The nuclio-apiserver Authors.
// SPDX-License-Identifier: Apache-2.0

// Package egresstest holds what tests of build-source safety share: the SSRF
// corpus in test/testdata/ssrf (loading, and rendering a case as a
// NuclioFunction object for admission or kubectl), and network fakes that let
// tests exercise pkg/egress without sending traffic anywhere but loopback.
package egresstest

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"sort"

	"sigs.k8s.io/yaml"
)

// Expected verdicts.
const (
	Allow = "allow"
	Deny  = "deny"
)

// Public is the placeholder for "a public address" in Case.Resolve. Judges
// that connect replace it with StandIn, a loopback address their policy
// allows only for that test, so that no test ever dials a real public
// address; no corpus case may name StandIn itself.
const Public = "PUBLIC"

// StandIn replaces Public in resolver answers; StandInCIDR is the
// allowedCIDRs entry a connecting judge adds to its policy.
var (
	StandIn     = netip.MustParseAddr("127.0.0.2")
	StandInCIDR = "127.0.0.2/32"
)

// Case is one corpus entry: a NuclioFunction build section, policy
// parameters and request details, and what every judge must decide.
type Case struct {
	// Name is unique and a DNS-1123 label; it becomes metadata.name.
	Name string `json:"name"`
	// Row names the row of the SSRF bypass catalogue (or other rule) the
	// case exercises, e.g. "link-local", "ipv4-mapped", "header".
	Row string `json:"row"`
	// URL, CodeEntryType, Headers, Args and Flags are shorthands for
	// spec.build.path, .codeEntryType, .codeEntryAttributes.headers, .args
	// and .flags; they override the same fields in Build.
	URL           string                 `json:"url,omitempty"`
	CodeEntryType string                 `json:"codeEntryType,omitempty"`
	Headers       map[string]interface{} `json:"headers,omitempty"`
	Args          map[string]interface{} `json:"args,omitempty"`
	Flags         []interface{}          `json:"flags,omitempty"`
	// Build holds any other spec.build fields.
	Build map[string]interface{} `json:"build,omitempty"`
	// Params override keys of the policy's parameter ConfigMap data.
	Params map[string]string `json:"params,omitempty"`
	// Operation is CREATE (default) or UPDATE; OldBuild is spec.build of
	// the stored object for UPDATE.
	Operation string                 `json:"operation,omitempty"`
	OldBuild  map[string]interface{} `json:"oldBuild,omitempty"`
	// Authorized is the authorizer's answer to "may the user create
	// nucliofunctions/buildfromurl"; default true.
	Authorized *bool `json:"authorized,omitempty"`
	// Expect is Allow or Deny: the admission verdict (CEL policy, and
	// pkg/egress ValidateFunction unless Authorized is false).
	Expect string `json:"expect"`
	// Field is the path the denial must name, e.g. spec.build.path.
	Field string `json:"field,omitempty"`
	// Reason, if set, is a substring the denial message must contain.
	Reason string `json:"reason,omitempty"`
	// Resolve lists successive answers of the resolver for the URL's host
	// (each a list of addresses or Public) for the connecting judge;
	// default one lookup answering Public. Dial lists the expected outcome
	// (Allow or Deny) of one request per answer.
	Resolve [][]string `json:"resolve,omitempty"`
	Dial    []string   `json:"dial,omitempty"`
}

// Denied reports whether admission must refuse the case.
func (c *Case) Denied() bool { return c.Expect == Deny }

// IsUpdate reports whether the case is an UPDATE request.
func (c *Case) IsUpdate() bool { return c.Operation == "UPDATE" }

// IsAuthorized returns the authorizer's answer for the case.
func (c *Case) IsAuthorized() bool { return c.Authorized == nil || *c.Authorized }

// BuildSection returns spec.build of the case as generic JSON (a fresh copy).
func (c *Case) BuildSection() map[string]interface{} {
	b := deepCopy(c.Build)
	if b == nil {
		b = map[string]interface{}{}
	}
	if c.URL != "" {
		b["path"] = c.URL
	}
	if c.CodeEntryType != "" {
		b["codeEntryType"] = c.CodeEntryType
	}
	if c.Headers != nil {
		attrs, _ := b["codeEntryAttributes"].(map[string]interface{})
		if attrs == nil {
			attrs = map[string]interface{}{}
		}
		attrs["headers"] = deepCopy(c.Headers)
		b["codeEntryAttributes"] = attrs
	}
	if c.Args != nil {
		b["args"] = deepCopy(c.Args)
	}
	if c.Flags != nil {
		b["flags"] = slices.Clone(c.Flags)
	}
	return b
}

// Function renders the case as a NuclioFunction (apiVersion
// nuclio.io/v1beta1) in namespace, as generic JSON: metadata.name is the
// case name, spec has a runtime, a handler and the case's build section.
func (c *Case) Function(namespace string) map[string]interface{} {
	return function(c.Name, namespace, c.BuildSection())
}

// OldFunction renders the stored object of an UPDATE case (nil otherwise).
func (c *Case) OldFunction(namespace string) map[string]interface{} {
	if !c.IsUpdate() {
		return nil
	}
	return function(c.Name, namespace, deepCopy(c.OldBuild))
}

// FunctionJSON is Function encoded as JSON, e.g. for
// `kubectl create --dry-run=server -f -`.
func (c *Case) FunctionJSON(namespace string) ([]byte, error) {
	return json.Marshal(c.Function(namespace))
}

// ParamsData returns the parameter ConfigMap data for the case: defaults
// with the case's Params applied.
func (c *Case) ParamsData(defaults map[string]string) map[string]string {
	data := maps.Clone(defaults)
	if data == nil {
		data = map[string]string{}
	}
	maps.Copy(data, c.Params)
	return data
}

func function(name, namespace string, build map[string]interface{}) map[string]interface{} {
	spec := map[string]interface{}{
		"runtime": "python:3.11",
		"handler": "main:handler",
	}
	if build != nil {
		spec["build"] = build
	}
	return map[string]interface{}{
		"apiVersion": "nuclio.io/v1beta1",
		"kind":       "NuclioFunction",
		"metadata":   map[string]interface{}{"name": name, "namespace": namespace},
		"spec":       spec,
	}
}

// CorpusDir returns the absolute path of test/testdata/ssrf in this source
// tree.
func CorpusDir() string {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		panic("egresstest: cannot locate source file")
	}
	return filepath.Join(filepath.Dir(file), "..", "..", "..", "test", "testdata", "ssrf")
}

var dns1123Label = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$`)

// Load reads every *.yaml file of dir (each a list of cases), in file-name
// order, and checks the cases are well-formed: unique DNS-1123 names, a row,
// a verdict, a field for every denial, Dial matching Resolve, and StandIn
// mentioned nowhere.
func Load(dir string) ([]Case, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil {
		return nil, err
	}
	sort.Strings(files)
	var all []Case
	seen := map[string]string{}
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		var cases []Case
		if err := yaml.UnmarshalStrict(raw, &cases); err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		for i := range cases {
			c := &cases[i]
			if err := c.check(); err != nil {
				return nil, fmt.Errorf("%s: case %d (%s): %w", f, i, c.Name, err)
			}
			if prev, dup := seen[c.Name]; dup {
				return nil, fmt.Errorf("%s: case %s already defined in %s", f, c.Name, prev)
			}
			seen[c.Name] = f
		}
		all = append(all, cases...)
	}
	if len(all) == 0 {
		return nil, fmt.Errorf("no cases in %s", dir)
	}
	return all, nil
}

func (c *Case) check() error {
	switch {
	case !dns1123Label.MatchString(c.Name):
		return fmt.Errorf("name must be a DNS-1123 label")
	case c.Row == "":
		return fmt.Errorf("row is required")
	case c.Expect != Allow && c.Expect != Deny:
		return fmt.Errorf("expect must be %q or %q", Allow, Deny)
	case c.Expect == Deny && c.Field == "":
		return fmt.Errorf("a denial needs the field it must name")
	case c.Expect == Allow && (c.Field != "" || c.Reason != ""):
		return fmt.Errorf("field and reason are for denials")
	case c.Operation != "" && c.Operation != "CREATE" && c.Operation != "UPDATE":
		return fmt.Errorf("operation must be CREATE or UPDATE")
	case (c.OldBuild != nil) != c.IsUpdate():
		return fmt.Errorf("oldBuild is required for, and only for, UPDATE")
	case len(c.Dial) != len(c.Resolve):
		return fmt.Errorf("dial needs one outcome per resolve answer")
	}
	for _, d := range c.Dial {
		if d != Allow && d != Deny {
			return fmt.Errorf("dial outcomes must be %q or %q", Allow, Deny)
		}
	}
	for _, answer := range c.Resolve {
		for _, a := range answer {
			if a == Public {
				continue
			}
			addr, err := netip.ParseAddr(a)
			if err != nil {
				return fmt.Errorf("resolve: %w", err)
			}
			if addr.Unmap() == StandIn {
				return fmt.Errorf("resolve: %s is reserved as the stand-in for public addresses", a)
			}
		}
	}
	if regexp.MustCompile(regexp.QuoteMeta(StandIn.String()) + `\b`).Match(mustJSON(c)) {
		return fmt.Errorf("%s is reserved as the stand-in for public addresses", StandIn)
	}
	return nil
}

func mustJSON(v interface{}) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// deepCopy copies generic JSON through an encode/decode round trip, which
// also normalises numbers to float64 as encoding/json would.
func deepCopy(m map[string]interface{}) map[string]interface{} {
	if m == nil {
		return nil
	}
	var out map[string]interface{}
	if err := json.Unmarshal(mustJSON(m), &out); err != nil {
		panic(err)
	}
	return out
}
