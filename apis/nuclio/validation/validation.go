// Copyright The nuclio-apiserver Authors.
// SPDX-License-Identifier: Apache-2.0

// Package validation checks nuclio.io objects (internal versions) against Nuclio's rules, reporting each
// problem as a field.Error with a Kubernetes field path (e.g. spec.triggers[kafka].numWorkers).
//
// The rules come from Nuclio 1.14: nuclio/nuclio:pkg/platform/abstract/platform.go (ValidateFunctionConfig,
// validateTriggers, validateMinMaxReplicas, validateDockerImageFields, validateVolumes,
// validateAutoScaleMetrics, validateScaleToZero, validateBatchConfiguration, validateIngresses),
// pkg/platform/kube/platform.go (validateServiceType, validateSidecarSpec, validateInitContainersSpec,
// validateAPIGatewayConfig), pkg/platform/kube/apigateway.go (ValidateAPIGatewaySpec) and
// pkg/functionconfig/handler.go (ParseHandler). Rules that need other objects or the platform
// configuration (project existence, ingress host availability, priority class allowlists) are the
// controller's to report in status.
package validation

import (
	"encoding/base64"
	"fmt"
	"sort"
	"strings"
	"text/template"
	"time"

	"github.com/distribution/reference"
	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apimachineryvalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/util/sets"
	utilvalidation "k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/nuclio-apiserver/nuclio-apiserver/apis/nuclio"
	"github.com/nuclio-apiserver/nuclio-apiserver/apis/nuclio/v1beta1"
)

const (
	// MaxNumWorkers is Nuclio's per-trigger worker limit (pkg/processor/trigger/trigger.go NumWorkersLimit).
	MaxNumWorkers = 100000

	// MaxFunctionSourceCodeBytes bounds inline source (base64): the whole object must stay under etcd's
	// request limit (1.5 MiB by default) with room for the rest of the spec and managedFields. Larger
	// code belongs in an archive (spec.build.path) or a git repository.
	MaxFunctionSourceCodeBytes = 1 << 20

	// MaxFunctionNameLength keeps child resource names (`nuclio-<name>`, Services included) within the
	// 63-character DNS label limit.
	MaxFunctionNameLength = 63 - len("nuclio-")
)

// ReservedNames cannot be used for functions or API gateways: Nuclio's own components use them
// (pkg/platform/abstract/platform.go ResolveReservedResourceNames).
var ReservedNames = sets.New("dashboard", "controller", "dlx", "scaler")

// Runtimes Nuclio 1.14 supports. python means python:3.9 (defaulted before validation).
var (
	supportedRuntimes  = sets.New("python:3.9", "python:3.10", "python:3.11", "golang", "nodejs", "java", "dotnetcore", "ruby", "shell")
	deprecatedRuntimes = sets.New("python:3.7", "python:3.8")
	removedRuntimes    = sets.New("python:3.6")
)

var (
	codeEntryTypes      = sets.New("", "sourceCode", "image", "archive", "github", "git", "s3")
	buildModes          = sets.New("", "neverBuild", "alwaysBuild")
	explicitAckModes    = sets.New("", "enable", "disable", "explicitOnly")
	batchModes          = sets.New("", "enable", "disable")
	preemptionModes     = sets.New("", "allow", "constrain", "prevent", "none")
	serviceTypes        = sets.New("", string(corev1.ServiceTypeClusterIP), string(corev1.ServiceTypeNodePort))
	pullPolicies        = sets.New("", string(corev1.PullAlways), string(corev1.PullIfNotPresent), string(corev1.PullNever))
	metricSourceTypes   = sets.New("Resource", "Pods", "External", "Object", "ContainerResource")
	metricDisplayTypes  = sets.New("", "int", "percentage")
	authenticationModes = sets.New("", "none", "basicAuth", "accessKey", "oauth2")
	scaleEvents         = sets.New("", "resourceUpdated", "scaleFromZeroStarted", "scaleFromZeroCompleted", "scaleToZeroStarted", "scaleToZeroCompleted")

	// Ports and port names the processor uses in the function pod (pkg/platform/abstract/platform.go).
	reservedPorts     = sets.New[int32](8080, 8081, 8082, 8090)
	reservedPortNames = sets.New("http", "metrics")

	// Stream trigger kinds whose explicit-ack mode requires static worker allocation.
	explicitAckKinds = map[string]string{"kafka": "kafka", "kafka-cluster": "kafka", "v3ioStream": "v3iostream", "v3io-stream": "v3iostream"}
)

