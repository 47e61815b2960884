package masking_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"reflect"
	"regexp"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/nuclio-apiserver/nuclio-apiserver/pkg/masking"
)

// independentDecode reads Secret data the way the documented format describes it (nuclio-compat.md §4.4),
// without the package's decoder: "content" is standard base64 of a JSON object whose keys are
// "NUCLIO_B64_" + base64(token) with "=" written as "_"; every such key is also a Secret key whose value
// is the plaintext. It returns the token → plaintext map read from content, and checks that the
// individual keys say the same.
func independentDecode(t *testing.T, data map[string][]byte) map[string]string {
	t.Helper()
	content, ok := data["content"]
	if !ok {
		t.Fatal(`secret has no "content" key`)
	}
	out := map[string]string{}
	if len(content) == 0 {
		if len(data) != 1 {
			t.Fatalf("empty content but %d other keys", len(data)-1)
		}
		return out
	}
	raw := make([]byte, base64.StdEncoding.DecodedLen(len(content)))
	n, err := base64.StdEncoding.Decode(raw, content)
	if err != nil {
		t.Fatalf("content is not standard base64: %v", err)
	}
	var pairs map[string]string
	dec := json.NewDecoder(bytes.NewReader(raw[:n]))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&pairs); err != nil {
		t.Fatalf("content is not a JSON object of strings: %v", err)
	}
	for key, plaintext := range pairs {
		if len(key) <= len("NUCLIO_B64_") || key[:len("NUCLIO_B64_")] != "NUCLIO_B64_" {
			t.Fatalf("content key %q lacks the NUCLIO_B64_ prefix", key)
		}
		b64 := []byte(key[len("NUCLIO_B64_"):])
		for i := range b64 {
			if b64[i] == '_' {
				b64[i] = '='
			}
		}
		token, err := base64.StdEncoding.DecodeString(string(b64))
		if err != nil {
			t.Fatalf("content key %q does not decode: %v", key, err)
		}
		out[string(token)] = plaintext
		if got, ok := data[key]; !ok || string(got) != plaintext {
			t.Fatalf("secret key %q is missing or differs from content", key)
		}
	}
	if len(data) != len(pairs)+1 {
		t.Fatalf("secret has %d keys, content names %d", len(data)-1, len(pairs))
	}
	return out
}

// TestSecretRoundTrip is Nuclio's TestDecodeSecretsMapContent and TestFunctionSecretCreation: scrub,
// encode, decode content independently, restore, and get the original object back.
func TestSecretRoundTrip(t *testing.T) {
	orig := decode(t, credentialedFunction)
	res, errs := ruleSet(t, masking.KindFunction).Scrub(orig)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	secret, err := masking.NewSecret(masking.KindFunction, "team-a", "orders", "shop", res.Secrets)
	if err != nil {
		t.Fatal(err)
	}
	decoded := independentDecode(t, secret.Data)
	if !reflect.DeepEqual(decoded, res.Secrets) {
		t.Fatal("independently decoded secret differs from the values masked")
	}
	if decoded["$ref:/spec/build/codeentryattributes/password"] != "git-password" {
		t.Fatal("code-entry password not stored under its lower-cased token")
	}
	if got, want := canonical(t, masking.Restore(res.Object, decoded)), canonical(t, orig); got != want {
		t.Fatalf("restored object differs:\n got %s\nwant %s", got, want)
	}
	fromKeys, err := masking.DecodeSecretData(secret.Data)
	if err != nil || !reflect.DeepEqual(fromKeys, res.Secrets) {
		t.Fatalf("DecodeSecretData: %v", err)
	}
	fromContent, err := masking.DecodeContent(secret.Data[masking.SecretContentKey])
	if err != nil || !reflect.DeepEqual(fromContent, res.Secrets) {
		t.Fatalf("DecodeContent: %v", err)
	}
	if secret.Type != "nuclio.io/functionconfig" || secret.Name != "nuclio-orders-credentials" || secret.Namespace != "team-a" {
		t.Fatalf("type %q name %q namespace %q", secret.Type, secret.Name, secret.Namespace)
	}
	wantLabels := map[string]string{"nuclio.io/function-name": "orders", "nuclio.io/project-name": "shop", "app.kubernetes.io/managed-by": "nuclio-webhook"}
	if !reflect.DeepEqual(secret.Labels, wantLabels) {
		t.Fatalf("labels %v", secret.Labels)
	}
}

