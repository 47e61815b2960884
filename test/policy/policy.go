// Copyright The nuclio-apiserver Authors.
// SPDX-License-Identifier: Apache-2.0

// Package policy loads the build-source ValidatingAdmissionPolicy
// (artifacts/policies/build-sources.yaml) and evaluates it offline with the
// compiler and validator of k8s.io/apiserver's ValidatingAdmissionPolicy
// plugin, the code the nuclio-apiserver runs for nuclio.io requests. No cluster
// is needed. The tests of this package judge the shared SSRF corpus with it
// and compare the verdicts with pkg/egress.
package policy

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/version"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/apiserver/pkg/admission"
	plugincel "k8s.io/apiserver/pkg/admission/plugin/cel"
	"k8s.io/apiserver/pkg/admission/plugin/policy/validating"
	"k8s.io/apiserver/pkg/admission/plugin/webhook/matchconditions"
	celconfig "k8s.io/apiserver/pkg/apis/cel"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/authorization/authorizer"
	"k8s.io/apiserver/pkg/cel/environment"
	"sigs.k8s.io/yaml"
)

// FunctionGVK and FunctionGVR identify NuclioFunctions, the only resource the
// policy matches.
var (
	FunctionGVK = schema.GroupVersionKind{Group: "nuclio.io", Version: "v1beta1", Kind: "NuclioFunction"}
	FunctionGVR = schema.GroupVersionResource{Group: "nuclio.io", Version: "v1beta1", Resource: "nucliofunctions"}
)

// Bundle is the content of the policy manifest: the policy, its binding and
// the parameter ConfigMap, exactly one of each.
type Bundle struct {
	Policy  *admissionregistrationv1.ValidatingAdmissionPolicy
	Binding *admissionregistrationv1.ValidatingAdmissionPolicyBinding
	Params  *corev1.ConfigMap
}

// Load reads a multi-document YAML manifest and decodes it strictly (unknown
// fields are errors, as kubectl's server-side field validation would report).
func Load(path string) (*Bundle, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	b := &Bundle{}
	reader := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(raw)))
	for {
		doc, err := reader.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		var meta metav1.TypeMeta
		if err := yaml.Unmarshal(doc, &meta); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		var target interface{}
		switch meta.GroupVersionKind() {
		case schema.GroupVersionKind{}:
			continue // empty document
		case admissionregistrationv1.SchemeGroupVersion.WithKind("ValidatingAdmissionPolicy"):
			if b.Policy != nil {
				return nil, fmt.Errorf("%s: more than one ValidatingAdmissionPolicy", path)
			}
			b.Policy = &admissionregistrationv1.ValidatingAdmissionPolicy{}
			target = b.Policy
		case admissionregistrationv1.SchemeGroupVersion.WithKind("ValidatingAdmissionPolicyBinding"):
			if b.Binding != nil {
				return nil, fmt.Errorf("%s: more than one ValidatingAdmissionPolicyBinding", path)
			}
			b.Binding = &admissionregistrationv1.ValidatingAdmissionPolicyBinding{}
			target = b.Binding
		case corev1.SchemeGroupVersion.WithKind("ConfigMap"):
			if b.Params != nil {
				return nil, fmt.Errorf("%s: more than one ConfigMap", path)
			}
			b.Params = &corev1.ConfigMap{}
			target = b.Params
		default:
			return nil, fmt.Errorf("%s: unexpected kind %s", path, meta.GroupVersionKind())
		}
		if err := yaml.UnmarshalStrict(doc, target); err != nil {
			return nil, fmt.Errorf("%s: %s: %w", path, meta.Kind, err)
		}
	}
	if b.Policy == nil || b.Binding == nil || b.Params == nil {
		return nil, fmt.Errorf("%s: want a ValidatingAdmissionPolicy, a binding and a ConfigMap", path)
	}
	return b, nil
}