// ValidateFunctionName checks a function name: a DNS-1123 label short enough for `nuclio-<name>`, and
// not reserved. Nuclio documents "Kubernetes qualified names", but its Services and Deployments are
// named after the function, so anything else fails later at deploy time; rejecting it here says why.
func ValidateFunctionName(name string, prefix bool) []string {
	errs := apimachineryvalidation.NameIsDNSLabel(name, prefix)
	if !prefix && len(name) > MaxFunctionNameLength {
		errs = append(errs, fmt.Sprintf("must be no more than %d characters, so that the function's resources (nuclio-<name>) are valid names", MaxFunctionNameLength))
	}
	if ReservedNames.Has(name) {
		errs = append(errs, fmt.Sprintf("%q is reserved for Nuclio's own components", name))
	}
	return errs
}

// ValidateNuclioFunction validates a function on create.
func ValidateNuclioFunction(fn *nuclio.NuclioFunction) field.ErrorList {
	allErrs := apimachineryvalidation.ValidateObjectMeta(&fn.ObjectMeta, true, ValidateFunctionName, field.NewPath("metadata"))
	allErrs = append(allErrs, validateProjectLabel(fn.Labels, field.NewPath("metadata", "labels"))...)
	allErrs = append(allErrs, ValidateFunctionSpec(&fn.Spec, fn.Annotations, field.NewPath("spec"))...)
	return allErrs
}

// ValidateNuclioFunctionUpdate validates a function update (metadata rules plus the full spec).
func ValidateNuclioFunctionUpdate(fn, old *nuclio.NuclioFunction) field.ErrorList {
	allErrs := apimachineryvalidation.ValidateObjectMetaUpdate(&fn.ObjectMeta, &old.ObjectMeta, field.NewPath("metadata"))
	allErrs = append(allErrs, validateProjectLabel(fn.Labels, field.NewPath("metadata", "labels"))...)
	allErrs = append(allErrs, ValidateFunctionSpec(&fn.Spec, fn.Annotations, field.NewPath("spec"))...)
	return allErrs
}

// ValidateNuclioFunctionStatusUpdate validates a write to the status subresource.
func ValidateNuclioFunctionStatusUpdate(fn, old *nuclio.NuclioFunction) field.ErrorList {
	allErrs := apimachineryvalidation.ValidateObjectMetaUpdate(&fn.ObjectMeta, &old.ObjectMeta, field.NewPath("metadata"))
	s, p := &fn.Status, field.NewPath("status")
	allErrs = append(allErrs, validateStatusCommon(s.ObservedGeneration, s.Conditions, p)...)
	allErrs = append(allErrs, apimachineryvalidation.ValidateNonnegativeField(int64(s.Replicas), p.Child("replicas"))...)
	allErrs = append(allErrs, apimachineryvalidation.ValidateNonnegativeField(int64(s.ReadyReplicas), p.Child("readyReplicas"))...)
	allErrs = append(allErrs, apimachineryvalidation.ValidateNonnegativeField(int64(s.HTTPPort), p.Child("httpPort"))...)
	if s.ScaleToZero != nil && !scaleEvents.Has(s.ScaleToZero.LastScaleEvent) {
		allErrs = append(allErrs, field.NotSupported(p.Child("scaleToZero", "lastScaleEvent"), s.ScaleToZero.LastScaleEvent, sets.List(scaleEvents)[1:]))
	}
	return allErrs
}

func validateStatusCommon(observedGeneration int64, conditions []metav1.Condition, p *field.Path) field.ErrorList {
	allErrs := apimachineryvalidation.ValidateNonnegativeField(observedGeneration, p.Child("observedGeneration"))
	allErrs = append(allErrs, metav1validation.ValidateConditions(conditions, p.Child("conditions"))...)
	return allErrs
}

