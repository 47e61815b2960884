package masking_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utiljson "k8s.io/apimachinery/pkg/util/json"
	"k8s.io/apimachinery/pkg/util/version"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/apiserver/pkg/admission"
	plugincel "k8s.io/apiserver/pkg/admission/plugin/cel"
	"k8s.io/apiserver/pkg/admission/plugin/policy/validating"
	"k8s.io/apiserver/pkg/admission/plugin/webhook/matchconditions"
	celconfig "k8s.io/apiserver/pkg/apis/cel"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/cel/environment"

	"github.com/nuclio-apiserver/nuclio-apiserver/pkg/masking"
)

// minCompatibility is the CEL environment kube-apiserver 1.37 uses to compile new expressions (its
// minimum compatibility version); expressions that only compile at 1.37 are rejected at create time.
var minCompatibility = version.MajorMinor(1, 36)

var (
	functionsGVR = schema.GroupVersionResource{Group: "nuclio.io", Version: "v1beta1", Resource: "nucliofunctions"}
	gatewaysGVR  = schema.GroupVersionResource{Group: "nuclio.io", Version: "v1beta1", Resource: "nuclioapigateways"}
)

func repoFile(t testing.TB, rel string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", rel))
	if err != nil {
		t.Fatalf("reading %s: %v", rel, err)
	}
	return b
}

// yamlDocuments splits a multi-document YAML file into JSON documents.
func yamlDocuments(t testing.TB, data []byte) [][]byte {
	t.Helper()
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(data), 4096)
	var docs [][]byte
	for {
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			if errors.Is(err, io.EOF) {
				return docs
			}
			t.Fatalf("decoding YAML: %v", err)
		}
		if len(raw) > 0 && string(raw) != "null" {
			docs = append(docs, raw)
		}
	}
}

// backstop is the compiled ValidatingAdmissionPolicy from artifacts/policies/sensitive-fields.yaml.
type backstop struct {
	validator validating.Validator
}

// loadBackstop compiles the policy the way kube-apiserver validates a new policy (NewExpressions at the
// minimum compatibility version) and fails the test on any compilation error. It also checks the binding.
func loadBackstop(t testing.TB) *backstop {
	t.Helper()
	var policy *admissionregistrationv1.ValidatingAdmissionPolicy
	var binding *admissionregistrationv1.ValidatingAdmissionPolicyBinding
	for _, doc := range yamlDocuments(t, repoFile(t, "artifacts/policies/sensitive-fields.yaml")) {
		var meta struct{ Kind string }
		if err := json.Unmarshal(doc, &meta); err != nil {
			t.Fatal(err)
		}
		switch meta.Kind {
		case "ValidatingAdmissionPolicy":
			policy = &admissionregistrationv1.ValidatingAdmissionPolicy{}
			if err := utiljson.Unmarshal(doc, policy); err != nil {
				t.Fatal(err)
			}
		case "ValidatingAdmissionPolicyBinding":
			binding = &admissionregistrationv1.ValidatingAdmissionPolicyBinding{}
			if err := utiljson.Unmarshal(doc, binding); err != nil {
				t.Fatal(err)
			}
		default:
			t.Fatalf("unexpected kind %q in the policy file", meta.Kind)
		}
	}
	if policy == nil || binding == nil {
		t.Fatal("the policy file must hold a ValidatingAdmissionPolicy and its binding")
	}
	if binding.Spec.PolicyName != policy.Name || len(binding.Spec.ValidationActions) != 1 ||
		binding.Spec.ValidationActions[0] != admissionregistrationv1.Deny {
		t.Fatalf("binding must bind %q with validationActions [Deny], got %+v", policy.Name, binding.Spec)
	}
	if policy.Spec.FailurePolicy == nil || *policy.Spec.FailurePolicy != admissionregistrationv1.Fail {
		t.Fatal("the backstop must fail closed (failurePolicy: Fail)")
	}

	compiler, err := plugincel.NewCompositedCompiler(environment.MustBaseEnvSet(minCompatibility))
	if err != nil {
		t.Fatal(err)
	}
	vars := plugincel.OptionalVariableDeclarations{HasAuthorizer: true}
	for _, v := range policy.Spec.Variables {
		res := compiler.CompileAndStoreVariable(&validating.Variable{Name: v.Name, Expression: v.Expression}, vars, environment.NewExpressions)
		if res.Error != nil {
			t.Fatalf("variable %q does not compile at Kubernetes %s: %v", v.Name, minCompatibility, res.Error)
		}
	}
	var validations, messages []plugincel.ExpressionAccessor
	for _, v := range policy.Spec.Validations {
		validations = append(validations, &validating.ValidationCondition{Expression: v.Expression, Message: v.Message, Reason: v.Reason})
		if v.MessageExpression != "" {
			messages = append(messages, &validating.MessageExpressionCondition{MessageExpression: v.MessageExpression})
		} else {
			messages = append(messages, nil)
		}
	}
	validationFilter := compiler.CompileCondition(validations, vars, environment.NewExpressions)
	messageFilter := compiler.CompileCondition(messages, plugincel.OptionalVariableDeclarations{}, environment.NewExpressions)
	for _, f := range []plugincel.ConditionEvaluator{validationFilter, messageFilter} {
		if errs := f.CompilationErrors(); len(errs) > 0 {
			t.Fatalf("policy does not compile at Kubernetes %s: %v", minCompatibility, errs)
		}
	}
	auditFilter := compiler.CompileCondition(nil, vars, environment.NewExpressions)
	return &backstop{validator: validating.NewValidator(validationFilter, nil, auditFilter, messageFilter, policy.Spec.FailurePolicy, nil)}
}

