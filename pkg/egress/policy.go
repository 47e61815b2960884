// Copyright The nuclio-apiserver Authors.
// SPDX-License-Identifier: Apache-2.0

package egress

import (
	"net/netip"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation/field"
)

// ConfigMap data keys of the build-source policy parameters. The CEL policy in
// artifacts/policies/build-sources.yaml reads the same keys from its parameter
// ConfigMap; the YAML documents each one. Lists are comma- or newline-separated.
const (
	KeyAllowedSchemes                = "allowedSchemes"
	KeyAllowPlainHTTP                = "allowPlainHTTP"
	KeyAllowedHosts                  = "allowedHosts"
	KeyDeniedHostSuffixes            = "deniedHostSuffixes"
	KeyDeniedCIDRs                   = "deniedCIDRs"
	KeyAllowedCIDRs                  = "allowedCIDRs"
	KeyAllowedCodeEntryTypes         = "allowedCodeEntryTypes"
	KeyAllowedBuildFlags             = "allowedBuildFlags"
	KeyRequireBuildFromURLPermission = "requireBuildFromURLPermission"
)

// Defaults used when a key is absent from the ConfigMap. A key that is present
// but empty means an empty list, not the default.
const (
	DefaultAllowedSchemes        = "https,http"
	DefaultAllowedCodeEntryTypes = "sourceCode,image,archive,github,git,s3"
	// DefaultAllowedBuildFlags are Kaniko executor flags that change how the
	// image is snapshotted or logged but cannot change what is built, where it
	// is pushed, which registries are trusted or which files are read.
	DefaultAllowedBuildFlags = "--single-snapshot,--snapshot-mode,--use-new-run,--compressed-caching," +
		"--cache-run-layers,--cache-copy-layers,--cache-ttl,--cleanup,--skip-unused-stages," +
		"--verbosity,--log-format,--log-timestamp"
)

// Policy is the parsed form of the build-source policy parameters. The zero
// value allows nothing (no schemes, no code-entry types, no flags); use
// DefaultPolicy or PolicyFromConfigMapData.
//
// Every list is already normalised the way the CEL policy normalises it, so a
// Policy built by PolicyFromConfigMapData judges exactly like the CEL policy
// bound to the same ConfigMap.
type Policy struct {
	// AllowedSchemes holds lower-case URL schemes. Only "https" and "http"
	// are meaningful; the fetcher speaks nothing else.
	AllowedSchemes []string
	// AllowPlainHTTP must also be true before "http" URLs are accepted.
	AllowPlainHTTP bool
	// AllowedHosts, when non-empty, is the only set of hosts URLs may name.
	// Entries are lower-case without a trailing dot; an entry starting with
	// "." matches every subdomain of the rest (written "*.example.com" or
	// ".example.com" in the ConfigMap), any other entry matches exactly.
	AllowedHosts []string
	// DeniedHostSuffixes are domains (lower-case, no leading "*." or ".", no
	// trailing dot) whose names and subdomains are refused, e.g. a cluster
	// domain other than cluster.local.
	DeniedHostSuffixes []string
	// DeniedCIDRs are refused in addition to the built-in special-purpose
	// ranges, typically the Service and Pod CIDRs. IPv4 entries also deny
	// their NAT64 (64:ff9b::/96) forms.
	DeniedCIDRs []netip.Prefix
	// AllowedCIDRs are exceptions: an address inside one is never refused
	// for its range (internal mirrors; tests use a loopback address). The
	// exception applies to the address itself, not to IPv4 addresses
	// embedded in IPv6 ones.
	AllowedCIDRs []netip.Prefix
	// AllowedCodeEntryTypes lists spec.build.codeEntryType values (case
	// sensitive). The empty type, which Nuclio infers, is always allowed.
	AllowedCodeEntryTypes []string
	// AllowedBuildFlags lists builder flags. An entry without "=" allows the
	// flag alone and with any value ("--verbosity" allows
	// "--verbosity=debug"); an entry with "=" allows exactly that string.
	AllowedBuildFlags []string
	// RequireBuildFromURLPermission makes admission ask the authorizer
	// whether the requesting user may create nucliofunctions/buildfromurl
	// before accepting a function whose source is a URL or an S3 object.
	// It has no effect in this package, which knows no users.
	RequireBuildFromURLPermission bool
}

// DefaultPolicy returns the policy that an empty parameter ConfigMap (or the
// one shipped in artifacts/policies/build-sources.yaml) describes: https only,
// no host allowlist, no extra ranges, every code-entry type, and the
// DefaultAllowedBuildFlags.
func DefaultPolicy() *Policy {
	p, errs := PolicyFromConfigMapData(nil)
	if len(errs) != 0 {
		panic("egress: default policy parameters are invalid: " + errs.ToAggregate().Error())
	}
	return p
}