// ValidateFunctionSpec validates a function spec. annotations are the function's, which select the
// worker allocation mode of stream triggers.
func ValidateFunctionSpec(spec *nuclio.FunctionSpec, annotations map[string]string, p *field.Path) field.ErrorList {
	var allErrs field.ErrorList

	if spec.Handler != "" {
		if strings.Count(spec.Handler, ":") > 1 {
			allErrs = append(allErrs, field.Invalid(p.Child("handler"), spec.Handler, "must be `entrypoint` or `module:entrypoint` (at most one colon)"))
		} else if module, entry, _ := strings.Cut(spec.Handler, ":"); strings.Contains(spec.Handler, ":") && (module == "" || entry == "") {
			allErrs = append(allErrs, field.Invalid(p.Child("handler"), spec.Handler, "module and entrypoint must both be non-empty"))
		}
	}

	switch {
	case spec.Runtime == "":
		if spec.Image != "" && !hasBuildSource(&spec.Build) {
			allErrs = append(allErrs, field.Required(p.Child("runtime"), "runtime must be specified when the function runs a pre-built spec.image"))
		} else if spec.Build.FunctionSourceCode != "" {
			allErrs = append(allErrs, field.Required(p.Child("runtime"), "runtime must be specified with spec.build.functionSourceCode"))
		}
	case removedRuntimes.Has(spec.Runtime):
		allErrs = append(allErrs, field.Invalid(p.Child("runtime"), spec.Runtime, "python:3.6 is no longer supported; use python:3.9, python:3.10 or python:3.11"))
	case !supportedRuntimes.Has(spec.Runtime) && !deprecatedRuntimes.Has(spec.Runtime):
		allErrs = append(allErrs, field.NotSupported(p.Child("runtime"), spec.Runtime, append([]string{"python"}, sets.List(supportedRuntimes)...)))
	}

	allErrs = append(allErrs, validateReplicas(spec, p)...)
	allErrs = append(allErrs, validateTriggers(spec, annotations, p.Child("triggers"))...)
	allErrs = append(allErrs, validateDataBindings(spec.DataBindings, p.Child("dataBindings"))...)
	allErrs = append(allErrs, validateImageReferences(spec, p)...)
	allErrs = append(allErrs, validateBuild(&spec.Build, p.Child("build"))...)
	allErrs = append(allErrs, validateVolumes(spec.Volumes, p.Child("volumes"))...)
	allErrs = append(allErrs, validateContainers(spec.Sidecars, true, p.Child("sidecars"))...)
	allErrs = append(allErrs, validateContainers(spec.InitContainers, false, p.Child("initContainers"))...)
	allErrs = append(allErrs, validateAutoScaleMetrics(spec.AutoScaleMetrics, p.Child("autoScaleMetrics"))...)
	allErrs = append(allErrs, metav1validation.ValidateLabels(spec.NodeSelector, p.Child("nodeSelector"))...)

	if spec.EventTimeout != "" {
		if d, err := time.ParseDuration(spec.EventTimeout); err != nil {
			allErrs = append(allErrs, field.Invalid(p.Child("eventTimeout"), spec.EventTimeout, "must be a Go duration such as 30s or 1m"))
		} else if d <= 0 {
			allErrs = append(allErrs, field.Invalid(p.Child("eventTimeout"), spec.EventTimeout, "must be positive"))
		}
	}
	if !serviceTypes.Has(string(spec.ServiceType)) {
		allErrs = append(allErrs, field.NotSupported(p.Child("serviceType"), spec.ServiceType, []corev1.ServiceType{corev1.ServiceTypeClusterIP, corev1.ServiceTypeNodePort}))
	}
	if !pullPolicies.Has(string(spec.ImagePullPolicy)) {
		allErrs = append(allErrs, field.NotSupported(p.Child("imagePullPolicy"), spec.ImagePullPolicy, sets.List(pullPolicies)[1:]))
	}
	if !preemptionModes.Has(spec.PreemptionMode) {
		allErrs = append(allErrs, field.NotSupported(p.Child("preemptionMode"), spec.PreemptionMode, sets.List(preemptionModes)[1:]))
	}
	allErrs = append(allErrs, apimachineryvalidation.ValidateNonnegativeField(int64(spec.ReadinessTimeoutSeconds), p.Child("readinessTimeoutSeconds"))...)
	if spec.TargetCPU < 0 || spec.TargetCPU > 100 {
		allErrs = append(allErrs, field.Invalid(p.Child("targetCPU"), spec.TargetCPU, "must be a percentage between 0 and 100"))
	}
	return allErrs
}

