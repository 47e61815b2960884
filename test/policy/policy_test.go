// Copyright The nuclio-apiserver Authors.
// SPDX-License-Identifier: Apache-2.0

package policy

import (
	"context"
	"os"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/apimachinery/pkg/util/version"
	"k8s.io/apiserver/pkg/admission"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/authorization/authorizer"

	"github.com/nuclio-apiserver/nuclio-apiserver/pkg/egress"
	"github.com/nuclio-apiserver/nuclio-apiserver/pkg/egress/egresstest"
)

const (
	testNamespace = "team-a"
	manifestPath  = "../../artifacts/policies/build-sources.yaml"
)

var (
	loadOnce  sync.Once
	bundle    *Bundle
	evaluator *Evaluator
	cases     []egresstest.Case
	loadErr   error
)

// setup loads the manifest, compiles the policy and loads the corpus once per
// test binary.
func setup(t testing.TB) (*Bundle, *Evaluator, []egresstest.Case) {
	t.Helper()
	loadOnce.Do(func() {
		if bundle, loadErr = Load(manifestPath); loadErr != nil {
			return
		}
		if evaluator, loadErr = NewEvaluator(bundle.Policy); loadErr != nil {
			return
		}
		cases, loadErr = egresstest.Load(egresstest.CorpusDir())
	})
	if loadErr != nil {
		t.Fatal(loadErr)
	}
	return bundle, evaluator, cases
}

func TestManifest(t *testing.T) {
	b, _, _ := setup(t)
	p, bind, cm := b.Policy, b.Binding, b.Params

	if p.Spec.FailurePolicy == nil || *p.Spec.FailurePolicy != admissionregistrationv1.Fail {
		t.Errorf("failurePolicy = %v, want Fail", p.Spec.FailurePolicy)
	}
	if pk := p.Spec.ParamKind; pk == nil || pk.APIVersion != "v1" || pk.Kind != "ConfigMap" {
		t.Errorf("paramKind = %+v, want v1 ConfigMap", pk)
	}
	wantRules := []admissionregistrationv1.NamedRuleWithOperations{{
		RuleWithOperations: admissionregistrationv1.RuleWithOperations{
			Operations: []admissionregistrationv1.OperationType{admissionregistrationv1.Create, admissionregistrationv1.Update},
			Rule: admissionregistrationv1.Rule{
				APIGroups: []string{"nuclio.io"}, APIVersions: []string{"v1beta1"}, Resources: []string{"nucliofunctions"},
			},
		},
	}}
	if p.Spec.MatchConstraints == nil || !reflect.DeepEqual(p.Spec.MatchConstraints.ResourceRules, wantRules) {
		t.Errorf("matchConstraints.resourceRules = %+v, want %+v", p.Spec.MatchConstraints, wantRules)
	}
	for i, v := range p.Spec.Validations {
		if v.MessageExpression == "" || v.Message == "" {
			t.Errorf("validations[%d] needs both message and messageExpression", i)
		}
		// The plugin falls back to message when messageExpression fails;
		// it must still name a field.
		if !strings.HasPrefix(v.Message, "spec.build") && !strings.Contains(v.Message, "ConfigMap") {
			t.Errorf("validations[%d].message %q does not name a field", i, v.Message)
		}
	}

	if bind.Spec.PolicyName != p.Name {
		t.Errorf("binding.policyName = %q, want %q", bind.Spec.PolicyName, p.Name)
	}
	if !reflect.DeepEqual(bind.Spec.ValidationActions, []admissionregistrationv1.ValidationAction{admissionregistrationv1.Deny}) {
		t.Errorf("validationActions = %v, want [Deny]", bind.Spec.ValidationActions)
	}
	ref := bind.Spec.ParamRef
	if ref == nil || ref.Name != cm.Name || ref.Namespace != cm.Namespace || ref.ParameterNotFoundAction == nil ||
		*ref.ParameterNotFoundAction != admissionregistrationv1.DenyAction {
		t.Errorf("paramRef = %+v, want %s/%s with parameterNotFoundAction Deny", ref, cm.Namespace, cm.Name)
	}
	if cm.Namespace != "nuclio-system" {
		t.Errorf("ConfigMap namespace = %q, want nuclio-system", cm.Namespace)
	}
}

