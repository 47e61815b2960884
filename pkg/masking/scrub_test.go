package masking_test

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/nuclio-apiserver/nuclio-apiserver/pkg/masking"
)

func TestShouldMask(t *testing.T) {
	fn := ruleSet(t, masking.KindFunction)
	gw := ruleSet(t, masking.KindAPIGateway)
	cases := []struct {
		rs    *masking.RuleSet
		path  string
		value string
		want  bool
	}{
		// Nuclio's defaults, case-insensitively, with ".+" spanning slashes.
		{fn, "/spec/build/codeEntryAttributes/password", "pw", true},
		{fn, "/SPEC/BUILD/CODEENTRYATTRIBUTES/S3SECRETACCESSKEY", "k", true},
		{fn, "/spec/build/codeEntryAttributes/s3AccessKeyId", "AKIA", false},
		{fn, "/spec/build/codeEntryAttributes/workDir", "/src", false},
		{fn, "/spec/triggers/t/password", "pw", true},
		{fn, "/spec/triggers/t/secret", "s", true},
		{fn, "/spec/triggers/t/attributes/anything/deeper/password", "pw", true},
		{fn, "/spec/triggers/t/username", "u", false},
		{fn, "/spec/triggers/t/attributes/sasl/user", "u", false},
		{fn, "/spec/triggers/password", "pw", false},       // ".+" needs a trigger name
		{fn, "/\u017fpec/triggers/t/password", "pw", true}, // (?i) folds "s" and "ſ"; so must the prefix filter
		{fn, "/spec/volumes[3]/volume/flexVolume/options/accessKey", "k", true},
		{fn, "/spec/volumes[0]/volume/volumeSource/flexVolume/options/accessKey", "k", true},
		{fn, "/spec/volumes[x]/volume/flexVolume/options/accessKey", "k", false},
		{fn, "/metadata/annotations/nuclio.io/kafka-sasl-password", "pw", true},
		{fn, "/metadata/annotations/nuclio.io/kafka-sasl-oauth-token-url", "https://idp", true},
		{fn, "/metadata/annotations/nuclio.io/kafka-brokers", "b:9092", false},
		{fn, "/spec/env[0]/value", "pw", false},
		// The gaps.
		{fn, "/spec/triggers/eh/attributes/sharedAccessKeyValue", "k", true},
		{fn, "/spec/triggers/ps/attributes/credentials/contents", "{}", true},
		{fn, "/spec/triggers/iot/attributes/privateKey/contents", "pem", true},
		{fn, "/spec/dataBindings/db/secret", "s", true},
		{fn, "/spec/build/codeEntryAttributes/headers/X-Anything", "v", true},
		// URLs only with userinfo.
		{fn, "/spec/triggers/rmq/url", "amqp://user:pw@host:5672", true},
		{fn, "/spec/triggers/rmq/url", "amqp://token@host", true},
		{fn, "/spec/triggers/rmq/url", "user:pw@host:5672", true},
		{fn, "/spec/triggers/rmq/url", "amqp://host:5672/vhost?x=a@b", false},
		{fn, "/spec/triggers/k/url", "kafka-0:9092,kafka-1:9092", false},
		{fn, "/spec/dataBindings/db/url", "https://u:p@v3io", true},
		{fn, "/spec/build/path", "https://u:p@git.example/repo", false}, // the SSRF policy refuses userinfo there
		// Never empty values or tokens.
		{fn, "/spec/triggers/t/password", "", false},
		{fn, "/spec/triggers/t/password", "$ref:/spec/triggers/t/password", false},
		// Gateways have their own list.
		{gw, "/spec/authentication/basicAuth/password", "pw", true},
		{gw, "/spec/authentication/basicAuth/username", "admin", false},
		{gw, "/metadata/annotations/nuclio.io/kafka-sasl-password", "pw", false},
	}
	for _, tc := range cases {
		if got := tc.rs.ShouldMask(tc.path, tc.value); got != tc.want {
			t.Errorf("%s ShouldMask(%q) = %v, want %v", tc.rs.Kind(), tc.path, got, tc.want)
		}
	}
}