// hasBuildSource reports whether the build section names code to build (Nuclio's functionBuildRequired,
// without the spec.image fallback).
func hasBuildSource(b *nuclio.Build) bool {
	return b.FunctionSourceCode != "" || b.Path != "" || b.Image != "" || b.CodeEntryType == "s3"
}

func validateReplicas(spec *nuclio.FunctionSpec, p *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	if spec.Replicas != nil && *spec.Replicas < 0 {
		allErrs = append(allErrs, field.Invalid(p.Child("replicas"), *spec.Replicas, "must be greater than or equal to 0"))
	}
	minR, maxR := spec.MinReplicas, spec.MaxReplicas
	if minR != nil && *minR < 0 {
		allErrs = append(allErrs, field.Invalid(p.Child("minReplicas"), *minR, "must be greater than or equal to 0"))
	}
	if maxR != nil && *maxR <= 0 {
		allErrs = append(allErrs, field.Invalid(p.Child("maxReplicas"), *maxR, "must be greater than 0"))
	}
	if minR != nil && maxR == nil && *minR == 0 {
		allErrs = append(allErrs, field.Required(p.Child("maxReplicas"), "must be set when minReplicas is 0 (scale to zero needs an upper bound)"))
	}
	if minR != nil && maxR != nil && *minR > *maxR {
		allErrs = append(allErrs, field.Invalid(p.Child("minReplicas"), *minR, fmt.Sprintf("must be less than or equal to maxReplicas (%d)", *maxR)))
	}
	if minR != nil && *minR == 0 && spec.DisableDefaultHTTPTrigger != nil && *spec.DisableDefaultHTTPTrigger && !hasTriggerKind(spec.Triggers, "http") {
		allErrs = append(allErrs, field.Invalid(p.Child("minReplicas"), 0, "a function can only scale to zero with an http trigger (enable the default http trigger or add one)"))
	}
	return allErrs
}

func hasTriggerKind(triggers map[string]nuclio.Trigger, kind string) bool {
	for _, t := range triggers {
		if t.Kind == kind {
			return true
		}
	}
	return false
}

