// Copyright The nuclio-apiserver Authors.
// SPDX-License-Identifier: Apache-2.0

package function

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"text/template"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/yaml"

	"github.com/nuclio-apiserver/nuclio-apiserver/apis/nuclio/v1beta1"
	"github.com/nuclio-apiserver/nuclio-apiserver/pkg/controller/config"
	"github.com/nuclio-apiserver/nuclio-apiserver/pkg/masking"
)

// The desired state of a function's processor resources, after Nuclio 1.14.1's
// nuclio/nuclio:pkg/platform/kube/functionres/lazy.go (nuclio-compat §6). Every builder here is a pure
// function of the function, the controller configuration and what was read from the cluster, so that the
// same inputs always give the same objects (and the same desired-state hash).

// lastAppliedAnnotation is kubectl's client-side-apply annotation; children do not inherit it.
const lastAppliedAnnotation = "kubectl.kubernetes.io/last-applied-configuration"

// gpuResource is the resource whose positive limit makes Nuclio roll out with Recreate.
const gpuResource corev1.ResourceName = "nvidia.com/gpu"

// processorConfiguration is the shape of processor.yaml: Nuclio's processor.Configuration, i.e. an
// embedded functionconfig.Config (`metadata`, `spec`) and an untagged PlatformConfig pointer
// (nuclio/nuclio:pkg/processor/types.go, written by pkg/processor/config/writer.go with sigs.k8s.io/yaml).
type processorConfiguration struct {
	Metadata       processorMeta        `json:"metadata"`
	Spec           v1beta1.FunctionSpec `json:"spec"`
	PlatformConfig *struct{}            `json:"PlatformConfig"`
}

// processorMeta is functionconfig.Meta.
type processorMeta struct {
	Name        string            `json:"name,omitempty"`
	Namespace   string            `json:"namespace,omitempty"`
	Labels      map[string]string `json:"labels,omitempty"`
	Annotations map[string]string `json:"annotations,omitempty"`
}

// functionAnnotations returns fn's annotations without kubectl's last-applied-configuration.
func functionAnnotations(fn *v1beta1.NuclioFunction) map[string]string {
	out := map[string]string{}
	for k, v := range fn.Annotations {
		if k != lastAppliedAnnotation {
			out[k] = v
		}
	}
	return out
}

// processorEnvFromSpec returns spec.env without the restore switch, which only the controller sets
// (Nuclio strips it from the stored spec too, lazy.go getFunctionEnvironment).
func processorEnvFromSpec(env []corev1.EnvVar) []corev1.EnvVar {
	var out []corev1.EnvVar
	for _, e := range env {
		if e.Name != masking.RestoreFromSecretEnvVar {
			out = append(out, e)
		}
	}
	return out
}

// desiredConfigMap returns ConfigMap nuclio-<fn> with processor.yaml: the function's metadata (labels
// are the child labels) and its spec as stored, i.e. with `$ref:` tokens that the processor restores
// from the mounted Secret, with spec.image set to the image that runs, version -1 and alias latest
// (what Nuclio's deployer writes, nuclio/nuclio:pkg/platform/kube/client/deployer.go).
func desiredConfigMap(fn *v1beta1.NuclioFunction, image string) (*corev1.ConfigMap, error) {
	spec := fn.Spec.DeepCopy()
	spec.Image = image
	spec.Version = -1
	spec.Alias = VersionLatest
	spec.Env = processorEnvFromSpec(spec.Env)
	annotations := functionAnnotations(fn)
	if len(annotations) == 0 {
		annotations = nil
	}
	body, err := yaml.Marshal(processorConfiguration{
		Metadata: processorMeta{Name: fn.Name, Namespace: fn.Namespace, Labels: Labels(fn), Annotations: annotations},
		Spec:     *spec,
	})
	if err != nil {
		return nil, fmt.Errorf("rendering %s: %w", ProcessorConfig, err)
	}
	return &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: ChildName(fn.Name), Namespace: fn.Namespace, Labels: Labels(fn)},
		Data:       map[string]string{ProcessorConfig: string(body)},
	}, nil
}