// TestShippedParameters checks the ConfigMap holds exactly the keys pkg/egress
// knows, each documented in a comment, with the values DefaultPolicy assumes.
func TestShippedParameters(t *testing.T) {
	b, _, _ := setup(t)
	raw, err := os.ReadFile(manifestPath)
	if err != nil {
		t.Fatal(err)
	}
	keys := []string{
		egress.KeyAllowedSchemes, egress.KeyAllowPlainHTTP, egress.KeyAllowedHosts, egress.KeyDeniedHostSuffixes,
		egress.KeyDeniedCIDRs, egress.KeyAllowedCIDRs, egress.KeyAllowedCodeEntryTypes, egress.KeyAllowedBuildFlags,
		egress.KeyRequireBuildFromURLPermission,
	}
	for _, k := range keys {
		if _, ok := b.Params.Data[k]; !ok {
			t.Errorf("ConfigMap lacks key %s", k)
		}
		if !strings.Contains(string(raw), "# "+k+":") {
			t.Errorf("key %s is not documented by a comment in %s", k, manifestPath)
		}
	}
	for k := range b.Params.Data {
		if !slices.Contains(keys, k) {
			t.Errorf("ConfigMap key %s is unknown to pkg/egress", k)
		}
	}
	shipped, errs := egress.PolicyFromConfigMapData(b.Params.Data)
	if len(errs) != 0 {
		t.Fatalf("shipped parameters are invalid: %v", errs)
	}
	if !reflect.DeepEqual(shipped, egress.DefaultPolicy()) {
		t.Errorf("shipped parameters = %+v, DefaultPolicy = %+v", shipped, egress.DefaultPolicy())
	}
}

// TestCompilesAtMinimumCompatibility compiles the policy as kube-apiserver
// 1.37 does for a new policy: at its minimum compatibility version, 1.36.
func TestCompilesAtMinimumCompatibility(t *testing.T) {
	b, _, _ := setup(t)
	for _, err := range CompileAsNew(b.Policy, version.MajorMinor(1, 36)) {
		t.Error(err)
	}

	// The check itself must be able to fail: includes() arrived in 1.37.
	probe := b.Policy.DeepCopy()
	probe.Spec.Variables = append(probe.Spec.Variables, admissionregistrationv1.Variable{
		Name: "probe", Expression: "['a'].includes('a')",
	})
	if errs := CompileAsNew(probe, version.MajorMinor(1, 36)); len(errs) != 1 {
		t.Errorf("includes() at 1.36: got %d errors %v, want exactly 1", len(errs), errs)
	}
	if errs := CompileAsNew(probe, version.MajorMinor(1, 37)); len(errs) != 0 {
		t.Errorf("includes() at 1.37: %v", errs)
	}
}