// sortedKeys returns map keys in order, so errors come out in a stable order.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func validateTriggers(spec *nuclio.FunctionSpec, annotations map[string]string, p *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	var httpTrigger string
	for _, key := range sortedKeys(spec.Triggers) {
		t := spec.Triggers[key]
		tp := p.Key(key)
		if key == "" {
			allErrs = append(allErrs, field.Invalid(p, key, "trigger keys must not be empty"))
			continue
		}
		if t.Name != key {
			allErrs = append(allErrs, field.Invalid(tp.Child("name"), t.Name, fmt.Sprintf("must equal the trigger's key %q", key)))
		}
		if t.Kind == "" {
			allErrs = append(allErrs, field.Required(tp.Child("kind"), "the trigger kind (http, cron, kafka-cluster, ...) is required"))
		}
		if t.NumWorkers < 0 || t.NumWorkers > MaxNumWorkers {
			allErrs = append(allErrs, field.Invalid(tp.Child("numWorkers"), t.NumWorkers, fmt.Sprintf("must be between 0 and %d", MaxNumWorkers)))
		}
		if !explicitAckModes.Has(t.ExplicitAckMode) {
			allErrs = append(allErrs, field.NotSupported(tp.Child("explicitAckMode"), t.ExplicitAckMode, sets.List(explicitAckModes)[1:]))
		}
		for name, value := range map[string]string{"workerTerminationTimeout": t.WorkerTerminationTimeout, "waitExplicitAckDuringRebalanceTimeout": t.WaitExplicitAckDuringRebalanceTimeout} {
			if _, err := time.ParseDuration(value); value != "" && err != nil {
				allErrs = append(allErrs, field.Invalid(tp.Child(name), value, "must be a Go duration such as 10s"))
			}
		}
		if t.WorkerAvailabilityTimeoutMilliseconds != nil && *t.WorkerAvailabilityTimeoutMilliseconds < 0 {
			allErrs = append(allErrs, field.Invalid(tp.Child("workerAvailabilityTimeoutMilliseconds"), *t.WorkerAvailabilityTimeoutMilliseconds, "must be greater than or equal to 0"))
		}
		if t.Kind == "http" {
			if httpTrigger != "" {
				allErrs = append(allErrs, field.Forbidden(tp.Child("kind"), fmt.Sprintf("a function has at most one http trigger, and %q is already one", httpTrigger)))
			} else {
				httpTrigger = key
			}
			allErrs = append(allErrs, validateHTTPAttributes(t.Attributes, tp.Child("attributes"))...)
		}
		if prefix, ok := explicitAckKinds[t.Kind]; ok {
			mode := annotations["nuclio.io/"+prefix+"-worker-allocation-mode"]
			if m, ok := t.Attributes["workerAllocationMode"].(string); ok {
				mode = m
			}
			if mode != "" && mode != "static" && (t.ExplicitAckMode == "enable" || t.ExplicitAckMode == "explicitOnly") {
				allErrs = append(allErrs, field.Invalid(tp.Child("explicitAckMode"), t.ExplicitAckMode, fmt.Sprintf("explicit ack needs the static worker allocation mode, not %q", mode)))
			}
		}
		if (t.Kind == "v3ioStream" || t.Kind == "v3io-stream") && spec.MinReplicas != nil && spec.MaxReplicas != nil && *spec.MinReplicas != *spec.MaxReplicas {
			allErrs = append(allErrs, field.Invalid(field.NewPath("spec", "maxReplicas"), *spec.MaxReplicas, fmt.Sprintf("the v3ioStream trigger %q does not support autoscaling: minReplicas and maxReplicas must be equal", key)))
		}
		if t.Batch != nil {
			bp := tp.Child("batch")
			if !batchModes.Has(t.Batch.Mode) {
				allErrs = append(allErrs, field.NotSupported(bp.Child("mode"), t.Batch.Mode, []string{"enable", "disable"}))
			}
			if t.Batch.Mode == "enable" {
				if t.Batch.BatchSize <= 0 {
					allErrs = append(allErrs, field.Invalid(bp.Child("batchSize"), t.Batch.BatchSize, "must be 1 or higher"))
				}
				if _, err := time.ParseDuration(t.Batch.Timeout); err != nil {
					allErrs = append(allErrs, field.Invalid(bp.Child("timeout"), t.Batch.Timeout, "must be a Go duration such as 1s"))
				}
			}
		}
	}
	// Defaulting never overwrites a user's non-http trigger keyed default-http (Nuclio would), so such a
	// function would run without the http trigger it did not disable. Say so instead.
	if clash, taken := spec.Triggers[v1beta1.DefaultHTTPTriggerName]; taken && httpTrigger == "" && clash.Kind != "http" &&
		(spec.DisableDefaultHTTPTrigger == nil || !*spec.DisableDefaultHTTPTrigger) {
		allErrs = append(allErrs, field.Invalid(p.Key(v1beta1.DefaultHTTPTriggerName).Child("kind"), clash.Kind,
			"the key default-http belongs to the default http trigger: rename this trigger, or set spec.disableDefaultHTTPTrigger to true"))
	}
	return allErrs
}