// computedReplicas returns the Deployment's replicas per Nuclio's GetComputedReplicas
// (nuclio/nuclio:pkg/platform/kube/apis/nuclio.io/v1beta1/types.go): 0 when disabled, spec.replicas
// (negative → 0) when set; otherwise fixed is false and the count is the computed minimum (or 1) for a
// new Deployment, while an existing one keeps its count clamped to [min, max] (the autoscaler owns it).
func computedReplicas(fn *v1beta1.NuclioFunction) (replicas int32, fixed bool) {
	switch {
	case fn.Spec.Disable:
		return 0, true
	case fn.Spec.Replicas != nil:
		return max(*fn.Spec.Replicas, 0), true
	}
	if m := computedMin(fn); m > 0 {
		return m, false
	}
	return 1, false
}

// computedMin and computedMax are GetComputedMinReplicas and GetComputedMaxReplicas: replicas wins,
// then min/max, then each other, then 1.
func computedMin(fn *v1beta1.NuclioFunction) int32 {
	switch {
	case fn.Spec.Replicas != nil:
		return max(*fn.Spec.Replicas, 0)
	case fn.Spec.MinReplicas != nil:
		return max(*fn.Spec.MinReplicas, 0)
	}
	return 1
}

func computedMax(fn *v1beta1.NuclioFunction) int32 {
	switch {
	case fn.Spec.Replicas != nil:
		return max(*fn.Spec.Replicas, 0)
	case fn.Spec.MaxReplicas != nil:
		return max(*fn.Spec.MaxReplicas, 0)
	case fn.Spec.MinReplicas != nil:
		return max(*fn.Spec.MinReplicas, 0)
	}
	return 1
}

// hpaBounds returns the autoscaler's bounds (each at least 1, lazy.go createOrUpdateHorizontalPodAutoscaler)
// and whether an autoscaler is wanted at all: only when they differ and the function is enabled.
func hpaBounds(fn *v1beta1.NuclioFunction) (minReplicas, maxReplicas int32, wanted bool) {
	minReplicas, maxReplicas = max(computedMin(fn), 1), max(computedMax(fn), 1)
	return minReplicas, maxReplicas, minReplicas != maxReplicas && !fn.Spec.Disable
}

// processorResources returns spec.resources with the configured defaults filling unset requests and
// limits (Nuclio's EnrichFunctionContainerResources).
func processorResources(fn *v1beta1.NuclioFunction, cfg *config.Config) corev1.ResourceRequirements {
	out := *fn.Spec.Resources.DeepCopy()
	fill := func(dst *corev1.ResourceList, defaults corev1.ResourceList) {
		for name, q := range defaults {
			if *dst == nil {
				*dst = corev1.ResourceList{}
			}
			if _, ok := (*dst)[name]; !ok {
				(*dst)[name] = q.DeepCopy()
			}
		}
	}
	fill(&out.Requests, cfg.DefaultFunctionResources.Requests)
	fill(&out.Limits, cfg.DefaultFunctionResources.Limits)
	// A default request above the function's own limit would make the pod invalid; the limit wins.
	for name, limit := range out.Limits {
		if req, ok := out.Requests[name]; ok && req.Cmp(limit) > 0 {
			if _, userSet := fn.Spec.Resources.Requests[name]; !userSet {
				out.Requests[name] = limit.DeepCopy()
			}
		}
	}
	return out
}

// deploymentInput is what the Deployment depends on beyond the function and the configuration.
type deploymentInput struct {
	image      string
	configHash string
	// secretName and secretHash describe the function Secret; secretName is empty when there is none.
	secretName, secretHash string
	// buildJob names the build whose image runs ("" for images not built here).
	buildJob string
}