// toUnstructured converts a decoded object to what the admission chain hands CEL: JSON numbers become
// int64 or float64.
func toUnstructured(t testing.TB, obj map[string]interface{}) *unstructured.Unstructured {
	t.Helper()
	b, err := json.Marshal(obj)
	if err != nil {
		t.Fatal(err)
	}
	u := &unstructured.Unstructured{}
	if err := utiljson.Unmarshal(b, &u.Object); err != nil {
		t.Fatal(err)
	}
	return u
}

func attributes(t testing.TB, gvr schema.GroupVersionResource, obj map[string]interface{}) *admission.VersionedAttributes {
	t.Helper()
	u := toUnstructured(t, obj)
	gvk := u.GroupVersionKind()
	attr := admission.NewAttributesRecord(u, nil, gvk, u.GetNamespace(), u.GetName(), gvr, "", admission.Create,
		nil, false, &user.DefaultInfo{Name: "alice"})
	return &admission.VersionedAttributes{Attributes: attr, VersionedKind: gvk, VersionedObject: admission.NewLazyObject(u)}
}

// evaluate returns the denial messages of the policy for obj (nil: admitted). Evaluation errors fail the
// test: they would deny every such object, which is never intended.
func (b *backstop) evaluate(t testing.TB, gvr schema.GroupVersionResource, obj map[string]interface{}) []string {
	t.Helper()
	res := b.validator.Validate(context.Background(), gvr, attributes(t, gvr, obj), nil, nil, celconfig.RuntimeCELCostBudget, nil)
	var denials []string
	for _, d := range res.Decisions {
		switch {
		case d.Evaluation == validating.EvalError:
			t.Fatalf("policy evaluation error: %s", d.Message)
		case d.Action == validating.ActionDeny:
			denials = append(denials, d.Message)
		}
	}
	return denials
}

// flaggedPaths extracts the paths the plaintext validation lists in its message.
func flaggedPaths(t testing.TB, denials []string) []string {
	t.Helper()
	const marker = "plaintext found at: "
	var paths []string
	for _, d := range denials {
		i := strings.Index(d, marker)
		if i < 0 {
			t.Fatalf("unexpected denial: %s", d)
		}
		paths = append(paths, strings.Split(d[i+len(marker):], ", ")...)
	}
	return sortedCopy(paths)
}