// PolicyFromConfigMapData parses the data of the build-source policy's
// parameter ConfigMap. Absent keys take their defaults. It fails, with paths
// such as "data.deniedCIDRs", where the CEL policy would refuse every request
// because its parameters are malformed: booleans other than "true"/"false"
// (any case), CIDRs that net/netip cannot parse or that are IPv4-mapped, and
// schemes other than https and http.
func PolicyFromConfigMapData(data map[string]string) (*Policy, field.ErrorList) {
	get := func(key, def string) string {
		if v, ok := data[key]; ok {
			return v
		}
		return def
	}
	dataPath := field.NewPath("data")
	var errs field.ErrorList
	p := &Policy{}

	for _, s := range splitList(get(KeyAllowedSchemes, DefaultAllowedSchemes)) {
		p.AllowedSchemes = append(p.AllowedSchemes, lowerASCII(s))
	}
	if slices.ContainsFunc(p.AllowedSchemes, func(s string) bool { return s != "https" && s != "http" }) {
		errs = append(errs, paramError(dataPath.Child(KeyAllowedSchemes), data[KeyAllowedSchemes], msgParamSchemes))
	}

	var ok bool
	if p.AllowPlainHTTP, ok = parseBool(get(KeyAllowPlainHTTP, "false")); !ok {
		errs = append(errs, paramError(dataPath.Child(KeyAllowPlainHTTP), data[KeyAllowPlainHTTP], msgParamBool))
	}
	if p.RequireBuildFromURLPermission, ok = parseBool(get(KeyRequireBuildFromURLPermission, "false")); !ok {
		errs = append(errs, paramError(dataPath.Child(KeyRequireBuildFromURLPermission), data[KeyRequireBuildFromURLPermission], msgParamBool))
	}

	for _, h := range splitList(get(KeyAllowedHosts, "")) {
		h = lowerASCII(h)
		if rest, ok := strings.CutPrefix(h, "*."); ok {
			h = "." + rest
		}
		h = strings.TrimSuffix(h, ".")
		if h != "" {
			p.AllowedHosts = append(p.AllowedHosts, h)
		}
	}
	for _, s := range splitList(get(KeyDeniedHostSuffixes, "")) {
		s = lowerASCII(s)
		if rest, ok := strings.CutPrefix(s, "*."); ok {
			s = rest
		} else {
			s = strings.TrimPrefix(s, ".")
		}
		s = strings.TrimSuffix(s, ".")
		if s != "" {
			p.DeniedHostSuffixes = append(p.DeniedHostSuffixes, s)
		}
	}

	var bad bool
	if p.DeniedCIDRs, bad = parseCIDRs(get(KeyDeniedCIDRs, "")); bad {
		errs = append(errs, paramError(dataPath.Child(KeyDeniedCIDRs), data[KeyDeniedCIDRs], msgParamDeniedCIDRs))
	}
	if p.AllowedCIDRs, bad = parseCIDRs(get(KeyAllowedCIDRs, "")); bad {
		errs = append(errs, paramError(dataPath.Child(KeyAllowedCIDRs), data[KeyAllowedCIDRs], msgParamAllowedCIDRs))
	}

	p.AllowedCodeEntryTypes = splitList(get(KeyAllowedCodeEntryTypes, DefaultAllowedCodeEntryTypes))
	p.AllowedBuildFlags = splitList(get(KeyAllowedBuildFlags, DefaultAllowedBuildFlags))

	if len(errs) != 0 {
		return nil, errs
	}
	return p, nil
}

// Messages for malformed parameters; the CEL policy uses the same words.
const (
	msgParamSchemes      = "only https and http can be allowed"
	msgParamBool         = `must be "true" or "false"`
	msgParamDeniedCIDRs  = "every entry must be a CIDR such as 10.96.0.0/12 (IPv4-mapped IPv6 forms are not accepted)"
	msgParamAllowedCIDRs = "every entry must be a CIDR such as 192.0.2.10/32 (IPv4-mapped IPv6 forms are not accepted)"
	msgParamSuffix       = " (build-source policy parameters)"
)

func paramError(p *field.Path, value, msg string) *field.Error {
	return field.Invalid(p, value, msg+msgParamSuffix)
}

// splitList splits a ConfigMap list value on commas and newlines, trims
// white space around entries and drops empty ones.
func splitList(v string) []string {
	var out []string
	for _, s := range strings.Split(strings.ReplaceAll(v, "\n", ","), ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

func parseBool(v string) (value, ok bool) {
	switch lowerASCII(strings.TrimSpace(v)) {
	case "true":
		return true, true
	case "false":
		return false, true
	}
	return false, false
}

// parseCIDRs parses a CIDR list with the rules of the Kubernetes CEL cidr()
// library: net/netip syntax, host bits allowed, IPv4-mapped prefixes refused.
// bad reports whether any entry was refused; valid entries are still returned.
func parseCIDRs(v string) (prefixes []netip.Prefix, bad bool) {
	for _, s := range splitList(v) {
		pfx, ok := parseCELPrefix(s)
		if !ok {
			bad = true
			continue
		}
		prefixes = append(prefixes, pfx)
	}
	return prefixes, bad
}

func parseCELPrefix(s string) (netip.Prefix, bool) {
	pfx, err := netip.ParsePrefix(s)
	if err != nil || pfx.Addr().Is4In6() {
		return netip.Prefix{}, false
	}
	return pfx, true
}

// lowerASCII lower-cases ASCII letters only, like CEL's lowerAscii(); other
// characters are left alone.
func lowerASCII(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + ('a' - 'A')
		}
	}
	return string(b)
}