// desiredDeployment returns Deployment nuclio-<fn> (lazy.go createOrUpdateDeployment,
// populateDeploymentContainer, getFunctionVolumeAndMounts). The replica count is the one for a new
// Deployment; mergeDeployment keeps an existing autoscaled count.
func desiredDeployment(fn *v1beta1.NuclioFunction, cfg *config.Config, in deploymentInput) *appsv1.Deployment {
	labels := Labels(fn)
	replicas, _ := computedReplicas(fn)

	podAnnotations := functionAnnotations(fn)
	if _, ok := podAnnotations[annotationDefaultContainer]; !ok {
		podAnnotations[annotationDefaultContainer] = ContainerName
	}
	if fn.Spec.ImageHash != "" {
		podAnnotations[AnnotationImageHash] = fn.Spec.ImageHash
	}
	podAnnotations[AnnotationConfigHash] = in.configHash
	if in.secretName != "" {
		podAnnotations[AnnotationSecretHash] = in.secretHash
	}
	if in.buildJob != "" {
		podAnnotations[AnnotationImageBuild] = in.buildJob
	}
	deploymentAnnotations := functionAnnotations(fn)
	if fn.Spec.Description != "" {
		deploymentAnnotations["description"] = fn.Spec.Description
	}

	// Volumes: the user's (hostPath is ignored, as Nuclio does), the processor and platform
	// configuration, and the function Secret when it exists; deduplicated and sorted by name so that the
	// order never causes a rollout.
	volumes := map[string]corev1.Volume{}
	var userMounts []corev1.VolumeMount
	for _, v := range fn.Spec.Volumes {
		if v.Volume.HostPath != nil {
			continue
		}
		volumes[v.Volume.Name] = *v.Volume.DeepCopy()
		mount := *v.VolumeMount.DeepCopy()
		if mount.Name == "" {
			mount.Name = v.Volume.Name
		}
		userMounts = append(userMounts, mount)
	}
	volumes[VolumeProcessorConfig] = corev1.Volume{Name: VolumeProcessorConfig, VolumeSource: corev1.VolumeSource{
		ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: ChildName(fn.Name)}},
	}}
	volumes[VolumePlatformConfig] = corev1.Volume{Name: VolumePlatformConfig, VolumeSource: corev1.VolumeSource{
		ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: cfg.PlatformConfigMap}, Optional: ptr.To(true)},
	}}
	mounts := append([]corev1.VolumeMount{}, userMounts...)
	mounts = append(mounts,
		corev1.VolumeMount{Name: VolumeProcessorConfig, MountPath: ProcessorConfigDir, ReadOnly: true},
		corev1.VolumeMount{Name: VolumePlatformConfig, MountPath: PlatformConfigDir, ReadOnly: true})
	env := processorEnvFromSpec(fn.Spec.Env)
	env = append(env,
		corev1.EnvVar{Name: EnvFunctionName, Value: fn.Name},
		corev1.EnvVar{Name: EnvFunctionVersion, Value: VersionLatest},
		corev1.EnvVar{Name: EnvFunctionInstance, ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{APIVersion: "v1", FieldPath: "metadata.name"}}})
	if in.secretName != "" {
		volumes[VolumeFunctionSecret] = corev1.Volume{Name: VolumeFunctionSecret, VolumeSource: corev1.VolumeSource{
			Secret: &corev1.SecretVolumeSource{SecretName: in.secretName},
		}}
		mounts = append(mounts, corev1.VolumeMount{Name: VolumeFunctionSecret, MountPath: masking.FunctionSecretMountPath, ReadOnly: true})
		env = append(env, corev1.EnvVar{Name: masking.RestoreFromSecretEnvVar, Value: "true"})
	}
	volumeList := make([]corev1.Volume, 0, len(volumes))
	for _, v := range volumes {
		volumeList = append(volumeList, v)
	}
	sort.Slice(volumeList, func(i, j int) bool { return volumeList[i].Name < volumeList[j].Name })
	sort.SliceStable(mounts, func(i, j int) bool { return mounts[i].Name < mounts[j].Name })

	pullPolicy := fn.Spec.ImagePullPolicy
	if pullPolicy == "" {
		// The tag of a rebuilt image does not change (latest), so Nuclio pulls always.
		pullPolicy = corev1.PullAlways
	}
	container := corev1.Container{
		Name:            ContainerName,
		Image:           in.image,
		ImagePullPolicy: pullPolicy,
		Resources:       processorResources(fn, cfg),
		Env:             env,
		EnvFrom:         fn.Spec.EnvFrom,
		Ports: []corev1.ContainerPort{
			{Name: HTTPPortName, ContainerPort: HTTPPort, Protocol: corev1.ProtocolTCP},
			{Name: "webadmin", ContainerPort: WebAdminPort, Protocol: corev1.ProtocolTCP},
			{Name: "health", ContainerPort: HealthPort, Protocol: corev1.ProtocolTCP},
			{Name: "metrics", ContainerPort: MetricsPort, Protocol: corev1.ProtocolTCP},
		},
		ReadinessProbe: &corev1.Probe{
			ProbeHandler:        corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: ReadinessPath, Port: intstr.FromInt32(HTTPPort), Scheme: corev1.URISchemeHTTP}},
			InitialDelaySeconds: 5,
			TimeoutSeconds:      1,
			PeriodSeconds:       1,
			SuccessThreshold:    1,
			FailureThreshold:    10,
		},
		LivenessProbe: &corev1.Probe{
			ProbeHandler:        corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: LivenessPath, Port: intstr.FromInt32(HealthPort), Scheme: corev1.URISchemeHTTP}},
			InitialDelaySeconds: 10,
			TimeoutSeconds:      3,
			PeriodSeconds:       5,
			SuccessThreshold:    1,
			FailureThreshold:    3,
		},
		VolumeMounts: mounts,
	}

	// Sidecars and init containers share the user volumes (Nuclio gives them every mount, the Secret
	// included; the credentials stay with the processor here).
	withUserMounts := func(c corev1.Container) corev1.Container {
		c = *c.DeepCopy()
		have := map[string]bool{}
		for _, m := range c.VolumeMounts {
			have[m.Name+"\x00"+m.MountPath] = true
		}
		for _, m := range userMounts {
			if !have[m.Name+"\x00"+m.MountPath] {
				c.VolumeMounts = append(c.VolumeMounts, m)
			}
		}
		return c
	}
	containers := []corev1.Container{container}
	for _, s := range fn.Spec.Sidecars {
		containers = append(containers, withUserMounts(s))
	}
	var initContainers []corev1.Container
	for _, c := range fn.Spec.InitContainers {
		initContainers = append(initContainers, withUserMounts(c))
	}

	pullSecret := fn.Spec.ImagePullSecrets
	if pullSecret == "" {
		pullSecret = cfg.RegistrySecret
	}
	var pullSecrets []corev1.LocalObjectReference
	if pullSecret != "" {
		pullSecrets = []corev1.LocalObjectReference{{Name: pullSecret}}
	}

	strategy := appsv1.DeploymentStrategy{Type: appsv1.RollingUpdateDeploymentStrategyType}
	if q, ok := container.Resources.Limits[gpuResource]; ok && q.Sign() > 0 {
		// Rolling updates of GPU functions stall when no spare GPU exists (lazy.go resolveDeploymentStrategy).
		strategy = appsv1.DeploymentStrategy{Type: appsv1.RecreateDeploymentStrategyType}
	}
	if fn.Spec.DeploymentStrategy != nil {
		strategy = *fn.Spec.DeploymentStrategy.DeepCopy()
	}
	securityContext := fn.Spec.SecurityContext
	if securityContext == nil {
		securityContext = &corev1.PodSecurityContext{}
	}

	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: ChildName(fn.Name), Namespace: fn.Namespace, Labels: labels, Annotations: deploymentAnnotations},
		Spec: appsv1.DeploymentSpec{
			Replicas:                ptr.To(replicas),
			Selector:                &metav1.LabelSelector{MatchLabels: SelectorLabels(fn.Name)},
			Strategy:                strategy,
			ProgressDeadlineSeconds: ptr.To(readinessTimeoutSeconds(fn, cfg)),
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels, Annotations: podAnnotations},
				Spec: corev1.PodSpec{
					InitContainers:     initContainers,
					Containers:         containers,
					Volumes:            volumeList,
					ServiceAccountName: fn.Spec.ServiceAccount,
					SecurityContext:    securityContext.DeepCopy(),
					Affinity:           fn.Spec.Affinity,
					Tolerations:        fn.Spec.Tolerations,
					NodeSelector:       fn.Status.EnrichedNodeSelector,
					NodeName:           fn.Spec.NodeName,
					PriorityClassName:  fn.Spec.PriorityClassName,
					PreemptionPolicy:   fn.Spec.PreemptionPolicy,
					HostIPC:            fn.Spec.HostIPC,
					ImagePullSecrets:   pullSecrets,
				},
			},
		},
	}
}