// validateHTTPAttributes checks what the controller reads from an http trigger: the service type, the
// NodePort and the shape of ingresses (a map of name → object, as Nuclio's validateIngresses requires).
func validateHTTPAttributes(attrs map[string]interface{}, p *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	if v, ok := attrs["serviceType"]; ok {
		if s, isString := v.(string); !isString || !serviceTypes.Has(s) {
			allErrs = append(allErrs, field.NotSupported(p.Child("serviceType"), v, []corev1.ServiceType{corev1.ServiceTypeClusterIP, corev1.ServiceTypeNodePort}))
		}
	}
	if v, ok := attrs["port"]; ok {
		if n, isNum := asInt64(v); !isNum || n < 0 || n > 65535 {
			allErrs = append(allErrs, field.Invalid(p.Child("port"), v, "must be a port number (the NodePort of a NodePort service)"))
		}
	}
	if v, ok := attrs["ingresses"]; ok {
		ingresses, isMap := v.(map[string]interface{})
		if !isMap {
			return append(allErrs, field.Invalid(p.Child("ingresses"), "", "must be a map of ingress name to {host, paths, pathType, secretName}"))
		}
		for _, name := range sortedKeys(ingresses) {
			ip := p.Child("ingresses").Key(name)
			ing, isMap := ingresses[name].(map[string]interface{})
			if !isMap {
				allErrs = append(allErrs, field.Invalid(ip, "", "must be an object with host, paths, pathType and secretName"))
				continue
			}
			if host, present := ing["host"]; present {
				if h, isString := host.(string); !isString {
					allErrs = append(allErrs, field.Invalid(ip.Child("host"), host, "must be a string"))
				} else if h != "" {
					for _, msg := range utilvalidation.IsDNS1123Subdomain(strings.TrimPrefix(h, "*.")) {
						allErrs = append(allErrs, field.Invalid(ip.Child("host"), h, msg))
					}
				}
			}
			if paths, present := ing["paths"]; present {
				list, isList := paths.([]interface{})
				if !isList {
					allErrs = append(allErrs, field.Invalid(ip.Child("paths"), "", "must be a list of strings"))
				}
				for i, path := range list {
					if _, isString := path.(string); !isString {
						allErrs = append(allErrs, field.Invalid(ip.Child("paths").Index(i), path, "must be a string"))
					}
				}
			}
		}
	}
	return allErrs
}

func asInt64(v interface{}) (int64, bool) {
	switch n := v.(type) {
	case int64:
		return n, true
	case int:
		return int64(n), true
	case int32:
		return int64(n), true
	case float64:
		return int64(n), float64(int64(n)) == n
	}
	return 0, false
}

func validateDataBindings(bindings map[string]nuclio.DataBinding, p *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	for _, key := range sortedKeys(bindings) {
		if key == "" {
			allErrs = append(allErrs, field.Invalid(p, key, "data binding keys must not be empty"))
		}
	}
	return allErrs
}

// validateImageReferences rejects malformed image references, which Nuclio treats as possibly
// malicious (validateDockerImageFields). Registries may carry a trailing slash.
func validateImageReferences(spec *nuclio.FunctionSpec, p *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	check := func(fp *field.Path, value string) {
		if value == "" {
			return
		}
		if _, err := reference.Parse(strings.TrimSuffix(value, "/")); err != nil {
			allErrs = append(allErrs, field.Invalid(fp, value, "must be a valid image reference: "+err.Error()))
		}
	}
	check(p.Child("image"), spec.Image)
	check(p.Child("runRegistry"), spec.RunRegistry)
	check(p.Child("build", "image"), spec.Build.Image)
	check(p.Child("build", "registry"), spec.Build.Registry)
	check(p.Child("build", "baseImageRegistry"), spec.Build.BaseImageRegistry)
	check(p.Child("build", "baseImage"), spec.Build.BaseImage)
	if spec.Build.OnbuildImage != "" {
		// onbuildImage is a Go template over {{ .Label }} and {{ .Arch }}; validate what it renders to.
		rendered, err := renderOnbuildImage(spec.Build.OnbuildImage)
		if err != nil {
			allErrs = append(allErrs, field.Invalid(p.Child("build", "onbuildImage"), spec.Build.OnbuildImage, "must be a Go template using only {{ .Label }} and {{ .Arch }}: "+err.Error()))
		} else {
			check(p.Child("build", "onbuildImage"), rendered)
		}
	}
	return allErrs
}

func renderOnbuildImage(tmpl string) (string, error) {
	t, err := template.New("onbuildImage").Option("missingkey=error").Parse(tmpl)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	if err := t.Execute(&b, map[string]string{"Label": "1.14.1", "Arch": "amd64"}); err != nil {
		return "", err
	}
	return b.String(), nil
}

