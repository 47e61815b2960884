// Copyright The nuclio-apiserver Authors.
// SPDX-License-Identifier: Apache-2.0

// Package config is the configuration file of nuclio-controller (its --config flag): the platform
// settings Nuclio reads from its platform configuration, the dashboard's environment and its Helm values
// (registries, Kaniko, defaults for function resources, service types and ingresses), in one strictly
// decoded YAML document. See artifacts/controller/config.yaml for an annotated example.
package config

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	apimachineryvalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
	kjson "sigs.k8s.io/json"
	"sigs.k8s.io/yaml"

	"github.com/nuclio-apiserver/nuclio-apiserver/pkg/build"
)

// Defaults of Config (Nuclio's, where Nuclio has one).
const (
	// DefaultReadinessTimeout is how long a function may take to become ready (platform
	// readinessTimeoutSeconds, nuclio/nuclio:pkg/platformconfig/types.go).
	DefaultReadinessTimeout = 120 * time.Second
	// DefaultIngressClass is the class of function and API gateway Ingresses
	// (kube.defaultHTTPIngressClassName).
	DefaultIngressClass = "nginx"
	// DefaultPlatformConfigMap is the optional ConfigMap mounted into processors as platform.yaml.
	DefaultPlatformConfigMap = "nuclio-platform-config"
	// DefaultPolicyNamespace and DefaultPolicyName locate the build-source policy's parameter ConfigMap
	// (artifacts/policies/build-sources.yaml).
	DefaultPolicyNamespace = "nuclio-system"
	DefaultPolicyName      = "nuclio-build-source-policy"
)

// DefaultFunctionRequests are the processor's requests when neither the function nor the configuration
// sets them (nuclio/nuclio:pkg/platformconfig/platformconfig.go: cpu 25m, memory 1Mi).
func DefaultFunctionRequests() corev1.ResourceList {
	return corev1.ResourceList{
		corev1.ResourceCPU:    resource.MustParse("25m"),
		corev1.ResourceMemory: resource.MustParse("1Mi"),
	}
}