func TestNewRuleSetExtraPaths(t *testing.T) {
	rs := ruleSet(t, masking.KindFunction, `^/spec/env\[\d+\]/value$`)
	if !rs.ShouldMask("/spec/env[2]/VALUE", "x") {
		t.Error("extra path not applied case-insensitively")
	}
	if q := ruleSet(t, masking.KindFunction, `^/ab?c$`, `^/x|^/y$`); !q.ShouldMask("/AC", "v") || !q.ShouldMask("/Y", "v") {
		t.Error("quantifiers and alternations in extra paths must not be cut short by the literal-prefix filter")
	}
	if !rs.ShouldMask("/spec/triggers/t/password", "x") {
		t.Error("extra paths must add to the defaults, not replace them")
	}
	for _, bad := range []string{"", "   ", "(unclosed"} {
		_, err := masking.NewRuleSet(masking.KindFunction, []string{`^/ok$`, bad})
		if err == nil || !strings.Contains(err.Error(), "[1]") {
			t.Errorf("NewRuleSet(%q): want an error naming entry [1], got %v", bad, err)
		}
	}
	if _, err := masking.NewRuleSet("Pod", nil); err == nil {
		t.Error("unknown kind accepted")
	}
}

// TestScrubBasics is Nuclio's TestScrubBasics (nuclio/nuclio:pkg/functionconfig/scrubber_test.go) on
// our object: code-entry credentials, trigger password and attributes.password, a flexVolume access key
// are masked, everything else is untouched, and restoring gives back the identical object.
func TestScrubBasics(t *testing.T) {
	in := decode(t, credentialedFunction)
	before := canonical(t, in)
	res, errs := ruleSet(t, masking.KindFunction).Scrub(in)
	if len(errs) > 0 {
		t.Fatalf("Scrub: %v", errs)
	}
	if got := canonical(t, in); got != before {
		t.Fatal("Scrub modified its input")
	}
	if !reflect.DeepEqual(res.MaskedPaths, credentialedFunctionMasked) {
		t.Fatalf("masked paths:\n got %q\nwant %q", res.MaskedPaths, credentialedFunctionMasked)
	}
	if len(res.Secrets) != len(credentialedFunctionMasked) || len(res.References) != 0 {
		t.Fatalf("got %d secrets and %d references", len(res.Secrets), len(res.References))
	}
	masked := canonical(t, res.Object)
	for token, plaintext := range res.Secrets {
		if strings.Contains(masked, plaintext) {
			t.Errorf("plaintext for %s survived in the masked object", token)
		}
		if token != strings.ToLower(token) || !strings.HasPrefix(token, "$ref:/") {
			t.Errorf("token %q is not $ref: + lower-cased path", token)
		}
	}
	spec := res.Object["spec"].(map[string]interface{})
	if got := spec["triggers"].(map[string]interface{})["rmq"].(map[string]interface{})["url"]; got != "$ref:/spec/triggers/rmq/url" {
		t.Errorf("URL with userinfo: got %v, want the whole value replaced by its token", got)
	}
	for _, untouched := range []string{`"s3AccessKeyId":"AKIAEXAMPLE"`, `"workDir":"/src"`, `"image":"registry.example/orders:latest"`,
		`"timestamp":1712345678901234567`, `"url":"nats://nats:4222"`, `"user":"svc"`, `"description":"not a secret"`,
		`"message":"$ref:status is never scrubbed"`, `"cpu":"200m"`} {
		if !strings.Contains(masked, untouched) {
			t.Errorf("%s was changed", untouched)
		}
	}
	if restored := canonical(t, masking.Restore(res.Object, res.Secrets)); restored != before {
		t.Errorf("restore does not give back the original:\n got %s\nwant %s", restored, before)
	}
}

