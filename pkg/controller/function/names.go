// Copyright The nuclio-apiserver Authors.
// SPDX-License-Identifier: Apache-2.0

package function

import (
	"github.com/nuclio-apiserver/nuclio-apiserver/apis/nuclio/v1beta1"
	"github.com/nuclio-apiserver/nuclio-apiserver/pkg/masking"
)

// Values of Nuclio's class labels on function child resources (nuclio/nuclio:pkg/platform/kube/
// functionres/lazy.go initClassLabels) and the version label (always `latest`).
const (
	ClassFunction   = "function"
	AppFunctionRes  = "functionres"
	VersionLatest   = "latest"
	ContainerName   = "nuclio"
	HTTPPortName    = "http"
	HTTPPort        = 8080
	WebAdminPort    = 8081
	HealthPort      = 8082
	MetricsPort     = 8090
	ReadinessPath   = "/__internal/health"
	LivenessPath    = "/live"
	ProcessorConfig = "processor.yaml"
	// ProcessorConfigDir and PlatformConfigDir are where the processor reads processor.yaml and
	// platform.yaml (nuclio/nuclio:cmd/processor/main.go defaults).
	ProcessorConfigDir = "/etc/nuclio/config/processor"
	PlatformConfigDir  = "/etc/nuclio/config/platform"
)

// Volume names of processor pods (lazy.go getFunctionVolumeAndMounts).
const (
	VolumeProcessorConfig = "processor-config-volume"
	VolumePlatformConfig  = "platform-config-volume"
	VolumeFunctionSecret  = "function-secret"
)

// Pod template annotations that roll the processor when what they digest changes.
const (
	// AnnotationImageHash is Nuclio's: spec.imageHash (lazy.go getPodAnnotations).
	AnnotationImageHash = "nuclio.io/image-hash"
	// AnnotationConfigHash digests processor.yaml.
	AnnotationConfigHash = "nuclio.io/config-hash"
	// AnnotationSecretHash digests the function Secret's data when it is mounted.
	AnnotationSecretHash = "nuclio.io/secret-hash"
	// AnnotationImageBuild names the build Job whose image runs; a rebuild to the same tag rolls pods.
	AnnotationImageBuild = "nuclio.io/image-build"
	// annotationDefaultContainer makes kubectl logs/exec pick the processor.
	annotationDefaultContainer = "kubectl.kubernetes.io/default-container"
)

// Environment variables of the processor container (lazy.go getFunctionEnvironment).
const (
	EnvFunctionName     = "NUCLIO_FUNCTION_NAME"
	EnvFunctionVersion  = "NUCLIO_FUNCTION_VERSION"
	EnvFunctionInstance = "NUCLIO_FUNCTION_INSTANCE"
)

// ChildName returns the name of a function's ConfigMap, Deployment, Service, HPA and Ingress:
// `nuclio-<function>` (nuclio/nuclio:pkg/platform/kube/types.go).
func ChildName(function string) string { return "nuclio-" + function }

// ProjectName returns the project of an object from its labels, "default" when it names none.
func ProjectName(labels map[string]string) string {
	if p := labels[v1beta1.LabelProjectName]; p != "" {
		return p
	}
	return v1beta1.DefaultProjectName
}

// Labels returns the labels of fn's child resources and pods: the function's own labels plus Nuclio's
// class labels, function name and version, and the project (lazy.go getFunctionLabels).
func Labels(fn *v1beta1.NuclioFunction) map[string]string {
	out := make(map[string]string, len(fn.Labels)+5)
	for k, v := range fn.Labels {
		out[k] = v
	}
	out[v1beta1.LabelProjectName] = ProjectName(fn.Labels)
	out[v1beta1.LabelFunctionName] = fn.Name
	out[v1beta1.LabelFunctionVersion] = VersionLatest
	out[v1beta1.LabelClass] = ClassFunction
	out[v1beta1.LabelApp] = AppFunctionRes
	return out
}

// SelectorLabels returns the selector of fn's Deployment and Service. Nuclio selects with every label
// of the function, which makes a function's labels immutable once deployed (a Deployment's selector
// cannot change); these three are fixed for the function's life.
func SelectorLabels(name string) map[string]string {
	return map[string]string{
		v1beta1.LabelFunctionName: name,
		v1beta1.LabelClass:        ClassFunction,
		v1beta1.LabelApp:          AppFunctionRes,
	}
}

// SecretName returns the name of fn's credentials Secret, written by the masking webhook.
func SecretName(function string) (string, error) {
	return masking.SecretName(masking.KindFunction, function)
}