func validateBuild(b *nuclio.Build, p *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	if !codeEntryTypes.Has(b.CodeEntryType) {
		allErrs = append(allErrs, field.NotSupported(p.Child("codeEntryType"), b.CodeEntryType, sets.List(codeEntryTypes)[1:]))
	}
	if !buildModes.Has(b.Mode) {
		allErrs = append(allErrs, field.NotSupported(p.Child("mode"), b.Mode, sets.List(buildModes)[1:]))
	}
	if n := len(b.FunctionSourceCode); n > MaxFunctionSourceCodeBytes {
		allErrs = append(allErrs, field.TooLong(p.Child("functionSourceCode"), "<source code>", MaxFunctionSourceCodeBytes).
			WithOrigin(fmt.Sprintf("%d bytes", n)))
	} else if b.FunctionSourceCode != "" {
		if _, err := base64.StdEncoding.DecodeString(b.FunctionSourceCode); err != nil {
			// Never echo the value: source code can be large and may hold secrets.
			allErrs = append(allErrs, field.Invalid(p.Child("functionSourceCode"), "<source code>", "must be standard base64: "+err.Error()))
		}
	}
	if b.BuildTimeoutSeconds != nil && *b.BuildTimeoutSeconds < 0 {
		allErrs = append(allErrs, field.Invalid(p.Child("buildTimeoutSeconds"), *b.BuildTimeoutSeconds, "must be greater than or equal to 0"))
	}
	for _, key := range sortedKeys(b.Directives) {
		if key != "preCopy" && key != "postCopy" {
			allErrs = append(allErrs, field.NotSupported(p.Child("directives").Key(key), key, []string{"preCopy", "postCopy"}))
		}
	}
	if b.CodeEntryAttributes != nil {
		if wd, ok := b.CodeEntryAttributes["workDir"]; ok {
			if _, isString := wd.(string); !isString {
				allErrs = append(allErrs, field.Invalid(p.Child("codeEntryAttributes", "workDir"), wd, "must be a string"))
			}
		}
		if h, ok := b.CodeEntryAttributes["headers"]; ok {
			headers, isMap := h.(map[string]interface{})
			if !isMap {
				allErrs = append(allErrs, field.Invalid(p.Child("codeEntryAttributes", "headers"), "", "must be a map of header name to string value"))
			}
			for _, name := range sortedKeys(headers) {
				if _, isString := headers[name].(string); !isString {
					allErrs = append(allErrs, field.Invalid(p.Child("codeEntryAttributes", "headers").Key(name), "", "must be a string"))
				}
			}
		}
	}
	return allErrs
}

func validateVolumes(volumes []nuclio.Volume, p *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	byMount := map[string]int{}
	for i, v := range volumes {
		vp := p.Index(i)
		if v.Volume.Name == "" {
			allErrs = append(allErrs, field.Required(vp.Child("volume", "name"), ""))
		}
		if v.VolumeMount.Name == "" {
			allErrs = append(allErrs, field.Required(vp.Child("volumeMount", "name"), ""))
		}
		if v.Volume.Name != "" && v.VolumeMount.Name != "" && v.Volume.Name != v.VolumeMount.Name {
			allErrs = append(allErrs, field.Invalid(vp.Child("volumeMount", "name"), v.VolumeMount.Name, fmt.Sprintf("must equal volume.name %q", v.Volume.Name)))
		}
		if v.VolumeMount.Name == "" {
			continue
		}
		if first, seen := byMount[v.VolumeMount.Name]; seen {
			if !apiequality.Semantic.DeepEqual(volumes[first].Volume, v.Volume) {
				allErrs = append(allErrs, field.Invalid(vp.Child("volume"), v.Volume.Name, fmt.Sprintf("volumes sharing the mount %q must be identical to spec.volumes[%d].volume", v.VolumeMount.Name, first)))
			}
		} else {
			byMount[v.VolumeMount.Name] = i
		}
	}
	return allErrs
}