// TestScrubIsIdempotent: scrubbing a masked object changes nothing and reports every token as a
// re-submitted reference (Nuclio's TestHasScrubbedConfig in spirit).
func TestScrubIsIdempotent(t *testing.T) {
	rs := ruleSet(t, masking.KindFunction)
	first, errs := rs.Scrub(decode(t, credentialedFunction))
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	second, errs := rs.Scrub(first.Object)
	if len(errs) > 0 {
		t.Fatalf("re-scrubbing a masked object: %v", errs)
	}
	if second.Changed() || len(second.Secrets) != 0 {
		t.Fatalf("re-scrub changed the object: %v", second.MaskedPaths)
	}
	if !second.Tokens().Equal(first.Tokens()) {
		t.Fatalf("references %v, want %v", second.Tokens().UnsortedList(), first.Tokens().UnsortedList())
	}
	// ReferencedTokens is path-independent, like the processor's restore: it also sees status.
	extra := masking.ReferencedTokens(first.Object).Difference(first.Tokens())
	if extra.Len() != 1 || !extra.Has("$ref:status is never scrubbed") {
		t.Errorf("ReferencedTokens: unexpected extra %v", extra.UnsortedList())
	}
	if masking.ReferencedTokens(decode(t, plainFunction)).Len() != 0 {
		t.Error("a plain object references nothing")
	}
}

func TestScrubRefusesForeignTokens(t *testing.T) {
	rs := ruleSet(t, masking.KindFunction)
	cases := []struct {
		name, object, wantField, wantDetail string
	}{
		{
			"token of another field",
			`{"spec":{"build":{"codeEntryAttributes":{"headers":{"Authorization":"$ref:/spec/triggers/k/attributes/sasl/password"}}}}}`,
			"spec.build.codeEntryAttributes.headers.Authorization", `"$ref:/spec/build/codeentryattributes/headers/authorization"`,
		},
		{
			"token in a field that is not sensitive",
			`{"spec":{"env":[{"name":"X","value":"$ref:/spec/triggers/k/password"}]}}`,
			"spec.env[0].value", "not a sensitive field",
		},
		{
			"paths differing only in case",
			`{"spec":{"triggers":{"Kafka":{"password":"a"},"kafka":{"password":"b"}}}}`,
			"spec.triggers.kafka.password", "only in letter case",
		},
		{
			"path that base64-encodes to an invalid Secret key",
			`{"spec":{"triggers":{"abc~":{"password":"a"}}}}`,
			"spec.triggers[abc~].password", "cannot be stored as a Secret key",
		},
		{
			"last-applied annotation that is not JSON",
			`{"metadata":{"annotations":{"kubectl.kubernetes.io/last-applied-configuration":"{not json"}}}`,
			"metadata.annotations[kubectl.kubernetes.io/last-applied-configuration]", "must be a JSON object",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res, errs := rs.Scrub(decode(t, tc.object))
			if res != nil || len(errs) != 1 {
				t.Fatalf("want exactly one error and no result, got %v", errs)
			}
			if errs[0].Field != tc.wantField || !strings.Contains(errs[0].Error(), tc.wantDetail) {
				t.Fatalf("got %q at %s, want field %s and %q", errs[0].Error(), errs[0].Field, tc.wantField, tc.wantDetail)
			}
			for _, secret := range []string{`"a"`, `"b"`} {
				if strings.Contains(errs[0].Error(), secret) {
					t.Errorf("error echoes a value: %s", errs[0].Error())
				}
			}
		})
	}
}