func TestBackstopRejectsPlaintextAndAdmitsMaskedObjects(t *testing.T) {
	b := loadBackstop(t)
	cases := []struct {
		name  string
		gvr   schema.GroupVersionResource
		kind  masking.ObjectKind
		input string
	}{
		{"function with credentials", functionsGVR, masking.KindFunction, credentialedFunction},
		{"plain function", functionsGVR, masking.KindFunction, plainFunction},
		{"api gateway", gatewaysGVR, masking.KindAPIGateway, gateway},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			obj := decode(t, tc.input)
			res, errs := ruleSet(t, tc.kind).Scrub(obj)
			if len(errs) > 0 {
				t.Fatalf("Scrub: %v", errs)
			}
			got := flaggedPaths(t, b.evaluate(t, tc.gvr, obj))
			if want := sortedCopy(res.MaskedPaths); strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Errorf("backstop flags\n  %v\nbut the webhook masks\n  %v", got, want)
			}
			if denials := b.evaluate(t, tc.gvr, res.Object); len(denials) > 0 {
				t.Errorf("masked object refused: %v", denials)
			}
		})
	}
}

// TestBackstopAgreesWithRules checks, on generated objects, that the policy flags exactly the paths the
// Go rules mask, so the two implementations of the rule set cannot drift apart.
func TestBackstopAgreesWithRules(t *testing.T) {
	b := loadBackstop(t)
	rs := ruleSet(t, masking.KindFunction)
	flaggedSome, compared := false, 0
	for i, obj := range generatedFunctions(1, 300) {
		res, errs := rs.Scrub(obj)
		if len(errs) > 0 {
			continue // e.g. two generated keys differing only in case; the webhook refuses those
		}
		compared++
		got := flaggedPaths(t, b.evaluate(t, functionsGVR, obj))
		want := sortedCopy(res.MaskedPaths)
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Fatalf("object %d (%s): backstop flags %v, rules mask %v", i, canonical(t, obj), got, want)
		}
		flaggedSome = flaggedSome || len(got) > 0
		if denials := b.evaluate(t, functionsGVR, res.Object); len(denials) > 0 {
			t.Fatalf("object %d: masked form refused: %v", i, denials)
		}
	}
	if !flaggedSome || compared < 200 {
		t.Fatalf("the generated corpus is too weak: %d objects compared, denial seen: %v", compared, flaggedSome)
	}
}

func TestBackstopRefusesTooDeepTriggers(t *testing.T) {
	b := loadBackstop(t)
	obj := decode(t, `{"apiVersion":"nuclio.io/v1beta1","kind":"NuclioFunction","metadata":{"name":"deep","namespace":"n"},
		"spec":{"triggers":{"t":{"attributes":{"a":{"b":{"c":{"d":{"e":{"f":{"password":"pw"}}}}}}}}}}}`)
	denials := b.evaluate(t, functionsGVR, obj)
	if len(denials) != 1 || !strings.Contains(denials[0], "too deep") || !strings.Contains(denials[0], "/spec/triggers/t/attributes/a/b/c/d/e/f") {
		t.Fatalf("want one too-deep denial naming the path, got %v", denials)
	}
	// Deep typed volume structures are not free-form and are never refused.
	vol := decode(t, `{"apiVersion":"nuclio.io/v1beta1","kind":"NuclioFunction","metadata":{"name":"v","namespace":"n"},
		"spec":{"volumes":[{"volume":{"name":"p","projected":{"sources":[{"configMap":{"name":"c","items":[{"key":"k","path":"p"}]}}]}}}]}}`)
	if denials := b.evaluate(t, functionsGVR, vol); len(denials) > 0 {
		t.Fatalf("projected volume refused: %v", denials)
	}
}