// judgeCEL evaluates a corpus case with the policy.
func judgeCEL(t testing.TB, ev *Evaluator, params *corev1.ConfigMap, c *egresstest.Case) Decision {
	t.Helper()
	cm := params.DeepCopy()
	cm.Data = c.ParamsData(params.Data)
	op := admission.Create
	if c.IsUpdate() {
		op = admission.Update
	}
	u := &user.DefaultInfo{Name: "alice", Groups: []string{"system:authenticated"}}
	d, err := ev.Evaluate(context.Background(), Request{
		Operation:  op,
		Object:     c.Function(testNamespace),
		OldObject:  c.OldFunction(testNamespace),
		Params:     cm,
		User:       u,
		Authorizer: buildFromURLAuthorizer(t, u, c.IsAuthorized()),
	})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// buildFromURLAuthorizer answers only the one check the policy may make and
// fails the test on any other.
func buildFromURLAuthorizer(t testing.TB, u user.Info, allow bool) authorizer.UnconditionalAuthorizer {
	return authorizer.AuthorizerFunc(func(_ context.Context, a authorizer.Attributes) (authorizer.Decision, string, error) {
		if a.GetUser().GetName() != u.GetName() || a.GetAPIGroup() != "nuclio.io" || a.GetResource() != "nucliofunctions" ||
			a.GetSubresource() != "buildfromurl" || a.GetVerb() != "create" || a.GetNamespace() != testNamespace {
			t.Errorf("unexpected authorization check: %+v", a)
			return authorizer.DecisionNoOpinion, "", nil
		}
		if allow {
			return authorizer.DecisionAllow, "", nil
		}
		return authorizer.DecisionNoOpinion, "", nil
	})
}

// judgeGo runs pkg/egress on a corpus case: parameter errors if the
// parameters are malformed, else the function validation (update-aware).
func judgeGo(c *egresstest.Case, defaults map[string]string) field.ErrorList {
	p, errs := egress.PolicyFromConfigMapData(c.ParamsData(defaults))
	if len(errs) != 0 {
		return errs
	}
	if c.IsUpdate() {
		return p.ValidateFunctionUpdate(c.Function(testNamespace), c.OldFunction(testNamespace))
	}
	return p.ValidateFunction(c.Function(testNamespace))
}

func goMessages(errs field.ErrorList) []string {
	out := make([]string, len(errs))
	for i, e := range errs {
		out[i] = e.Field + ": " + e.Detail
	}
	return out
}

// TestCorpusCEL is the admission judge: every corpus case is evaluated by
// the policy exactly as the apiserver's plugin would, and must be admitted or
// denied as the case says, with a message that names the expected field.
func TestCorpusCEL(t *testing.T) {
	b, ev, all := setup(t)
	allowed := 0
	for i := range all {
		c := &all[i]
		if !c.Denied() {
			allowed++
		}
		t.Run(c.Name, func(t *testing.T) {
			d := judgeCEL(t, ev, b.Params, c)
			if len(d.EvalErrors) > 0 {
				t.Fatalf("policy failed to evaluate: %q", d.EvalErrors)
			}
			if d.Denied != c.Denied() {
				t.Fatalf("denied = %v (%q), want %s", d.Denied, d.Messages, c.Expect)
			}
			if !c.Denied() {
				return
			}
			if !slices.ContainsFunc(d.Messages, func(m string) bool {
				return strings.HasPrefix(m, c.Field+": ") && strings.Contains(m, c.Reason)
			}) {
				t.Fatalf("no message names %s with %q: %q", c.Field, c.Reason, d.Messages)
			}
		})
	}
	if len(all) < 150 || allowed < 20 {
		t.Fatalf("corpus has %d cases, %d of them allowed; want at least 150 and 20", len(all), allowed)
	}
}

// TestCorpusAgreement checks that pkg/egress, the fetcher's twin of the
// policy, reaches the same verdict on every case, that every CEL message is
// one of the Go errors word for word, and that the Go errors name the
// expected field too. Cases decided by the authorizer are CEL-only.
func TestCorpusAgreement(t *testing.T) {
	b, ev, all := setup(t)
	for i := range all {
		c := &all[i]
		if !c.IsAuthorized() && c.Denied() {
			continue
		}
		t.Run(c.Name, func(t *testing.T) {
			d := judgeCEL(t, ev, b.Params, c)
			goMsgs := goMessages(judgeGo(c, b.Params.Data))
			if d.Denied != (len(goMsgs) > 0) {
				t.Fatalf("CEL denied=%v %q; Go errors %q", d.Denied, d.Messages, goMsgs)
			}
			for _, m := range d.Messages {
				if !slices.Contains(goMsgs, m) {
					t.Errorf("CEL message %q is not among the Go errors %q", m, goMsgs)
				}
			}
			if c.Denied() && !slices.ContainsFunc(goMsgs, func(m string) bool { return strings.HasPrefix(m, c.Field+": ") }) {
				t.Errorf("Go errors %q do not name %s", goMsgs, c.Field)
			}
		})
	}
}

// TestRenderedFunctionsAreObjects makes sure the helper the e2e suite uses
// renders well-formed NuclioFunction objects.
func TestRenderedFunctionsAreObjects(t *testing.T) {
	_, _, all := setup(t)
	for i := range all {
		raw, err := all[i].FunctionJSON(testNamespace)
		if err != nil {
			t.Fatalf("%s: %v", all[i].Name, err)
		}
		for _, want := range []string{`"apiVersion":"nuclio.io/v1beta1"`, `"kind":"NuclioFunction"`, `"name":"` + all[i].Name + `"`} {
			if !strings.Contains(string(raw), want) {
				t.Fatalf("%s: rendered object %s lacks %s", all[i].Name, raw, want)
			}
		}
	}
}

// TestLargeFunctionWithinCostBudget evaluates a function at the generous end
// of real ones (long URL, many headers, args, commands and directives): the
// policy must decide without exhausting the runtime cost budget, which with
// failurePolicy Fail would refuse it.
func TestLargeFunctionWithinCostBudget(t *testing.T) {
	b, ev, _ := setup(t)
	headers := map[string]interface{}{}
	args := map[string]interface{}{}
	var commands, directives, flags []interface{}
	for i := 0; i < 50; i++ {
		headers["X-Header-"+strconv.Itoa(i)] = strings.Repeat("v", 200)
		args["ARG_"+strconv.Itoa(i)] = strings.Repeat("a", 200)
		commands = append(commands, "pip install package-"+strconv.Itoa(i)+" "+strings.Repeat("x", 200))
		directives = append(directives, map[string]interface{}{"kind": "RUN", "value": strings.Repeat("y", 200)})
		flags = append(flags, "--verbosity=debug")
	}
	c := &egresstest.Case{
		Name: "large", Row: "cost", Expect: egresstest.Allow,
		URL:     "https://objects.example.com/" + strings.Repeat("segment/", 250) + "fn.zip?" + strings.Repeat("k=v&", 100),
		Headers: headers, Args: args, Flags: flags,
		Build: map[string]interface{}{"commands": commands, "directives": map[string]interface{}{"preCopy": directives, "postCopy": directives}},
	}
	d := judgeCEL(t, ev, b.Params, c)
	if d.Denied || len(d.EvalErrors) > 0 {
		t.Fatalf("large function: %+v", d)
	}
}