// readinessTimeoutSeconds is spec.readinessTimeoutSeconds, or the configured default when it is not
// positive.
func readinessTimeoutSeconds(fn *v1beta1.NuclioFunction, cfg *config.Config) int32 {
	if fn.Spec.ReadinessTimeoutSeconds > 0 {
		return fn.Spec.ReadinessTimeoutSeconds
	}
	return int32(cfg.ReadinessTimeout.Seconds())
}

// mergeDeployment copies the desired Deployment into the existing one. An autoscaled function keeps its
// current replica count, clamped to the computed bounds (lazy.go updateDeployment).
func mergeDeployment(fn *v1beta1.NuclioFunction) func(existing, desired *appsv1.Deployment) {
	return func(existing, desired *appsv1.Deployment) {
		current := existing.Spec.Replicas
		existing.Spec = *desired.Spec.DeepCopy()
		if _, fixed := computedReplicas(fn); fixed || current == nil {
			return
		}
		lo, hi := computedMin(fn), computedMax(fn)
		n := min(max(*current, lo), max(hi, lo))
		existing.Spec.Replicas = &n
	}
}

// httpTrigger returns the function's (first, by name) enabled http trigger.
func httpTrigger(fn *v1beta1.NuclioFunction) (v1beta1.Trigger, bool) {
	names := make([]string, 0, len(fn.Spec.Triggers))
	for name, t := range fn.Spec.Triggers {
		if t.Kind == v1beta1.TriggerKindHTTP && !t.Disabled {
			names = append(names, name)
		}
	}
	if len(names) == 0 {
		return v1beta1.Trigger{}, false
	}
	sort.Strings(names)
	return fn.Spec.Triggers[names[0]], true
}

