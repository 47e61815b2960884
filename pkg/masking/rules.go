package masking

import (
	"fmt"
	"regexp"
	"regexp/syntax"
	"strings"
	"unicode"
	"unicode/utf8"
)

// ObjectKind says which kind of Nuclio object a rule set, Secret name or Secret label applies to.
type ObjectKind string

const (
	// KindFunction is a nuclio.io/v1beta1 NuclioFunction (resource nucliofunctions).
	KindFunction ObjectKind = "NuclioFunction"
	// KindAPIGateway is a nuclio.io/v1beta1 NuclioAPIGateway (resource nuclioapigateways).
	KindAPIGateway ObjectKind = "NuclioAPIGateway"
)

// NuclioDefaultFunctionRules is Nuclio 1.14's default sensitive-field list for functions, verbatim and in
// Nuclio's order (nuclio/nuclio:pkg/platformconfig/types.go GetDefaultSensitiveFields). Each entry is a Go
// regular expression matched case-insensitively against a path.
var NuclioDefaultFunctionRules = []string{
	// build
	`^/spec/build/codeentryattributes/password$`,
	`^/spec/build/codeentryattributes/s3secretaccesskey$`,
	`^/spec/build/codeentryattributes/s3sessiontoken$`,
	`^/spec/build/codeentryattributes/headers/authorization$`,
	`^/spec/build/codeentryattributes/headers/x-v3io-session-key$`,
	// volumes
	`^/spec/volumes\[\d+\]/volume/volumesource/flexvolume/options/accesskey$`,
	`^/spec/volumes\[\d+\]/volume/flexvolume/options/accesskey$`,
	// triggers: any trigger
	`^/spec/triggers/.+/password$`,
	`^/spec/triggers/.+/secret$`,
	// v3io stream
	`^/spec/triggers/.+/attributes/password$`,
	// kinesis
	`^/spec/triggers/.+/attributes/accesskeyid$`,
	`^/spec/triggers/.+/attributes/secretaccesskey$`,
	// kafka
	`^/spec/triggers/.+/attributes/cacert$`,
	`^/spec/triggers/.+/attributes/accesskey$`,
	`^/spec/triggers/.+/attributes/accesscertificate$`,
	`^/spec/triggers/.+/attributes/sasl/password$`,
	`^/spec/triggers/.+/attributes/sasl/oauth/clientsecret$`,
	// kafka annotations
	`^/metadata/annotations/nuclio.io/kafka-ca-cert$`,
	`^/metadata/annotations/nuclio.io/kafka-access-key$`,
	`^/metadata/annotations/nuclio.io/kafka-access-cert$`,
	`^/metadata/annotations/nuclio.io/kafka-sasl-password$`,
	`^/metadata/annotations/nuclio.io/kafka-sasl-oauth-client-secret$`,
	`^/metadata/annotations/nuclio.io/kafka-sasl-oauth-token-url$`,
}

// GapFunctionRules are the function fields that carry credentials but that Nuclio's default list misses
// (reference: nuclio-compat.md §4.2). Git's codeEntryAttributes.password is already in Nuclio's list.
var GapFunctionRules = []string{
	// EventHub trigger (nuclio/nuclio:pkg/processor/trigger/eventhub)
	`^/spec/triggers/.+/attributes/sharedaccesskeyvalue$`,
	// Google Pub/Sub trigger: the service-account JSON
	`^/spec/triggers/.+/attributes/credentials/contents$`,
	// Google IoT Core MQTT trigger: the device's private key
	`^/spec/triggers/.+/attributes/privatekey/contents$`,
	// legacy dataBindings (v3io, EventHub)
	`^/spec/databindings/.+/secret$`,
	// every header sent when fetching the code entry, not only Authorization and X-V3io-Session-Key
	`^/spec/build/codeentryattributes/headers/.+$`,
}

// URLUserinfoFunctionRules name the function fields that hold URLs. They are masked only when the value
// carries userinfo (HasUserinfo), and then as a whole; see the package documentation.
var URLUserinfoFunctionRules = []string{
	`^/spec/triggers/.+/url$`,
	`^/spec/databindings/.+/url$`,
}

// NuclioAPIGatewayRules is Nuclio's fixed sensitive-field list for API gateways
// (nuclio/nuclio:pkg/platform/apigateway.go).
var NuclioAPIGatewayRules = []string{
	`^/spec/authentication/basicAuth/password$`,
}

// userinfoPattern matches a value whose authority component contains "@": an optional "scheme://", then
// characters up to the first "/", "?" or "#", one of which is "@". The backstop policy in
// artifacts/policies/sensitive-fields.yaml uses the same expression; keep them in step.
const userinfoPattern = `^([a-zA-Z][a-zA-Z0-9+.-]*://)?[^/?#]*@`

var userinfoRegexp = regexp.MustCompile(userinfoPattern)

// HasUserinfo reports whether s looks like a URL (or scheme-less "user:pass@host") carrying userinfo,
// i.e. whether its authority contains "@". It does not require s to parse as a URL: a malformed URL with
// a password in it is still a password.
func HasUserinfo(s string) bool {
	return userinfoRegexp.MatchString(s)
}