// TestEncodeKey is Nuclio's TestEncodeAndDecodeSecretKeys, with the example from the reference.
func TestEncodeKey(t *testing.T) {
	key, err := masking.EncodeKey("$ref:/spec/triggers/rmq/password")
	if err != nil || key != "NUCLIO_B64_JHJlZjovc3BlYy90cmlnZ2Vycy9ybXEvcGFzc3dvcmQ_" {
		t.Fatalf("EncodeKey = %q, %v", key, err)
	}
	for _, token := range []string{"Spec/Build/CodeEntryAttributes/password", "$ref:/a", "$ref:/ab", "$ref:/abc"} {
		key, err := masking.EncodeKey(token)
		if err != nil {
			t.Fatalf("EncodeKey(%q): %v", token, err)
		}
		if errs := validation.IsConfigMapKey(key); len(errs) > 0 {
			t.Fatalf("%q is not a valid Secret key: %v", key, errs)
		}
		back, err := masking.DecodeKey(key)
		if err != nil || back != token {
			t.Fatalf("DecodeKey(EncodeKey(%q)) = %q, %v", token, back, err)
		}
	}
	if _, err := masking.EncodeKey("$ref:/spec/triggers/abc~/password"); err == nil {
		t.Error("a token whose base64 contains '+' must be refused")
	}
	if _, err := masking.EncodeKey("$ref:" + strings.Repeat("/a", 120)); err == nil {
		t.Error("a key longer than 253 characters must be refused")
	}
	if _, err := masking.DecodeKey("OTHER_KEY"); err == nil {
		t.Error("a key without the prefix must be refused")
	}
}