// serviceTypeAndNodePort resolves the Service type (http trigger attributes.serviceType, else
// spec.serviceType, else the configured default; functionconfig.ResolveFunctionServiceType) and the
// NodePort requested by attributes.port (0: allocated by Kubernetes).
func serviceTypeAndNodePort(fn *v1beta1.NuclioFunction, cfg *config.Config) (corev1.ServiceType, int32) {
	serviceType := cfg.DefaultServiceType
	if fn.Spec.ServiceType != "" {
		serviceType = fn.Spec.ServiceType
	}
	var port int32
	if t, ok := httpTrigger(fn); ok {
		if s, ok := t.Attributes.String("serviceType"); ok && s != "" {
			serviceType = corev1.ServiceType(s)
		}
		port = int32(number(t.Attributes["port"]))
	}
	if serviceType != corev1.ServiceTypeNodePort {
		port = 0
	}
	return serviceType, port
}

// number reads a JSON number of any of the types decoders produce; 0 otherwise.
func number(v interface{}) int64 {
	switch n := v.(type) {
	case int64:
		return n
	case int:
		return int64(n)
	case int32:
		return int64(n)
	case float64:
		return int64(n)
	case json.Number:
		i, _ := n.Int64()
		return i
	}
	return 0
}

// desiredService returns Service nuclio-<fn> with port http 8080 (lazy.go populateServiceSpec) plus the
// sidecars' ports.
func desiredService(fn *v1beta1.NuclioFunction, cfg *config.Config) *corev1.Service {
	serviceType, nodePort := serviceTypeAndNodePort(fn, cfg)
	ports := []corev1.ServicePort{{Name: HTTPPortName, Port: HTTPPort, TargetPort: intstr.FromInt32(HTTPPort), Protocol: corev1.ProtocolTCP, NodePort: nodePort}}
	seen := map[string]bool{HTTPPortName: true}
	for _, s := range fn.Spec.Sidecars {
		for _, p := range s.Ports {
			name := p.Name
			if name == "" {
				name = fmt.Sprintf("%s-%d", s.Name, p.ContainerPort)
			}
			if seen[name] {
				continue
			}
			seen[name] = true
			protocol := p.Protocol
			if protocol == "" {
				protocol = corev1.ProtocolTCP
			}
			ports = append(ports, corev1.ServicePort{Name: name, Port: p.ContainerPort, TargetPort: intstr.FromInt32(p.ContainerPort), Protocol: protocol})
		}
	}
	return &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: ChildName(fn.Name), Namespace: fn.Namespace, Labels: Labels(fn)},
		Spec: corev1.ServiceSpec{
			Type:     serviceType,
			Selector: SelectorLabels(fn.Name),
			Ports:    ports,
		},
	}
}