// RuleSet is a compiled, immutable list of sensitive-path rules for one kind of object. It is safe for
// concurrent use.
type RuleSet struct {
	kind ObjectKind
	// whole are the rules whose paths are masked whatever the (non-empty string) value.
	whole []rule
	// url are the rules whose paths are masked only when the value carries userinfo.
	url []rule
	// patterns keeps the source expressions, in order, for Patterns.
	patterns []string
}

// rule is one compiled expression. Small separate expressions run on Go's backtracking matcher, several
// times faster than one large alternation, and prefix rejects most paths without running it at all.
type rule struct {
	re *regexp.Regexp
	// prefix is a literal every matching path starts with (compared under Unicode case folding, as the
	// "(?i)" expression does), or "" when the expression has none.
	prefix string
}

func compileRule(expr string) (rule, error) {
	re, err := regexp.Compile("(?i)" + expr)
	if err != nil {
		return rule{}, err
	}
	return rule{re: re, prefix: anchoredLiteralPrefix(expr)}, nil
}

// anchoredLiteralPrefix returns the literal text expr requires at the start of its input, read from the
// parsed expression (so quantifiers and alternations are accounted for), or "" if there is none.
func anchoredLiteralPrefix(expr string) string {
	re, err := syntax.Parse(expr, syntax.Perl)
	if err != nil {
		return ""
	}
	re = re.Simplify()
	if re.Op != syntax.OpConcat || len(re.Sub) < 2 || re.Sub[0].Op != syntax.OpBeginText {
		return ""
	}
	var b strings.Builder
	for _, sub := range re.Sub[1:] {
		if sub.Op != syntax.OpLiteral {
			break
		}
		b.WriteString(string(sub.Rune))
	}
	return b.String()
}

func (r rule) match(path string) bool {
	return (r.prefix == "" || hasPrefixFold(path, r.prefix)) && r.re.MatchString(path)
}

// hasPrefixFold reports whether s starts with prefix under Unicode simple case folding, the equivalence
// "(?i)" uses.
func hasPrefixFold(s, prefix string) bool {
	for _, pr := range prefix {
		if s == "" {
			return false
		}
		r, size := utf8.DecodeRuneInString(s)
		s = s[size:]
		if r == pr {
			continue
		}
		f := unicode.SimpleFold(pr)
		for f != pr && f != r {
			f = unicode.SimpleFold(f)
		}
		if f != r {
			return false
		}
	}
	return true
}

func matchAny(rules []rule, path string) bool {
	for _, r := range rules {
		if r.match(path) {
			return true
		}
	}
	return false
}

// NewRuleSet compiles the built-in rules for kind plus extra, administrator-supplied Go regular
// expressions (matched case-insensitively against Nuclio paths, like Nuclio's customSensitiveFields).
// It returns an error naming the offending entry by index when an extra expression is empty or does not
// compile, and for an unknown kind.
func NewRuleSet(kind ObjectKind, extra []string) (*RuleSet, error) {
	var whole, url []string
	switch kind {
	case KindFunction:
		whole = append(append(whole, NuclioDefaultFunctionRules...), GapFunctionRules...)
		url = URLUserinfoFunctionRules
	case KindAPIGateway:
		whole = append(whole, NuclioAPIGatewayRules...)
	default:
		return nil, fmt.Errorf("masking: unknown object kind %q", kind)
	}
	for i, e := range extra {
		if strings.TrimSpace(e) == "" {
			return nil, fmt.Errorf("masking: extra sensitive path [%d] for %s: must not be empty", i, kind)
		}
		if _, err := compileRule(e); err != nil {
			return nil, fmt.Errorf("masking: extra sensitive path [%d] for %s: not a valid Go regular expression: %w", i, kind, err)
		}
	}
	whole = append(whole, extra...)
	rs := &RuleSet{kind: kind, patterns: append(append([]string(nil), whole...), url...)}
	for _, e := range whole {
		rs.whole = append(rs.whole, mustCompileRule(e))
	}
	for _, e := range url {
		rs.url = append(rs.url, mustCompileRule(e))
	}
	return rs, nil
}

func mustCompileRule(expr string) rule {
	r, err := compileRule(expr)
	if err != nil {
		panic(fmt.Sprintf("masking: rule %q does not compile: %v", expr, err))
	}
	return r
}

// Kind returns the kind of object the rule set was built for.
func (rs *RuleSet) Kind() ObjectKind { return rs.kind }

// Patterns returns the rule expressions in evaluation order (whole-value rules, then URL rules).
func (rs *RuleSet) Patterns() []string { return append([]string(nil), rs.patterns...) }

// IsSensitivePath reports whether path is named by any rule, whatever its value. A field for which this
// is true may carry a re-submitted token.
func (rs *RuleSet) IsSensitivePath(path string) bool {
	return matchAny(rs.whole, path) || matchAny(rs.url, path)
}

// ShouldMask reports whether the string value at path is a credential that must be masked: value is
// non-empty, is not already a token, and path is named by a whole-value rule, or by a URL rule while the
// value carries userinfo.
func (rs *RuleSet) ShouldMask(path, value string) bool {
	if value == "" || strings.HasPrefix(value, ReferencePrefix) {
		return false
	}
	if matchAny(rs.whole, path) {
		return true
	}
	return HasUserinfo(value) && matchAny(rs.url, path)
}

// Token returns the reference token for path: "$ref:" + strings.ToLower(path), as Nuclio computes it.
func Token(path string) string {
	return ReferencePrefix + strings.ToLower(path)
}