// webhookMatcher compiles the matchConditions of artifacts/webhook/mutating-webhook.yaml as
// kube-apiserver validates them, and returns a function that says whether the webhook would be called.
func webhookMatcher(t testing.TB) func(schema.GroupVersionResource, map[string]interface{}) bool {
	t.Helper()
	docs := yamlDocuments(t, repoFile(t, "artifacts/webhook/mutating-webhook.yaml"))
	if len(docs) != 1 {
		t.Fatalf("want one document, got %d", len(docs))
	}
	cfg := &admissionregistrationv1.MutatingWebhookConfiguration{}
	if err := utiljson.Unmarshal(docs[0], cfg); err != nil {
		t.Fatal(err)
	}
	if len(cfg.Webhooks) != 1 {
		t.Fatalf("want one webhook, got %d", len(cfg.Webhooks))
	}
	wh := cfg.Webhooks[0]
	compiler, err := plugincel.NewCompositedCompiler(environment.MustBaseEnvSet(minCompatibility))
	if err != nil {
		t.Fatal(err)
	}
	var accessors []plugincel.ExpressionAccessor
	for i := range wh.MatchConditions {
		accessors = append(accessors, (*matchconditions.MatchCondition)(&wh.MatchConditions[i]))
	}
	filter := compiler.CompileCondition(accessors, plugincel.OptionalVariableDeclarations{HasAuthorizer: true}, environment.NewExpressions)
	if errs := filter.CompilationErrors(); len(errs) > 0 {
		t.Fatalf("matchConditions do not compile at Kubernetes %s: %v", minCompatibility, errs)
	}
	matcher := matchconditions.NewMatcher(filter, wh.FailurePolicy, "webhook", "admit", wh.Name)
	return func(gvr schema.GroupVersionResource, obj map[string]interface{}) bool {
		t.Helper()
		res := matcher.Match(context.Background(), attributes(t, gvr, obj), nil, nil)
		if res.Error != nil {
			t.Fatalf("matchCondition evaluation error: %v", res.Error)
		}
		return res.Matches
	}
}

// TestWebhookMatchConditionsAreConservative checks that the webhook is called for every object it would
// change or whose tokens it must validate, and that it is skipped for plain objects.
func TestWebhookMatchConditionsAreConservative(t *testing.T) {
	calls := webhookMatcher(t)
	rs := ruleSet(t, masking.KindFunction)
	check := func(name string, gvr schema.GroupVersionResource, rs *masking.RuleSet, obj map[string]interface{}) {
		res, errs := rs.Scrub(obj)
		needed := len(errs) > 0 || res.Changed() || res.HasCredentials() || masking.MaskingDisabled(obj)
		if needed && !calls(gvr, obj) {
			t.Errorf("%s: the webhook would be skipped although it has work to do: %s", name, canonical(t, obj))
		}
		if res != nil && res.Changed() && !calls(gvr, res.Object) {
			t.Errorf("%s: the webhook would be skipped for the masked object, whose tokens it must validate", name)
		}
	}
	check("credentialed", functionsGVR, rs, decode(t, credentialedFunction))
	check("gateway", gatewaysGVR, ruleSet(t, masking.KindAPIGateway), decode(t, gateway))
	for i, obj := range generatedFunctions(2, 300) {
		check(fmt.Sprintf("generated %d", i), functionsGVR, rs, obj)
	}
	optOut := decode(t, plainFunction)
	optOut["spec"].(map[string]interface{})["disableSensitiveFieldsMasking"] = true
	check("opt-out", functionsGVR, rs, optOut)
	csa := decode(t, plainFunction)
	csa["metadata"].(map[string]interface{})["annotations"] = map[string]interface{}{masking.AnnotationLastAppliedConfiguration: "{}"}
	if !calls(functionsGVR, csa) {
		t.Error("client-side-applied objects must always reach the webhook")
	}

	if calls(functionsGVR, decode(t, plainFunction)) {
		t.Error("a plain HTTP+cron function should skip the webhook")
	}
	plainGateway := decode(t, gateway)
	delete(plainGateway["spec"].(map[string]interface{}), "authentication")
	if calls(gatewaysGVR, plainGateway) {
		t.Error("a gateway without authentication should skip the webhook")
	}
}