// mergeService copies the desired type, selector and ports, keeping what the API server allocated: the
// cluster IPs and IP families, and a NodePort the function does not pin (Nuclio keeps an allocated
// NodePort when attributes.port is 0).
func mergeService(existing, desired *corev1.Service) {
	allocated := map[string]int32{}
	for _, p := range existing.Spec.Ports {
		allocated[p.Name] = p.NodePort
	}
	existing.Spec.Type = desired.Spec.Type
	existing.Spec.Selector = desired.Spec.Selector
	existing.Spec.Ports = nil
	for _, p := range desired.Spec.Ports {
		if existing.Spec.Type == corev1.ServiceTypeNodePort && p.NodePort == 0 {
			p.NodePort = allocated[p.Name]
		}
		if existing.Spec.Type != corev1.ServiceTypeNodePort && existing.Spec.Type != corev1.ServiceTypeLoadBalancer {
			p.NodePort = 0
		}
		existing.Spec.Ports = append(existing.Spec.Ports, p)
	}
	if existing.Spec.Type == corev1.ServiceTypeClusterIP {
		existing.Spec.ExternalTrafficPolicy = ""
	}
}

// desiredHPA returns the autoscaler nuclio-<fn> (autoscaling/v2) targeting the Deployment, with
// spec.customScalingMetricSpecs or CPU utilisation at targetCPU (default 75) (lazy.go
// createOrUpdateHorizontalPodAutoscaler, GetFunctionMetricSpecs).
func desiredHPA(fn *v1beta1.NuclioFunction) *autoscalingv2.HorizontalPodAutoscaler {
	minReplicas, maxReplicas, _ := hpaBounds(fn)
	metrics := make([]autoscalingv2.MetricSpec, 0, len(fn.Spec.CustomScalingMetricSpecs))
	for _, m := range fn.Spec.CustomScalingMetricSpecs {
		metrics = append(metrics, *m.DeepCopy())
	}
	if len(metrics) == 0 {
		target := fn.Spec.TargetCPU
		if target <= 0 {
			target = 75
		}
		metrics = []autoscalingv2.MetricSpec{{
			Type: autoscalingv2.ResourceMetricSourceType,
			Resource: &autoscalingv2.ResourceMetricSource{
				Name:   corev1.ResourceCPU,
				Target: autoscalingv2.MetricTarget{Type: autoscalingv2.UtilizationMetricType, AverageUtilization: ptr.To(target)},
			},
		}}
	}
	return &autoscalingv2.HorizontalPodAutoscaler{
		ObjectMeta: metav1.ObjectMeta{Name: ChildName(fn.Name), Namespace: fn.Namespace, Labels: Labels(fn)},
		Spec: autoscalingv2.HorizontalPodAutoscalerSpec{
			ScaleTargetRef: autoscalingv2.CrossVersionObjectReference{APIVersion: "apps/v1", Kind: "Deployment", Name: ChildName(fn.Name)},
			MinReplicas:    ptr.To(minReplicas),
			MaxReplicas:    maxReplicas,
			Metrics:        metrics,
		},
	}
}