// CompileAsNew compiles every expression of the policy the way kube-apiserver
// validates a policy that is created or whose expressions change
// (k8s.io/kubernetes pkg/apis/admissionregistration/validation): variables,
// validations, message expressions and match conditions in the NewExpressions
// environment of the given compatibility version. kube-apiserver 1.37 uses
// its minimum compatibility version, 1.36, so functions introduced later
// (lists.includes()) fail here. It returns one error per expression that does
// not compile.
func CompileAsNew(p *admissionregistrationv1.ValidatingAdmissionPolicy, compat *version.Version) []error {
	hasParams := p.Spec.ParamKind != nil
	envSet := environment.MustBaseEnvSet(compat)
	compiler, err := plugincel.NewCompositedCompiler(envSet)
	if err != nil {
		return []error{err}
	}
	var errs []error
	check := func(where string, r plugincel.CompilationResult) {
		if r.Error != nil {
			errs = append(errs, fmt.Errorf("%s: %w", where, r.Error))
		}
	}
	withAuthz := plugincel.OptionalVariableDeclarations{HasParams: hasParams, HasAuthorizer: true}
	for i, v := range p.Spec.Variables {
		check(fmt.Sprintf("spec.variables[%d] (%s)", i, v.Name), compiler.CompileAndStoreVariable(
			&validating.Variable{Name: v.Name, Expression: v.Expression}, withAuthz, environment.NewExpressions))
	}
	for i, v := range p.Spec.Validations {
		check(fmt.Sprintf("spec.validations[%d].expression", i), compiler.CompileCELExpression(
			&validating.ValidationCondition{Expression: v.Expression}, withAuthz, environment.NewExpressions))
		if v.MessageExpression != "" {
			check(fmt.Sprintf("spec.validations[%d].messageExpression", i), compiler.CompileCELExpression(
				&validating.MessageExpressionCondition{MessageExpression: v.MessageExpression},
				plugincel.OptionalVariableDeclarations{HasParams: hasParams}, environment.NewExpressions))
		}
	}
	// Match conditions are compiled without variables.
	stateless := plugincel.NewCompiler(envSet)
	for i, m := range p.Spec.MatchConditions {
		check(fmt.Sprintf("spec.matchConditions[%d] (%s)", i, m.Name), stateless.CompileCELExpression(
			(*matchconditions.MatchCondition)(&m), withAuthz, environment.NewExpressions))
	}
	return errs
}

// Evaluator evaluates one policy. It is built exactly like the private
// compilePolicy of the validating plugin (k8s.io/apiserver v0.37.2
// pkg/admission/plugin/policy/validating/plugin.go): stored-expression
// environment at the default compatibility version, composited variables,
// authorizer available to validations but not to message expressions.
type Evaluator struct {
	policy    *admissionregistrationv1.ValidatingAdmissionPolicy
	validator validating.Validator
}

// NewEvaluator compiles p. Compilation errors are returned here rather than
// at evaluation (where the plugin would turn them into denials).
func NewEvaluator(p *admissionregistrationv1.ValidatingAdmissionPolicy) (*Evaluator, error) {
	hasParams := p.Spec.ParamKind != nil
	optionalVars := plugincel.OptionalVariableDeclarations{HasParams: hasParams, HasAuthorizer: true}
	messageVars := plugincel.OptionalVariableDeclarations{HasParams: hasParams, HasAuthorizer: false}
	compiler, err := plugincel.NewCompositedCompiler(environment.MustBaseEnvSet(environment.DefaultCompatibilityVersion()))
	if err != nil {
		return nil, err
	}
	var compileErrs []error
	for _, v := range p.Spec.Variables {
		r := compiler.CompileAndStoreVariable(&validating.Variable{Name: v.Name, Expression: v.Expression}, optionalVars, environment.StoredExpressions)
		if r.Error != nil {
			compileErrs = append(compileErrs, fmt.Errorf("variable %s: %w", v.Name, r.Error))
		}
	}
	validations := make([]plugincel.ExpressionAccessor, len(p.Spec.Validations))
	messages := make([]plugincel.ExpressionAccessor, len(p.Spec.Validations))
	for i, v := range p.Spec.Validations {
		validations[i] = &validating.ValidationCondition{Expression: v.Expression, Message: v.Message, Reason: v.Reason}
		if v.MessageExpression != "" {
			messages[i] = &validating.MessageExpressionCondition{MessageExpression: v.MessageExpression}
		}
		for _, acc := range []plugincel.ExpressionAccessor{validations[i], messages[i]} {
			if acc == nil {
				continue
			}
			vars := optionalVars
			if acc == messages[i] {
				vars = messageVars
			}
			if r := compiler.CompileCELExpression(acc, vars, environment.StoredExpressions); r.Error != nil {
				compileErrs = append(compileErrs, fmt.Errorf("validations[%d] %q: %w", i, acc.GetExpression(), r.Error))
			}
		}
	}
	var matcher matchconditions.Matcher
	if len(p.Spec.MatchConditions) > 0 {
		accessors := make([]plugincel.ExpressionAccessor, len(p.Spec.MatchConditions))
		for i := range p.Spec.MatchConditions {
			accessors[i] = (*matchconditions.MatchCondition)(&p.Spec.MatchConditions[i])
		}
		matcher = matchconditions.NewMatcher(compiler.CompileCondition(accessors, optionalVars, environment.StoredExpressions),
			p.Spec.FailurePolicy, "policy", "validate", p.Name)
	}
	if len(compileErrs) > 0 {
		return nil, errors.Join(compileErrs...)
	}
	v := validating.NewValidator(
		compiler.CompileCondition(validations, optionalVars, environment.StoredExpressions),
		matcher,
		compiler.CompileCondition(nil, optionalVars, environment.StoredExpressions),
		compiler.CompileCondition(messages, messageVars, environment.StoredExpressions),
		p.Spec.FailurePolicy,
		nil,
	)
	return &Evaluator{policy: p, validator: v}, nil
}

