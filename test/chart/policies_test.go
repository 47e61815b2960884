// Copyright The nuclio-apiserver Authors.
// SPDX-License-Identifier: Apache-2.0

package chart

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/version"
	"k8s.io/apiserver/pkg/admission"
	plugincel "k8s.io/apiserver/pkg/admission/plugin/cel"
	"k8s.io/apiserver/pkg/admission/plugin/policy/validating"
	"k8s.io/apiserver/pkg/admission/plugin/webhook/matchconditions"
	celconfig "k8s.io/apiserver/pkg/apis/cel"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/authorization/authorizer"
	"k8s.io/apiserver/pkg/cel/environment"
	"sigs.k8s.io/yaml"

	"github.com/nuclio-apiserver/nuclio-apiserver/test/policy"
)

// minCompatibility is the version kube-apiserver 1.37 compiles new policy expressions at.
var minCompatibility = version.MajorMinor(1, 36)

// checkPolicies: every ValidatingAdmissionPolicy compiles as kube-apiserver compiles a new policy, has a
// binding, and does what its values say.
func checkPolicies(t *testing.T, r *rendered, v map[string]interface{}) {
	policies := map[string]*admissionregistrationv1.ValidatingAdmissionPolicy{}
	for _, o := range r.find("ValidatingAdmissionPolicy", "") {
		p := &admissionregistrationv1.ValidatingAdmissionPolicy{}
		into(t, o, p)
		policies[p.Name] = p
		for _, err := range policy.CompileAsNew(p, minCompatibility) {
			t.Errorf("policy %s: %v", p.Name, err)
		}
		b := &admissionregistrationv1.ValidatingAdmissionPolicyBinding{}
		into(t, r.one(t, "ValidatingAdmissionPolicyBinding", p.Name), b)
		if b.Spec.PolicyName != p.Name || !slices.Equal(b.Spec.ValidationActions, []admissionregistrationv1.ValidationAction{admissionregistrationv1.Deny}) {
			t.Errorf("binding %s: %+v", b.Name, b.Spec)
		}
		if p.Spec.FailurePolicy == nil || *p.Spec.FailurePolicy != admissionregistrationv1.Fail {
			t.Errorf("policy %s must fail closed", p.Name)
		}
	}
	for name, value := range map[string]string{
		"nuclio-sensitive-fields": "policies.sensitiveFields.enabled",
		"nuclio-build-sources":    "policies.buildSources.enabled",
		"nuclio-secret-ownership": "policies.secretOwnership.enabled",
	} {
		if _, ok := policies[name]; ok != getBool(v, value) {
			t.Errorf("policy %s rendered: %v, %s: %v", name, ok, value, getBool(v, value))
		}
	}
	if p := policies["nuclio-sensitive-fields"]; p != nil {
		optOut := slices.ContainsFunc(p.Spec.MatchConditions, func(m admissionregistrationv1.MatchCondition) bool { return m.Name == "not-opted-out" })
		if optOut != getBool(v, "webhook.config.allowOptOut") {
			t.Errorf("backstop exempts opted-out functions: %v, webhook.config.allowOptOut: %v", optOut, getBool(v, "webhook.config.allowOptOut"))
		}
	}
	if policies["nuclio-build-sources"] != nil {
		checkBuildSourcePolicy(t, r, v)
	}
	if p := policies["nuclio-secret-ownership"]; p != nil {
		checkSecretOwnership(t, p)
	}
}