func mergeHPA(existing, desired *autoscalingv2.HorizontalPodAutoscaler) {
	existing.Spec = *desired.Spec.DeepCopy()
}

// ingressRule is one entry of an http trigger's attributes.ingresses.
type ingressRule struct {
	host       string
	paths      []string
	pathType   networkingv1.PathType
	secretName string
}

// ingressRules reads the http trigger's attributes.ingresses (functionconfig.GetFunctionIngresses),
// sorted by name: host (or hostTemplate rendered with Name, ResourceName, Namespace and ProjectName;
// `@nuclio.fromDefault` selects the configured defaultHTTPIngressHostTemplate), paths, pathType
// (default ImplementationSpecific) and secretName (TLS for the host). Errors name the attribute.
func ingressRules(fn *v1beta1.NuclioFunction, cfg *config.Config) ([]ingressRule, error) {
	t, ok := httpTrigger(fn)
	if !ok {
		return nil, nil
	}
	raw, ok := t.Attributes.Map("ingresses")
	if !ok {
		return nil, nil
	}
	base := field.NewPath("spec", "triggers").Key(t.Name).Child("attributes", "ingresses")
	names := make([]string, 0, len(raw))
	for name := range raw {
		names = append(names, name)
	}
	sort.Strings(names)
	var rules []ingressRule
	for _, name := range names {
		p := base.Key(name)
		entry, ok := raw[name].(map[string]interface{})
		if !ok {
			return nil, field.Invalid(p, "", "must be an object with host, paths, pathType and secretName")
		}
		rule := ingressRule{pathType: networkingv1.PathTypeImplementationSpecific}
		rule.host, _ = entry["host"].(string)
		if tmpl, _ := entry["hostTemplate"].(string); rule.host == "" && tmpl != "" {
			if tmpl == "@nuclio.fromDefault" {
				tmpl = cfg.DefaultHTTPIngressHostTemplate
				if tmpl == "" {
					return nil, field.Invalid(p.Child("hostTemplate"), "@nuclio.fromDefault", "the controller has no defaultHTTPIngressHostTemplate")
				}
			}
			host, err := renderHost(tmpl, fn)
			if err != nil {
				return nil, field.Invalid(p.Child("hostTemplate"), tmpl, err.Error())
			}
			rule.host = host
		}
		if list, ok := entry["paths"].([]interface{}); ok {
			for i, v := range list {
				s, ok := v.(string)
				if !ok {
					return nil, field.Invalid(p.Child("paths").Index(i), v, "must be a string")
				}
				path, err := renderPath(s, fn)
				if err != nil {
					return nil, field.Invalid(p.Child("paths").Index(i), s, err.Error())
				}
				rule.paths = append(rule.paths, path)
			}
		}
		if pt, _ := entry["pathType"].(string); pt != "" {
			switch networkingv1.PathType(pt) {
			case networkingv1.PathTypeExact, networkingv1.PathTypePrefix, networkingv1.PathTypeImplementationSpecific:
				rule.pathType = networkingv1.PathType(pt)
			default:
				return nil, field.NotSupported(p.Child("pathType"), pt, []string{string(networkingv1.PathTypeExact), string(networkingv1.PathTypePrefix), string(networkingv1.PathTypeImplementationSpecific)})
			}
		}
		rule.secretName, _ = entry["secretName"].(string)
		if len(rule.paths) == 0 {
			rule.paths = []string{"/"}
		}
		rules = append(rules, rule)
	}
	return rules, nil
}

// renderPath renders an ingress path template with Name, Namespace and Version and prefixes `/`
// (lazy.go formatIngressPattern).
func renderPath(path string, fn *v1beta1.NuclioFunction) (string, error) {
	if !strings.HasPrefix(path, "/") {
		path = "/" + path
	}
	return render(path, map[string]string{"Name": fn.Name, "Namespace": fn.Namespace, "Version": VersionLatest})
}