// Config is nuclio-controller's configuration. Unknown fields are errors; durations are Go durations
// (`90s`, `1h`). Every field is optional.
type Config struct {
	// Namespace limits the controller to one namespace (Nuclio's namespaced mode); empty watches all.
	// The --namespace flag overrides it.
	Namespace string `json:"namespace,omitempty"`

	// Registry is the push registry of functions whose spec.build.registry is empty, e.g.
	// `registry.example.com/nuclio` (NUCLIO_DASHBOARD_REGISTRY_URL). Without it, such functions fail to
	// build with a message naming spec.build.registry.
	Registry string `json:"registry,omitempty"`
	// RunRegistry is the registry processors pull from when it differs from the push registry
	// (registry.runRegistryURL).
	RunRegistry string `json:"runRegistry,omitempty"`
	// RegistrySecret is a kubernetes.io/dockerconfigjson Secret, expected in each function's namespace,
	// that Kaniko pushes with and that processor pods pull with unless spec.imagePullSecrets names
	// another. Empty: anonymous pushes and pulls.
	RegistrySecret string `json:"registrySecret,omitempty"`

	// KanikoImage runs builds; default build.DefaultKanikoImage (a maintained Kaniko fork, pinned).
	KanikoImage string `json:"kanikoImage,omitempty"`
	// KanikoImagePullPolicy; default IfNotPresent.
	KanikoImagePullPolicy corev1.PullPolicy `json:"kanikoImagePullPolicy,omitempty"`
	// FetcherImage runs cmd/nuclio-fetcher; default ghcr.io/nuclio-apiserver/nuclio-fetcher:<version>.
	FetcherImage string `json:"fetcherImage,omitempty"`
	// FetcherImagePullPolicy; default IfNotPresent.
	FetcherImagePullPolicy corev1.PullPolicy `json:"fetcherImagePullPolicy,omitempty"`
	// BuildImagePullSecrets are Secrets in each function's namespace to pull the Kaniko and fetcher images.
	BuildImagePullSecrets []string `json:"buildImagePullSecrets,omitempty"`
	// BuilderServiceAccount is the ServiceAccount of build pods (created by the controller in the
	// function's namespace when missing, with automountServiceAccountToken false); default nuclio-builder.
	// spec.build.builderServiceAccount overrides it per function.
	BuilderServiceAccount string `json:"builderServiceAccount,omitempty"`
	// BuildTimeout bounds builds whose spec.build.buildTimeoutSeconds is not positive; default 1h.
	BuildTimeout metav1.Duration `json:"buildTimeout,omitempty"`
	// JobTTLSecondsAfterFinished keeps finished build Jobs (and their logs) this long; default 600,
	// -1 keeps them until their function is deleted. 0 is refused: the controller reads a failed
	// build's reason from its pod.
	JobTTLSecondsAfterFinished *int32 `json:"jobTTLSecondsAfterFinished,omitempty"`
	// KanikoCacheRepo is Kaniko's --cache-repo; default: Kaniko's (<image repository>/cache).
	KanikoCacheRepo string `json:"kanikoCacheRepo,omitempty"`
	// InsecurePushRegistry and InsecurePullRegistry let Kaniko use plain-HTTP registries.
	InsecurePushRegistry bool `json:"insecurePushRegistry,omitempty"`
	InsecurePullRegistry bool `json:"insecurePullRegistry,omitempty"`
	// PushRetries and ImageFSExtractRetries of Kaniko; default 3 each.
	PushRetries           int32 `json:"pushRetries,omitempty"`
	ImageFSExtractRetries int32 `json:"imageFSExtractRetries,omitempty"`
	// BuildResources and FetcherResources are the resources of the Kaniko and fetcher containers.
	BuildResources   corev1.ResourceRequirements `json:"buildResources,omitempty"`
	FetcherResources corev1.ResourceRequirements `json:"fetcherResources,omitempty"`
	// FetchLimits bound what one build may download and unpack; zero fields take pkg/fetch's defaults.
	FetchLimits FetchLimits `json:"fetchLimits,omitempty"`
	// BuildSourcePolicy names the parameter ConfigMap of the build-source ValidatingAdmissionPolicy. The
	// controller checks each function against it before building and hands its data to the fetcher,
	// which enforces it at connect time. Default nuclio-system/nuclio-build-source-policy; a missing
	// ConfigMap stops builds (fail closed). Set `{name: ""}` to use the built-in default policy.
	BuildSourcePolicy *ObjectRef `json:"buildSourcePolicy,omitempty"`

	// BaseRegistry, OnbuildRegistry, BaseRegistryOverrides, OnbuildRegistryOverrides and
	// DependantImageRegistry move the runtimes' base and onbuild images for air-gapped sites (see
	// build.Config); NuclioLabel and Arch tag the onbuild images (default 1.14.1 and amd64).
	BaseRegistry             string            `json:"baseRegistry,omitempty"`
	OnbuildRegistry          string            `json:"onbuildRegistry,omitempty"`
	BaseRegistryOverrides    map[string]string `json:"baseRegistryOverrides,omitempty"`
	OnbuildRegistryOverrides map[string]string `json:"onbuildRegistryOverrides,omitempty"`
	DependantImageRegistry   string            `json:"dependantImageRegistry,omitempty"`
	NuclioLabel              string            `json:"nuclioLabel,omitempty"`
	Arch                     string            `json:"arch,omitempty"`
	// BuildArgs and PythonBuildArgs are Dockerfile ARGs for every runtime and for python
	// (platform runtime.common.buildArgs, runtime.python.buildArgs).
	BuildArgs       map[string]string `json:"buildArgs,omitempty"`
	PythonBuildArgs map[string]string `json:"pythonBuildArgs,omitempty"`
	// ImageNamePrefixTemplate names images `<prefix>processor` (dashboard imageNamePrefixTemplate).
	ImageNamePrefixTemplate string `json:"imageNamePrefixTemplate,omitempty"`

	// DefaultServiceType of function Services when neither the http trigger's attributes.serviceType
	// nor spec.serviceType sets one: ClusterIP (default) or NodePort.
	DefaultServiceType corev1.ServiceType `json:"defaultServiceType,omitempty"`
	// DefaultIngressClass of function and API gateway Ingresses; default nginx.
	DefaultIngressClass string `json:"defaultIngressClass,omitempty"`
	// DefaultHTTPIngressAnnotations are added to function Ingresses where the http trigger does not set
	// them (kube.defaultHTTPIngressAnnotations).
	DefaultHTTPIngressAnnotations map[string]string `json:"defaultHTTPIngressAnnotations,omitempty"`
	// DefaultHTTPIngressHostTemplate is the host template an http trigger ingress selects with
	// `hostTemplate: "@nuclio.fromDefault"` (kube.defaultHTTPIngressHostTemplate), e.g.
	// `{{ .ResourceName }}.{{ .Namespace }}.example.com`.
	DefaultHTTPIngressHostTemplate string `json:"defaultHTTPIngressHostTemplate,omitempty"`
	// DefaultFunctionResources fill the processor's requests and limits the function leaves unset
	// (kube.defaultFunctionPodResources); requests default to cpu 25m and memory 1Mi.
	DefaultFunctionResources corev1.ResourceRequirements `json:"defaultFunctionResources,omitempty"`
	// DefaultFunctionNodeSelector is the platform's node selector, under the project's and the function's.
	DefaultFunctionNodeSelector map[string]string `json:"defaultFunctionNodeSelector,omitempty"`
	// ReadinessTimeout applies to functions whose readinessTimeoutSeconds is 0; default 120s. It becomes
	// the Deployment's progressDeadlineSeconds: a rollout that makes no progress for that long marks the
	// function unhealthy.
	ReadinessTimeout metav1.Duration `json:"readinessTimeout,omitempty"`
	// PlatformConfigMap is mounted (optionally) into processors at /etc/nuclio/config/platform; default
	// nuclio-platform-config.
	PlatformConfigMap string `json:"platformConfigMap,omitempty"`
}