// checkBuildSourcePolicy loads the rendered policy, binding and parameters the way test/policy loads the
// artifact, and judges a few build sources with the parameters from the values.
func checkBuildSourcePolicy(t *testing.T, r *rendered, v map[string]interface{}) {
	t.Helper()
	var docs []string
	for _, o := range []*unstructured.Unstructured{r.one(t, "ConfigMap", "nuclio-build-source-policy"),
		r.one(t, "ValidatingAdmissionPolicy", "nuclio-build-sources"), r.one(t, "ValidatingAdmissionPolicyBinding", "nuclio-build-sources")} {
		data, err := yaml.Marshal(o.Object)
		if err != nil {
			t.Fatal(err)
		}
		docs = append(docs, string(data))
	}
	path := filepath.Join(t.TempDir(), "build-sources.yaml")
	if err := os.WriteFile(path, []byte(strings.Join(docs, "---\n")), 0o644); err != nil {
		t.Fatal(err)
	}
	b, err := policy.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if ref := b.Binding.Spec.ParamRef; ref == nil || ref.Name != b.Params.Name || ref.Namespace != b.Params.Namespace || b.Params.Namespace != namespace {
		t.Errorf("binding paramRef %+v does not name the ConfigMap %s/%s", ref, b.Params.Namespace, b.Params.Name)
	}
	ev, err := policy.NewEvaluator(b.Policy)
	if err != nil {
		t.Fatal(err)
	}
	p := "policies.buildSources.parameters."
	hosts := getStrings(v, p+"allowedHosts")
	schemes := getStrings(v, p+"allowedSchemes")
	types := getStrings(v, p+"allowedCodeEntryTypes")
	needPermission := getBool(v, p+"requireBuildFromURLPermission")
	for _, c := range []struct {
		name, path, codeEntryType string
		mayBuildFromURL           bool
		allowed                   bool
	}{
		{"metadata address", "https://169.254.169.254/latest/meta-data/", "archive", true, false},
		{"allowlisted host", "https://github.com/nuclio/nuclio/archive/main.zip", "archive", true, slices.Contains(types, "archive")},
		{"github code entry", "https://github.com/nuclio/nuclio", "github", true, slices.Contains(types, "github")},
		{"other host", "https://gitlab.com/group/project/-/archive/main.zip", "archive", true, len(hosts) == 0 && slices.Contains(types, "archive")},
		{"plain http", "http://github.com/nuclio/nuclio/archive/main.zip", "archive", true,
			slices.Contains(schemes, "http") && getBool(v, p+"allowPlainHTTP") && slices.Contains(types, "archive")},
		{"without the buildfromurl permission", "https://github.com/nuclio/nuclio", "github", false, !needPermission && slices.Contains(types, "github")},
	} {
		fn := map[string]interface{}{
			"apiVersion": "nuclio.io/v1beta1", "kind": "NuclioFunction",
			"metadata": map[string]interface{}{"name": "f", "namespace": "team-a"},
			"spec": map[string]interface{}{"runtime": "python:3.9", "handler": "main:handler",
				"build": map[string]interface{}{"path": c.path, "codeEntryType": c.codeEntryType}},
		}
		u := &user.DefaultInfo{Name: "alice"}
		d, err := ev.Evaluate(context.Background(), policy.Request{
			Operation: admission.Create, Object: fn, Params: b.Params, User: u,
			Authorizer: authorizer.AuthorizerFunc(func(_ context.Context, a authorizer.Attributes) (authorizer.Decision, string, error) {
				if c.mayBuildFromURL && a.GetSubresource() == "buildfromurl" && a.GetUser().GetName() == "alice" {
					return authorizer.DecisionAllow, "", nil
				}
				return authorizer.DecisionNoOpinion, "", nil
			}),
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(d.EvalErrors) > 0 {
			t.Errorf("%s: evaluation errors %v", c.name, d.EvalErrors)
		}
		if d.Denied == c.allowed {
			t.Errorf("%s (%s): denied=%v %v, want denied=%v", c.name, c.path, d.Denied, d.Messages, !c.allowed)
		}
	}
}

var secretsGVR = schema.GroupVersionResource{Version: "v1", Resource: "secrets"}

// checkSecretOwnership evaluates the Secret ownership policy for writes by the webhook and by others.
func checkSecretOwnership(t *testing.T, p *admissionregistrationv1.ValidatingAdmissionPolicy) {
	t.Helper()
	webhookSA := "system:serviceaccount:" + namespace + ":nuclio-webhook"
	owned := map[string]string{"app.kubernetes.io/managed-by": "nuclio-webhook"}
	foreign := map[string]string{"app": "database"}
	for _, c := range []struct {
		name     string
		op       admission.Operation
		user     string
		old, obj map[string]string // labels; nil means no object
		allowed  bool
	}{
		{"webhook creates its Secret", admission.Create, webhookSA, nil, owned, true},
		{"webhook creates an unlabelled Secret", admission.Create, webhookSA, nil, foreign, false},
		{"webhook updates its Secret", admission.Update, webhookSA, owned, owned, true},
		{"webhook takes over a Secret", admission.Update, webhookSA, foreign, owned, false},
		{"webhook relabels its Secret", admission.Update, webhookSA, owned, foreign, false},
		{"webhook deletes its Secret", admission.Delete, webhookSA, owned, nil, true},
		{"webhook deletes another Secret", admission.Delete, webhookSA, foreign, nil, false},
		{"another user", admission.Create, "system:serviceaccount:" + namespace + ":nuclio-controller", nil, foreign, true},
		{"the webhook of another namespace's install", admission.Create, "system:serviceaccount:other:nuclio-webhook", nil, foreign, true},
	} {
		denied, evalErrs := evaluateSecretPolicy(t, p, c.op, c.user, c.old, c.obj)
		if len(evalErrs) > 0 {
			t.Errorf("%s: evaluation errors %v", c.name, evalErrs)
		}
		if denied == c.allowed {
			t.Errorf("%s: denied=%v, want denied=%v", c.name, denied, !c.allowed)
		}
	}
}

// evaluateSecretPolicy runs p on one Secret request with k8s.io/apiserver's validator, compiled the way
// its validating plugin compiles stored policies (see test/policy.NewEvaluator).
func evaluateSecretPolicy(t *testing.T, p *admissionregistrationv1.ValidatingAdmissionPolicy, op admission.Operation, username string,
	oldLabels, newLabels map[string]string) (bool, []string) {
	t.Helper()
	vars := plugincel.OptionalVariableDeclarations{HasParams: p.Spec.ParamKind != nil, HasAuthorizer: true}
	msgVars := plugincel.OptionalVariableDeclarations{HasParams: p.Spec.ParamKind != nil}
	compiler, err := plugincel.NewCompositedCompiler(environment.MustBaseEnvSet(environment.DefaultCompatibilityVersion()))
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range p.Spec.Variables {
		compiler.CompileAndStoreVariable(&validating.Variable{Name: v.Name, Expression: v.Expression}, vars, environment.StoredExpressions)
	}
	var validations, messages []plugincel.ExpressionAccessor
	for _, v := range p.Spec.Validations {
		validations = append(validations, &validating.ValidationCondition{Expression: v.Expression, Message: v.Message, Reason: v.Reason})
		var m plugincel.ExpressionAccessor
		if v.MessageExpression != "" {
			m = &validating.MessageExpressionCondition{MessageExpression: v.MessageExpression}
		}
		messages = append(messages, m)
	}
	var matcher matchconditions.Matcher
	if len(p.Spec.MatchConditions) > 0 {
		var acc []plugincel.ExpressionAccessor
		for i := range p.Spec.MatchConditions {
			acc = append(acc, (*matchconditions.MatchCondition)(&p.Spec.MatchConditions[i]))
		}
		matcher = matchconditions.NewMatcher(compiler.CompileCondition(acc, vars, environment.StoredExpressions), p.Spec.FailurePolicy, "policy", "validate", p.Name)
	}
	validator := validating.NewValidator(
		compiler.CompileCondition(validations, vars, environment.StoredExpressions), matcher,
		compiler.CompileCondition(nil, vars, environment.StoredExpressions),
		compiler.CompileCondition(messages, msgVars, environment.StoredExpressions), p.Spec.FailurePolicy, nil)

	secret := func(l map[string]string) *unstructured.Unstructured {
		if l == nil {
			return nil
		}
		u := &unstructured.Unstructured{}
		u.SetAPIVersion("v1")
		u.SetKind("Secret")
		u.SetNamespace("team-a")
		u.SetName("nuclio-f")
		u.SetLabels(l)
		return u
	}
	obj, old := secret(newLabels), secret(oldLabels)
	kind := corev1.SchemeGroupVersion.WithKind("Secret")
	var attrs admission.Attributes
	u := &user.DefaultInfo{Name: username}
	switch {
	case obj == nil:
		attrs = admission.NewAttributesRecord(nil, old, kind, "team-a", "nuclio-f", secretsGVR, "", op, &metav1.DeleteOptions{}, false, u)
	case old == nil:
		attrs = admission.NewAttributesRecord(obj, nil, kind, "team-a", "nuclio-f", secretsGVR, "", op, &metav1.CreateOptions{}, false, u)
	default:
		attrs = admission.NewAttributesRecord(obj, old, kind, "team-a", "nuclio-f", secretsGVR, "", op, &metav1.UpdateOptions{}, false, u)
	}
	versioned, err := admission.NewVersionedAttributes(attrs, kind, nil)
	if err != nil {
		t.Fatal(err)
	}
	res := validator.Validate(context.Background(), secretsGVR, versioned, nil, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "team-a"}},
		celconfig.RuntimeCELCostBudget, nil)
	denied := false
	var evalErrs []string
	for _, d := range res.Decisions {
		switch {
		case d.Evaluation == validating.EvalError:
			denied = true
			evalErrs = append(evalErrs, d.Message)
		case d.Action == validating.ActionDeny:
			denied = true
		}
	}
	return denied, evalErrs
}