// TestEmptySecret: with nothing masked the Secret still has an empty content key, as Nuclio writes it.
func TestEmptySecret(t *testing.T) {
	data, err := masking.EncodeSecretData(nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(data) != 1 || data["content"] == nil || len(data["content"]) != 0 {
		t.Fatalf("got %v", data)
	}
	if got := independentDecode(t, data); len(got) != 0 {
		t.Fatalf("got %v", got)
	}
	if got, err := masking.DecodeContent(nil); err != nil || len(got) != 0 {
		t.Fatalf("DecodeContent(empty) = %v, %v", got, err)
	}
}

// nuclioGeneratedName is the shape of Nuclio's own Secret names: a prefix, "-", 8 random [a-z0-9].
var nuclioGeneratedName = regexp.MustCompile(`^nuclio-.+-[a-z0-9]{8}$`)

// TestSecretName covers Nuclio's TestGenerateObjectSecretName cases (prefix, trailing "-" trimmed, long
// names truncated) under our deterministic rule.
func TestSecretName(t *testing.T) {
	cases := []struct {
		kind masking.ObjectKind
		name string
		want string // "" when hashed: checked by shape below
	}{
		{masking.KindFunction, "my-function", "nuclio-my-function-credentials"},
		{masking.KindFunction, strings.Repeat("a", 44), "nuclio-" + strings.Repeat("a", 44) + "-credentials"},
		{masking.KindAPIGateway, "shop", "nuclio-apigateway-shop-credentials"},
		{masking.KindFunction, strings.Repeat("a", 45), ""},
		{masking.KindFunction, "my-function-with-a-very-long-name-which-is-more-than-63-characters-long", ""},
		{masking.KindFunction, "dotted.name", ""},
		{masking.KindFunction, "trailing-dash-at-the-cut-point----------------------x", ""},
		{masking.KindAPIGateway, strings.Repeat("g", 40), ""},
	}
	seen := map[string]string{}
	for _, tc := range cases {
		got, err := masking.SecretName(tc.kind, tc.name)
		if err != nil {
			t.Fatalf("SecretName(%q): %v", tc.name, err)
		}
		if errs := validation.IsDNS1123Label(got); len(errs) > 0 {
			t.Errorf("SecretName(%q) = %q is not a DNS-1123 label: %v", tc.name, got, errs)
		}
		if tc.want != "" && got != tc.want {
			t.Errorf("SecretName(%q) = %q, want %q", tc.name, got, tc.want)
		}
		if tc.want == "" && (!regexp.MustCompile(`-[0-9a-f]{10}-credentials$`).MatchString(got) || strings.Contains(got, "--")) {
			t.Errorf("SecretName(%q) = %q: want <prefix>-<10 hex>-credentials without empty segments", tc.name, got)
		}
		if nuclioGeneratedName.MatchString(got) {
			t.Errorf("SecretName(%q) = %q could be mistaken for a Nuclio-generated name", tc.name, got)
		}
		if again, _ := masking.SecretName(tc.kind, tc.name); again != got {
			t.Errorf("SecretName(%q) is not deterministic", tc.name)
		}
		if other, ok := seen[got]; ok {
			t.Errorf("%q and %q share the Secret name %q", other, tc.name, got)
		}
		seen[got] = tc.name
	}
	a, _ := masking.SecretName(masking.KindFunction, strings.Repeat("x", 50)+"-one")
	b, _ := masking.SecretName(masking.KindFunction, strings.Repeat("x", 50)+"-two")
	if a == b {
		t.Error("long names with a common prefix must get different names")
	}
	if _, err := masking.SecretName(masking.KindFunction, ""); err == nil {
		t.Error("empty name accepted")
	}
}

func TestIsManagedFor(t *testing.T) {
	ours, err := masking.NewSecret(masking.KindFunction, "n", "orders", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	if ours.Labels[masking.LabelProjectName] != "default" {
		t.Errorf("project label defaults to %q", ours.Labels[masking.LabelProjectName])
	}
	if err := masking.IsManagedFor(ours, masking.KindFunction, "orders"); err != nil {
		t.Fatalf("own secret refused: %v", err)
	}
	foreign := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "n", Name: ours.Name}, Type: corev1.SecretTypeOpaque,
		Data: map[string][]byte{"password": []byte("hunter2")}}
	otherFunction := ours.DeepCopy()
	otherFunction.Labels[masking.LabelFunctionName] = "payments"
	retyped := ours.DeepCopy()
	retyped.Type = corev1.SecretTypeOpaque
	for name, tc := range map[string]struct {
		s    *corev1.Secret
		kind masking.ObjectKind
		want string
	}{
		"unlabelled":     {foreign, masking.KindFunction, "not managed by nuclio-webhook"},
		"other function": {otherFunction, masking.KindFunction, `for nuclio.io/function-name="payments"`},
		"other kind":     {ours, masking.KindAPIGateway, "not for NuclioAPIGateway"},
		"other type":     {retyped, masking.KindFunction, "has type"},
	} {
		err := masking.IsManagedFor(tc.s, tc.kind, "orders")
		if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "hunter2") {
			t.Errorf("%s: got %v, want an error containing %q and no data", name, err, tc.want)
		}
	}
	if _, err := masking.SecretLabels(masking.KindFunction, strings.Repeat("a", 64), ""); err == nil {
		t.Error("an object name that is not a valid label value must be refused")
	}
}

func BenchmarkEncodeSecretData(b *testing.B) {
	secrets := map[string]string{}
	for i := 0; i < 25; i++ {
		secrets[fmt.Sprintf("$ref:/spec/triggers/t%d/attributes/sasl/password", i)] = strings.Repeat("s", 40)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := masking.EncodeSecretData(secrets); err != nil {
			b.Fatal(err)
		}
	}
}