// renderHost renders a host template (platform.go enrichHTTPTriggerIngresses) and shortens any DNS label
// longer than 63 characters to 54 plus `-` and 8 hex digits of its SHA-256 (Nuclio appends 8 random
// characters, which would change the host on every reconcile).
func renderHost(tmpl string, fn *v1beta1.NuclioFunction) (string, error) {
	host, err := render(tmpl, map[string]string{"Name": fn.Name, "ResourceName": fn.Name, "Namespace": fn.Namespace, "ProjectName": ProjectName(fn.Labels)})
	if err != nil {
		return "", err
	}
	labels := strings.Split(host, ".")
	for i, l := range labels {
		if len(l) > 63 {
			sum := sha256.Sum256([]byte(l))
			labels[i] = strings.TrimRight(l[:54], "-") + "-" + hex.EncodeToString(sum[:])[:8]
		}
	}
	return strings.Join(labels, "."), nil
}

func render(tmpl string, data map[string]string) (string, error) {
	t, err := template.New("ingress").Option("missingkey=error").Parse(tmpl)
	if err != nil {
		return "", err
	}
	var b bytes.Buffer
	if err := t.Execute(&b, data); err != nil {
		return "", err
	}
	return b.String(), nil
}

// desiredIngress returns Ingress nuclio-<fn> for the rules (lazy.go populateIngressConfig): one rule per
// host with a path per entry to Service nuclio-<fn> port http, TLS for hosts with a secretName,
// annotations from the http trigger over the configured defaults, class from the configuration. It
// returns nil when there are no rules. Nuclio's `X-Nuclio-Target` configuration-snippet annotation is
// not set: snippet annotations are disabled by default in ingress-nginx and only served Nuclio's DLX.
func desiredIngress(fn *v1beta1.NuclioFunction, cfg *config.Config, rules []ingressRule) *networkingv1.Ingress {
	if len(rules) == 0 {
		return nil
	}
	annotations := map[string]string{}
	for k, v := range cfg.DefaultHTTPIngressAnnotations {
		annotations[k] = v
	}
	if t, ok := httpTrigger(fn); ok {
		for k, v := range t.Annotations {
			annotations[k] = v
		}
	}
	spec := networkingv1.IngressSpec{IngressClassName: ptr.To(cfg.DefaultIngressClass)}
	for _, r := range rules {
		rule := networkingv1.IngressRule{Host: r.host, IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{}}}
		for _, path := range r.paths {
			rule.HTTP.Paths = append(rule.HTTP.Paths, networkingv1.HTTPIngressPath{
				Path:     path,
				PathType: ptr.To(r.pathType),
				Backend: networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{
					Name: ChildName(fn.Name),
					Port: networkingv1.ServiceBackendPort{Name: HTTPPortName},
				}},
			})
		}
		spec.Rules = append(spec.Rules, rule)
		if r.secretName != "" {
			tls := networkingv1.IngressTLS{SecretName: r.secretName}
			if r.host != "" {
				tls.Hosts = []string{r.host}
			}
			spec.TLS = append(spec.TLS, tls)
		}
	}
	if len(annotations) == 0 {
		annotations = nil
	}
	return &networkingv1.Ingress{
		ObjectMeta: metav1.ObjectMeta{Name: ChildName(fn.Name), Namespace: fn.Namespace, Labels: Labels(fn), Annotations: annotations},
		Spec:       spec,
	}
}

func mergeIngress(existing, desired *networkingv1.Ingress) {
	existing.Spec = *desired.Spec.DeepCopy()
}

func mergeConfigMap(existing, desired *corev1.ConfigMap) {
	existing.Data = desired.Data
	existing.BinaryData = nil
}

// dataHash digests Secret or ConfigMap data in key order.
func dataHash(data map[string][]byte) string {
	h := sha256.New()
	keys := make([]string, 0, len(data))
	for k := range data {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(h, "%d:%s%d:", len(k), k, len(data[k]))
		h.Write(data[k])
	}
	return hex.EncodeToString(h.Sum(nil))
}

// stringHash digests one string.
func stringHash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}