func validateContainers(containers []corev1.Container, sidecar bool, p *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	for i, c := range containers {
		cp := p.Index(i)
		if c.Name == "" {
			allErrs = append(allErrs, field.Required(cp.Child("name"), ""))
		} else {
			for _, msg := range utilvalidation.IsDNS1123Label(c.Name) {
				allErrs = append(allErrs, field.Invalid(cp.Child("name"), c.Name, msg))
			}
		}
		if c.Image == "" {
			allErrs = append(allErrs, field.Required(cp.Child("image"), ""))
		}
		if !sidecar {
			continue
		}
		names, numbers := sets.New[string](), sets.New[int32]()
		for j, port := range c.Ports {
			pp := cp.Child("ports").Index(j)
			switch {
			case port.ContainerPort <= 0 || port.ContainerPort > 65535:
				allErrs = append(allErrs, field.Invalid(pp.Child("containerPort"), port.ContainerPort, "must be a port number"))
			case reservedPorts.Has(port.ContainerPort):
				allErrs = append(allErrs, field.Forbidden(pp.Child("containerPort"), fmt.Sprintf("port %d is reserved for the Nuclio processor (8080, 8081, 8082, 8090)", port.ContainerPort)))
			case numbers.Has(port.ContainerPort):
				allErrs = append(allErrs, field.Duplicate(pp.Child("containerPort"), port.ContainerPort))
			}
			switch {
			case port.Name == "":
				allErrs = append(allErrs, field.Required(pp.Child("name"), "sidecar ports must be named"))
			case reservedPortNames.Has(port.Name):
				allErrs = append(allErrs, field.Forbidden(pp.Child("name"), fmt.Sprintf("port name %q is reserved for the Nuclio processor", port.Name)))
			case names.Has(port.Name):
				allErrs = append(allErrs, field.Duplicate(pp.Child("name"), port.Name))
			}
			names.Insert(port.Name)
			numbers.Insert(port.ContainerPort)
		}
	}
	return allErrs
}

func validateAutoScaleMetrics(metrics []nuclio.AutoScaleMetric, p *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	for i, m := range metrics {
		mp := p.Index(i)
		if m.MetricName == "" {
			allErrs = append(allErrs, field.Required(mp.Child("metricName"), ""))
		}
		if m.SourceType == "" {
			allErrs = append(allErrs, field.Required(mp.Child("sourceType"), ""))
		} else if !metricSourceTypes.Has(m.SourceType) {
			allErrs = append(allErrs, field.NotSupported(mp.Child("sourceType"), m.SourceType, sets.List(metricSourceTypes)))
		}
		if !metricDisplayTypes.Has(m.DisplayType) {
			allErrs = append(allErrs, field.NotSupported(mp.Child("displayType"), m.DisplayType, sets.List(metricDisplayTypes)[1:]))
		}
		if m.Threshold <= 0 {
			allErrs = append(allErrs, field.Invalid(mp.Child("threshold"), m.Threshold, "must be greater than 0"))
		}
	}
	return allErrs
}

func validateProjectLabel(labels map[string]string, p *field.Path) field.ErrorList {
	project, ok := labels[v1beta1.LabelProjectName]
	if !ok || project == "" {
		return nil // defaulted to "default" before validation
	}
	var allErrs field.ErrorList
	for _, msg := range utilvalidation.IsDNS1123Label(project) {
		allErrs = append(allErrs, field.Invalid(p.Key(v1beta1.LabelProjectName), project, "must name a project: "+msg))
	}
	return allErrs
}

// FunctionWarnings returns deprecation warnings for a function ("path: message").
func FunctionWarnings(fn *nuclio.NuclioFunction) []string {
	var warnings []string
	spec := field.NewPath("spec")
	if deprecatedRuntimes.Has(fn.Spec.Runtime) {
		warnings = append(warnings, fmt.Sprintf("%s: %s is deprecated by Nuclio; use python:3.9 or newer", spec.Child("runtime"), fn.Spec.Runtime))
	}
	if fn.Spec.Build.CodeEntryType == "github" {
		warnings = append(warnings, fmt.Sprintf("%s: the github code entry type is deprecated (removal planned in Nuclio 1.16); use git", spec.Child("build", "codeEntryType")))
	}
	for _, key := range sortedKeys(fn.Spec.Triggers) {
		if fn.Spec.Triggers[key].MaxWorkers != 0 {
			warnings = append(warnings, fmt.Sprintf("%s: maxWorkers is deprecated; use numWorkers", spec.Child("triggers").Key(key).Child("maxWorkers")))
		}
	}
	if fn.Spec.ServiceType != "" {
		warnings = append(warnings, fmt.Sprintf("%s: deprecated; set attributes.serviceType on the http trigger", spec.Child("serviceType")))
	}
	return warnings
}