// Request is one admission request for a NuclioFunction.
type Request struct {
	// Operation is admission.Create or admission.Update.
	Operation admission.Operation
	// Object and OldObject are NuclioFunctions as generic JSON; OldObject
	// only for updates.
	Object, OldObject map[string]interface{}
	// Params is the parameter ConfigMap (paramRef target).
	Params *corev1.ConfigMap
	// User is the requesting user; Authorizer answers the policy's
	// authorizer checks for them.
	User       user.Info
	Authorizer authorizer.UnconditionalAuthorizer
}

// Decision is the outcome for one request.
type Decision struct {
	// Denied is true if any validation denied the request (or failed,
	// which with failurePolicy Fail also denies).
	Denied bool
	// Messages are the messages of denying validations, in policy order;
	// the apiserver shows the first.
	Messages []string
	// EvalErrors are the messages of validations that failed to evaluate
	// (compile errors, type errors, exhausted cost budget): policy bugs.
	EvalErrors []string
}

// Evaluate runs the policy on r with the runtime cost budget of the real
// plugin.
func (e *Evaluator) Evaluate(ctx context.Context, r Request) (Decision, error) {
	obj := &unstructured.Unstructured{Object: r.Object}
	var oldObj *unstructured.Unstructured
	if r.OldObject != nil {
		oldObj = &unstructured.Unstructured{Object: r.OldObject}
	}
	ns := obj.GetNamespace()
	var attrs admission.Attributes
	if oldObj != nil {
		attrs = admission.NewAttributesRecord(obj, oldObj, FunctionGVK, ns, obj.GetName(), FunctionGVR, "", r.Operation, &metav1.UpdateOptions{}, false, r.User)
	} else {
		attrs = admission.NewAttributesRecord(obj, nil, FunctionGVK, ns, obj.GetName(), FunctionGVR, "", r.Operation, &metav1.CreateOptions{}, false, r.User)
	}
	versioned, err := admission.NewVersionedAttributes(attrs, FunctionGVK, nil)
	if err != nil {
		return Decision{}, err
	}
	namespace := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}
	var params runtime.Object // a nil *ConfigMap would be a non-nil interface
	if r.Params != nil {
		params = r.Params
	}
	result := e.validator.Validate(ctx, FunctionGVR, versioned, params, namespace, celconfig.RuntimeCELCostBudget, r.Authorizer)
	var d Decision
	for _, dec := range result.Decisions {
		switch {
		case dec.Evaluation == validating.EvalError:
			d.Denied = true
			d.EvalErrors = append(d.EvalErrors, dec.Message)
		case dec.Action == validating.ActionDeny:
			d.Denied = true
			d.Messages = append(d.Messages, dec.Message)
		}
	}
	return d, nil
}