// ObjectRef names a namespaced object.
type ObjectRef struct {
	Namespace string `json:"namespace,omitempty"`
	Name      string `json:"name,omitempty"`
}

// FetchLimits are the fetcher's caps (pkg/fetch Limits).
type FetchLimits struct {
	MaxDownloadBytes int64 `json:"maxDownloadBytes,omitempty"`
	MaxTotalBytes    int64 `json:"maxTotalBytes,omitempty"`
	MaxFileBytes     int64 `json:"maxFileBytes,omitempty"`
	MaxEntries       int   `json:"maxEntries,omitempty"`
}

// Default returns the configuration used without --config.
func Default() *Config {
	c := &Config{}
	c.SetDefaults()
	return c
}

// Load parses a configuration file strictly (unknown or duplicate fields are errors), applies the
// defaults and validates the result. Errors name the offending field.
func Load(data []byte) (*Config, error) {
	js, err := yaml.YAMLToJSON(data)
	if err != nil {
		return nil, fmt.Errorf("controller config: not valid YAML: %w", err)
	}
	if string(js) == "null" {
		return Default(), nil
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(js, &fields); err != nil {
		return nil, fmt.Errorf("controller config: must be a mapping: %w", err)
	}
	for _, name := range []string{"buildTimeout", "readinessTimeout"} {
		if raw, ok := fields[name]; ok {
			var d metav1.Duration
			if err := json.Unmarshal(raw, &d); err != nil {
				return nil, fmt.Errorf("controller config: %s: must be a duration such as 90s or 1h: %w", name, err)
			}
		}
	}
	c := &Config{}
	strictErrs, err := kjson.UnmarshalStrict(js, c)
	if err != nil {
		return nil, fmt.Errorf("controller config: %w", err)
	}
	if len(strictErrs) > 0 {
		return nil, fmt.Errorf("controller config: %w", errors.Join(strictErrs...))
	}
	c.SetDefaults()
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return c, nil
}

// SetDefaults fills unset fields with their defaults.
func (c *Config) SetDefaults() {
	if c.KanikoImage == "" {
		c.KanikoImage = build.DefaultKanikoImage
	}
	if c.KanikoImagePullPolicy == "" {
		c.KanikoImagePullPolicy = corev1.PullIfNotPresent
	}
	if c.FetcherImage == "" {
		c.FetcherImage = build.DefaultFetcherImage()
	}
	if c.FetcherImagePullPolicy == "" {
		c.FetcherImagePullPolicy = corev1.PullIfNotPresent
	}
	if c.BuilderServiceAccount == "" {
		c.BuilderServiceAccount = build.DefaultBuilderServiceAccount
	}
	if c.BuildTimeout.Duration == 0 {
		c.BuildTimeout.Duration = time.Duration(build.DefaultBuildTimeoutSeconds) * time.Second
	}
	if c.JobTTLSecondsAfterFinished == nil {
		ttl := build.DefaultJobTTLSecondsAfterFinished
		c.JobTTLSecondsAfterFinished = &ttl
	}
	if c.PushRetries == 0 {
		c.PushRetries = build.DefaultPushRetries
	}
	if c.ImageFSExtractRetries == 0 {
		c.ImageFSExtractRetries = build.DefaultImageFSExtractRetries
	}
	if c.BuildSourcePolicy == nil {
		c.BuildSourcePolicy = &ObjectRef{Namespace: DefaultPolicyNamespace, Name: DefaultPolicyName}
	} else if c.BuildSourcePolicy.Name != "" && c.BuildSourcePolicy.Namespace == "" {
		c.BuildSourcePolicy.Namespace = DefaultPolicyNamespace
	}
	if c.DefaultServiceType == "" {
		c.DefaultServiceType = corev1.ServiceTypeClusterIP
	}
	if c.DefaultIngressClass == "" {
		c.DefaultIngressClass = DefaultIngressClass
	}
	if c.DefaultFunctionResources.Requests == nil {
		c.DefaultFunctionResources.Requests = corev1.ResourceList{}
	}
	for name, q := range DefaultFunctionRequests() {
		if _, ok := c.DefaultFunctionResources.Requests[name]; !ok {
			c.DefaultFunctionResources.Requests[name] = q
		}
	}
	if c.ReadinessTimeout.Duration == 0 {
		c.ReadinessTimeout.Duration = DefaultReadinessTimeout
	}
	if c.PlatformConfigMap == "" {
		c.PlatformConfigMap = DefaultPlatformConfigMap
	}
}

// Validate checks a defaulted configuration; the error lists every problem with its field path.
func (c *Config) Validate() error {
	root := field.NewPath("config")
	var errs field.ErrorList
	if c.Namespace != "" {
		for _, msg := range validation.IsDNS1123Label(c.Namespace) {
			errs = append(errs, field.Invalid(root.Child("namespace"), c.Namespace, msg))
		}
	}
	for name, v := range map[string]string{
		"registrySecret":        c.RegistrySecret,
		"builderServiceAccount": c.BuilderServiceAccount,
		"platformConfigMap":     c.PlatformConfigMap,
	} {
		if v == "" {
			continue
		}
		for _, msg := range validation.IsDNS1123Subdomain(v) {
			errs = append(errs, field.Invalid(root.Child(name), v, msg))
		}
	}
	for i, v := range c.BuildImagePullSecrets {
		for _, msg := range validation.IsDNS1123Subdomain(v) {
			errs = append(errs, field.Invalid(root.Child("buildImagePullSecrets").Index(i), v, msg))
		}
	}
	for name, p := range map[string]corev1.PullPolicy{"kanikoImagePullPolicy": c.KanikoImagePullPolicy, "fetcherImagePullPolicy": c.FetcherImagePullPolicy} {
		switch p {
		case corev1.PullAlways, corev1.PullIfNotPresent, corev1.PullNever:
		default:
			errs = append(errs, field.NotSupported(root.Child(name), p, []corev1.PullPolicy{corev1.PullAlways, corev1.PullIfNotPresent, corev1.PullNever}))
		}
	}
	if c.BuildTimeout.Duration < time.Second {
		errs = append(errs, field.Invalid(root.Child("buildTimeout"), c.BuildTimeout.Duration.String(), "must be at least 1s"))
	}
	if c.ReadinessTimeout.Duration < time.Second {
		errs = append(errs, field.Invalid(root.Child("readinessTimeout"), c.ReadinessTimeout.Duration.String(), "must be at least 1s"))
	}
	if ttl := c.JobTTLSecondsAfterFinished; ttl != nil && (*ttl < -1 || *ttl == 0) {
		// 0 would delete a finished Job before the controller can read why it failed.
		errs = append(errs, field.Invalid(root.Child("jobTTLSecondsAfterFinished"), *ttl, "must be -1 (keep finished Jobs) or positive"))
	}
	if c.PushRetries < 0 {
		errs = append(errs, field.Invalid(root.Child("pushRetries"), c.PushRetries, "must not be negative"))
	}
	if c.ImageFSExtractRetries < 0 {
		errs = append(errs, field.Invalid(root.Child("imageFSExtractRetries"), c.ImageFSExtractRetries, "must not be negative"))
	}
	fl := root.Child("fetchLimits")
	for name, v := range map[string]int64{"maxDownloadBytes": c.FetchLimits.MaxDownloadBytes, "maxTotalBytes": c.FetchLimits.MaxTotalBytes,
		"maxFileBytes": c.FetchLimits.MaxFileBytes, "maxEntries": int64(c.FetchLimits.MaxEntries)} {
		if v < 0 {
			errs = append(errs, field.Invalid(fl.Child(name), v, "must not be negative"))
		}
	}
	if p := c.BuildSourcePolicy; p != nil && p.Name != "" {
		for _, msg := range validation.IsDNS1123Subdomain(p.Name) {
			errs = append(errs, field.Invalid(root.Child("buildSourcePolicy", "name"), p.Name, msg))
		}
		for _, msg := range validation.IsDNS1123Label(p.Namespace) {
			errs = append(errs, field.Invalid(root.Child("buildSourcePolicy", "namespace"), p.Namespace, msg))
		}
	}
	switch c.DefaultServiceType {
	case corev1.ServiceTypeClusterIP, corev1.ServiceTypeNodePort:
	default:
		errs = append(errs, field.NotSupported(root.Child("defaultServiceType"), c.DefaultServiceType, []corev1.ServiceType{corev1.ServiceTypeClusterIP, corev1.ServiceTypeNodePort}))
	}
	for _, msg := range validation.IsDNS1123Subdomain(c.DefaultIngressClass) {
		errs = append(errs, field.Invalid(root.Child("defaultIngressClass"), c.DefaultIngressClass, msg))
	}
	errs = append(errs, apimachineryvalidation.ValidateAnnotations(c.DefaultHTTPIngressAnnotations, root.Child("defaultHTTPIngressAnnotations"))...)
	errs = append(errs, metav1validation.ValidateLabels(c.DefaultFunctionNodeSelector, root.Child("defaultFunctionNodeSelector"))...)
	if err := c.BuildConfig().Validate(); err != nil {
		errs = append(errs, field.Invalid(root, "", err.Error()))
	}
	if len(errs) > 0 {
		return fmt.Errorf("controller config: %w", errs.ToAggregate())
	}
	return nil
}

// BuildConfig returns the build.Config of c: what decides Dockerfiles and image names.
func (c *Config) BuildConfig() build.Config {
	return build.Config{
		OnbuildRegistry:          c.OnbuildRegistry,
		BaseRegistry:             c.BaseRegistry,
		OnbuildRegistryOverrides: c.OnbuildRegistryOverrides,
		BaseRegistryOverrides:    c.BaseRegistryOverrides,
		DependantImageRegistry:   c.DependantImageRegistry,
		Label:                    c.NuclioLabel,
		Arch:                     c.Arch,
		BuildArgs:                c.BuildArgs,
		PythonBuildArgs:          c.PythonBuildArgs,
		Registry:                 c.Registry,
		RunRegistry:              c.RunRegistry,
		ImageNamePrefixTemplate:  c.ImageNamePrefixTemplate,
	}
}

// JobConfig returns the build.JobConfig of c: how build Jobs run.
func (c *Config) JobConfig() build.JobConfig {
	ttl := build.DefaultJobTTLSecondsAfterFinished
	if c.JobTTLSecondsAfterFinished != nil {
		ttl = *c.JobTTLSecondsAfterFinished
	}
	var fetcherArgs []string
	for _, l := range []struct {
		flag  string
		value int64
	}{
		{"--max-download-bytes", c.FetchLimits.MaxDownloadBytes},
		{"--max-total-bytes", c.FetchLimits.MaxTotalBytes},
		{"--max-file-bytes", c.FetchLimits.MaxFileBytes},
		{"--max-entries", int64(c.FetchLimits.MaxEntries)},
	} {
		if l.value > 0 {
			fetcherArgs = append(fetcherArgs, fmt.Sprintf("%s=%d", l.flag, l.value))
		}
	}
	return build.JobConfig{
		KanikoImage:             c.KanikoImage,
		KanikoImagePullPolicy:   c.KanikoImagePullPolicy,
		FetcherImage:            c.FetcherImage,
		FetcherImagePullPolicy:  c.FetcherImagePullPolicy,
		ImagePullSecrets:        c.BuildImagePullSecrets,
		ServiceAccountName:      c.BuilderServiceAccount,
		RegistrySecret:          c.RegistrySecret,
		CacheRepo:               c.KanikoCacheRepo,
		InsecurePush:            c.InsecurePushRegistry,
		InsecurePull:            c.InsecurePullRegistry,
		PushRetries:             c.PushRetries,
		ImageFSExtractRetries:   c.ImageFSExtractRetries,
		DefaultTimeoutSeconds:   int64(c.BuildTimeout.Duration / time.Second),
		TTLSecondsAfterFinished: ttl,
		KanikoResources:         c.BuildResources,
		FetcherResources:        c.FetcherResources,
		FetcherArgs:             fetcherArgs,
	}
}

// PolicyKey returns the key of the build-source policy ConfigMap, and false when the built-in default
// policy is configured.
func (c *Config) PolicyKey() (types.NamespacedName, bool) {
	if c.BuildSourcePolicy == nil || c.BuildSourcePolicy.Name == "" {
		return types.NamespacedName{}, false
	}
	return types.NamespacedName{Namespace: c.BuildSourcePolicy.Namespace, Name: c.BuildSourcePolicy.Name}, true
}