// TestScrubLastApplied: the kubectl annotation gets the same tokens, its plaintexts are not collected,
// and its trailing newline is kept.
func TestScrubLastApplied(t *testing.T) {
	applied := `{"apiVersion":"nuclio.io/v1beta1","kind":"NuclioFunction","metadata":{"name":"f","namespace":"n",` +
		`"annotations":{"nuclio.io/kafka-sasl-password":"annot-pw"}},"spec":{"triggers":{"k":{"password":"pw","url":"amqp://u:p@h"}},"targetCPU":75}}` + "\n"
	obj := map[string]interface{}{
		"metadata": map[string]interface{}{"name": "f", "annotations": map[string]interface{}{
			masking.AnnotationLastAppliedConfiguration: applied,
			"nuclio.io/kafka-sasl-password":            "annot-pw",
		}},
		"spec": map[string]interface{}{"triggers": map[string]interface{}{"k": map[string]interface{}{"password": "pw"}}},
	}
	res, errs := ruleSet(t, masking.KindFunction).Scrub(obj)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	if !res.LastAppliedScrubbed {
		t.Fatal("annotation not rewritten")
	}
	got := res.Object["metadata"].(map[string]interface{})["annotations"].(map[string]interface{})[masking.AnnotationLastAppliedConfiguration].(string)
	want := `{"apiVersion":"nuclio.io/v1beta1","kind":"NuclioFunction","metadata":{"annotations":{"nuclio.io/kafka-sasl-password":"$ref:/metadata/annotations/nuclio.io/kafka-sasl-password"},"name":"f","namespace":"n"},` +
		`"spec":{"targetCPU":75,"triggers":{"k":{"password":"$ref:/spec/triggers/k/password","url":"$ref:/spec/triggers/k/url"}}}}` + "\n"
	if got != want {
		t.Fatalf("annotation:\n got %s\nwant %s", got, want)
	}
	if len(res.Secrets) != 2 { // the object's two values; the annotation's URL is not collected
		t.Fatalf("secrets: got %d, want 2", len(res.Secrets))
	}
}

// TestRestoreKeepsResources is Nuclio's TestRestoreConfigWithResources: quantities and numbers survive a
// restore unchanged, and an empty secrets map restores nothing.
func TestRestoreKeepsResources(t *testing.T) {
	obj := decode(t, `{"spec":{"resources":{"limits":{"cpu":"200m","memory":"200Mi"},"requests":{"cpu":"100m"}},"targetCPU":75,"imageHash":"1712345678901234567"}}`)
	before := canonical(t, obj)
	if got := canonical(t, masking.Restore(obj, map[string]string{})); got != before {
		t.Fatalf("got %s, want %s", got, before)
	}
	restored := masking.Restore(map[string]interface{}{"a": []interface{}{"$ref:/x", json.Number("1")}, "b": "$ref:/unknown"},
		map[string]string{"$ref:/x": "v"})
	if got := canonical(t, restored); got != `{"a":["v",1],"b":"$ref:/unknown"}` {
		t.Fatalf("got %s", got)
	}
}

func TestScrubAPIGateway(t *testing.T) {
	res, errs := ruleSet(t, masking.KindAPIGateway).Scrub(decode(t, gateway))
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	if want := []string{"/spec/authentication/basicAuth/password"}; !reflect.DeepEqual(res.MaskedPaths, want) {
		t.Fatalf("masked %v, want %v", res.MaskedPaths, want)
	}
	if res.Secrets["$ref:/spec/authentication/basicauth/password"] != "gateway-password" {
		t.Fatal("gateway password not collected under its lower-cased token")
	}
}

func TestMaskingDisabled(t *testing.T) {
	if masking.MaskingDisabled(decode(t, plainFunction)) {
		t.Error("flag absent")
	}
	if !masking.MaskingDisabled(decode(t, `{"spec":{"disableSensitiveFieldsMasking":true}}`)) {
		t.Error("flag set")
	}
}

func TestHasUserinfo(t *testing.T) {
	for s, want := range map[string]bool{
		"amqp://user:pw@host:5672":        true,
		"https://tok@github.com/org/repo": true,
		"user:pw@host":                    true,
		"amqp://host:5672":                false,
		"https://host/path@x":             false,
		"https://host?q=a@b":              false,
		"":                                false,
	} {
		if got := masking.HasUserinfo(s); got != want {
			t.Errorf("HasUserinfo(%q) = %v, want %v", s, got, want)
		}
	}
}

func BenchmarkScrub(b *testing.B) {
	rs := ruleSet(b, masking.KindFunction)
	for _, bc := range []struct{ name, object string }{
		{"credentials", credentialedFunction},
		{"plain", plainFunction},
	} {
		obj := decode(b, bc.object)
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, errs := rs.Scrub(obj); len(errs) > 0 {
					b.Fatal(errs)
				}
			}
		})
	}
}
