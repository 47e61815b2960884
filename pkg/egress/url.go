// Copyright The nuclio-apiserver Authors.
// SPDX-License-Identifier: Apache-2.0

package egress

import (
	"net/netip"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation/field"
)

// The regular expressions are RE2, the dialect of both Go's regexp and CEL's
// matches()/find(), and are written identically in the CEL policy.
var (
	reNonPrintable  = regexp.MustCompile(`[^\x21-\x7e]`)
	reSchemePrefix  = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9+.-]*:`)
	reSchemeSlashes = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9+.-]*://`)
	reAuthority     = regexp.MustCompile(`^[^/?#]*`)
	reBracketHost   = regexp.MustCompile(`^\[[^\]]*\]`)
	reUnbracketHost = regexp.MustCompile(`^[^:]*`)
	reTwoColons     = regexp.MustCompile(`:.*:`)
	rePort          = regexp.MustCompile(`^:[0-9]{1,5}$`)
	reHostChars     = regexp.MustCompile(`^[a-z0-9.-]+$`)
	// reNumericEnd matches hosts whose last label is a number; WHATWG URL
	// parsers (browsers, curl's and git's libraries differ in detail) then
	// read the whole host as an IPv4 address in decimal, octal or hex.
	reNumericEnd = regexp.MustCompile(`(^|\.)(0x[0-9a-f]*|[0-9]+)$`)
	reDNSName    = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$`)
)

// Reasons for refusing a URL. The CEL policy's variables.pathReason spells
// each one identically; test/policy checks that both judges agree.
const (
	msgPathSuffix    = "; build sources must be public https URLs"
	msgNonPrintable  = "URL contains spaces, control characters or non-ASCII characters (use punycode xn-- host names and percent-encoded paths)"
	msgBackslash     = "URL contains a backslash, which URL parsers read differently"
	msgNotAbsolute   = "not an absolute URL (paths on the builder are not allowed)"
	msgPlainHTTP     = "plain http is not allowed (allowPlainHTTP is off)"
	msgNoAuthority   = "not an absolute URL with a host (scheme://host/path)"
	msgUserinfo      = "URL contains user information (user@host); put credentials in codeEntryAttributes instead"
	msgUnparseable   = "URL cannot be parsed"
	msgColon         = `host contains ":" but is not a bracketed IPv6 address`
	msgPort          = "port must be a number from 1 to 65535"
	msgNoHost        = "URL has no host"
	msgPercent       = "host is percent-encoded or carries an IPv6 zone"
	msgAmbiguous     = "URL host is ambiguous (URL parsers disagree on it)"
	msgHostChars     = "host contains characters that are not allowed in DNS names"
	msgBadIPv6       = " is not a valid IPv6 address, or is an IPv4-mapped one (write IPv4 addresses in dotted form)"
	msgNonCanonical  = " is a non-canonical IPv4 address (decimal, octal, hex and short forms are read differently by different fetchers)"
	msgBadDNSName    = " is not a valid DNS name"
	msgLoopbackName  = " is a loopback name"
	msgSingleLabel   = " is a single-label name, which resolves through the cluster DNS search path"
	msgClusterName   = " is a cluster-internal service name"
	msgMetadataName  = " is the cloud metadata service"
	msgInternalName  = " is an internal name (.internal)"
	msgMDNSName      = " is a multicast DNS name (.local)"
	msgLocalNetName  = " is a local network name"
	msgDeniedSuffix  = " is in a domain this cluster denies (deniedHostSuffixes)"
	msgNotAllowlist  = " is not in the allowed hosts list (allowedHosts)"
	msgSchemePrefix  = "scheme "
	msgSchemeSuffix  = " is not allowed"
	msgHostPrefix    = "host "
	msgHostIsPrefix  = " is "
	metadataHostname = "metadata.google.internal"
)

// ValidateURL judges raw, a build-source URL such as spec.build.path, with
// the rules of the admission policy: an absolute http(s) URL whose scheme the
// policy allows, without user information, backslashes, spaces, control or
// non-ASCII characters, whose host is a canonical DNS name or IP literal that
// is not loopback, private, link-local, cluster-internal or otherwise special
// (see CheckAddr) and, if the policy has an allowlist, is on it.
//
// It returns the URL parsed by net/url, which is what the fetcher must use
// (parse once, never re-parse the string), or a *field.Error at fldPath whose
// Detail reads like "host 169.254.169.254 is link-local (cloud metadata);
// build sources must be public https URLs". Names are not resolved here: use
// a Guard when connecting.
func (p *Policy) ValidateURL(raw string, fldPath *field.Path) (*url.URL, *field.Error) {
	if raw == "" {
		return nil, field.Required(fldPath, "a build-source URL is required")
	}
	if reason := p.urlReason(raw); reason != "" {
		return nil, field.Invalid(fldPath, raw, reason+msgPathSuffix)
	}
	u, err := url.Parse(raw)
	if err != nil {
		// urlReason already required url.ParseRequestURI to succeed, and
		// url.Parse accepts everything ParseRequestURI accepts.
		return nil, field.Invalid(fldPath, raw, msgUnparseable+msgPathSuffix)
	}
	return u, nil
}

// CheckURL judges a URL about to be requested (the first request or a
// redirect target) with the rules of ValidateURL. It returns nil or a
// *DeniedError. Besides the string rules it refuses URLs whose serialised form
// names another host than the one the transport would dial.
func (p *Policy) CheckURL(u *url.URL) error {
	s := u.String()
	if s == "" {
		return &DeniedError{Reason: msgNotAbsolute}
	}
	if reason := p.urlReason(s); reason != "" {
		return &DeniedError{URL: redactURL(u), Reason: reason}
	}
	again, err := url.Parse(s)
	if err != nil || !strings.EqualFold(again.Host, u.Host) {
		return &DeniedError{URL: redactURL(u), Reason: msgAmbiguous}
	}
	return nil
}

// redactURL drops user information, query and fragment, which may carry
// credentials (pre-signed S3 URLs, tokens).
func redactURL(u *url.URL) string {
	c := *u
	c.User, c.RawQuery, c.Fragment, c.RawFragment, c.ForceQuery = nil, "", "", "", false
	return c.String()
}

// urlReason returns why the URL string s is refused, or "" if it is
// acceptable or empty. The order of the checks is the order of the CEL
// variable pathReason, so both report the same first reason.
func (p *Policy) urlReason(s string) string {
	if s == "" {
		return ""
	}
	if reNonPrintable.MatchString(s) {
		return msgNonPrintable
	}
	if strings.Contains(s, `\`) {
		return msgBackslash
	}
	scheme := ""
	if reSchemePrefix.MatchString(s) {
		scheme = lowerASCII(s[:strings.Index(s, ":")])
	}
	if scheme == "" {
		return msgNotAbsolute
	}
	if scheme == "http" && !p.AllowPlainHTTP {
		return msgPlainHTTP
	}
	if (scheme != "https" && scheme != "http") || !slices.Contains(p.AllowedSchemes, scheme) {
		return msgSchemePrefix + scheme + msgSchemeSuffix
	}
	if !reSchemeSlashes.MatchString(s) {
		return msgNoAuthority
	}
	authority := reAuthority.FindString(s[len(scheme)+len("://"):])
	if strings.Contains(authority, "@") {
		return msgUserinfo
	}
	// Before parsing: net/url refuses most escapes in hosts, but this
	// message says more than "cannot be parsed".
	if strings.Contains(authority, "%") {
		return msgPercent
	}
	if _, err := url.ParseRequestURI(s); err != nil {
		return msgUnparseable
	}

	h := splitAuthority(authority)
	if !h.bracketed && reTwoColons.MatchString(authority) {
		return msgColon
	}
	if h.port != "" && !validPort(h.port) {
		return msgPort
	}
	if h.host == "" {
		return msgNoHost
	}
	// Parser differential: net/url (which the fetcher uses) must see the
	// same host and port as the rules below judge.
	u, err := url.Parse(s)
	if err != nil || strings.TrimSuffix(lowerASCII(u.Hostname()), ".") != h.host || u.Port() != strings.TrimPrefix(h.port, ":") {
		return msgAmbiguous
	}
	if h.bracketed && !(isCELIP(h.host) && strings.Contains(h.host, ":")) {
		return msgHostPrefix + "[" + h.host + "]" + msgBadIPv6
	}
	if !h.bracketed && !reHostChars.MatchString(h.host) {
		return msgHostChars
	}
	if h.isIP && !isCELIP(h.host) {
		return msgHostPrefix + h.host + msgNonCanonical
	}
	if h.isIP {
		if reason := p.addrReason(netip.MustParseAddr(h.host)); reason != "" {
			return msgHostPrefix + h.host + msgHostIsPrefix + reason
		}
	}
	if reason := p.nameReason(h); reason != "" {
		return msgHostPrefix + h.host + reason
	}
	if len(p.AllowedHosts) > 0 && !slices.ContainsFunc(p.AllowedHosts, func(a string) bool {
		if strings.HasPrefix(a, ".") {
			return strings.HasSuffix(h.host, a)
		}
		return h.host == a
	}) {
		return msgHostPrefix + h.host + msgNotAllowlist
	}
	return ""
}

// nameReason judges a host that is not an IP literal; it returns the part of
// the reason after the host, or "".
func (p *Policy) nameReason(h hostPort) string {
	host := h.host
	switch {
	case h.isIP:
		return ""
	case len(host) > 253 || !reDNSName.MatchString(host):
		return msgBadDNSName
	case host == "localhost" || strings.HasSuffix(host, ".localhost"):
		return msgLoopbackName
	case !strings.Contains(host, "."):
		return msgSingleLabel
	case strings.HasSuffix(host, ".svc") || strings.HasSuffix(host, ".cluster.local"):
		return msgClusterName
	case host == metadataHostname:
		return msgMetadataName
	case strings.HasSuffix(host, ".internal"):
		return msgInternalName
	case strings.HasSuffix(host, ".local"):
		return msgMDNSName
	case strings.HasSuffix(host, ".localdomain") || host == "home.arpa" || strings.HasSuffix(host, ".home.arpa"):
		return msgLocalNetName
	case slices.ContainsFunc(p.DeniedHostSuffixes, func(s string) bool {
		return host == s || strings.HasSuffix(host, "."+s)
	}):
		return msgDeniedSuffix
	}
	return ""
}

// hostPort is the authority of a URL split the way the CEL policy splits it.
type hostPort struct {
	hostPart  string // as written, with brackets for IPv6
	host      string // lower-case, without brackets and without one trailing dot
	port      string // "" or ":digits…" as written
	bracketed bool
	isIP      bool // bracketed, or the last label is numeric
}

func splitAuthority(authority string) hostPort {
	h := hostPort{bracketed: strings.HasPrefix(authority, "[")}
	if h.bracketed {
		h.hostPart = reBracketHost.FindString(authority)
		if len(h.hostPart) >= 2 {
			h.host = lowerASCII(h.hostPart[1 : len(h.hostPart)-1])
		}
	} else {
		h.hostPart = reUnbracketHost.FindString(authority)
		h.host = strings.TrimSuffix(lowerASCII(h.hostPart), ".")
	}
	h.port = authority[len(h.hostPart):]
	h.isIP = h.bracketed || reNumericEnd.MatchString(h.host)
	return h
}

func validPort(p string) bool {
	if !rePort.MatchString(p) {
		return false
	}
	n, err := strconv.Atoi(p[1:])
	return err == nil && n >= 1 && n <= 65535
}

// isCELIP mirrors isIP() of the Kubernetes CEL IP library: net/netip syntax
// (no leading zeros in IPv4), no zone, not IPv4-mapped IPv6.
func isCELIP(s string) bool {
	a, err := netip.ParseAddr(s)
	return err == nil && a.Zone() == "" && !a.Is4In6()
}
