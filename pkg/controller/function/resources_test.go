// Copyright The nuclio-apiserver Authors.
// SPDX-License-Identifier: Apache-2.0

package function

import (
	"context"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/yaml"

	"github.com/nuclio-apiserver/nuclio-apiserver/apis/nuclio/freeform"
	"github.com/nuclio-apiserver/nuclio-apiserver/apis/nuclio/v1beta1"
	"github.com/nuclio-apiserver/nuclio-apiserver/pkg/controller/internal/child"
	"github.com/nuclio-apiserver/nuclio-apiserver/pkg/masking"
)

const prebuilt = "quay.io/acme/hello:1"

// imageFunction runs a prebuilt image, so that tests of the processor resources need no build.
func imageFunction(name string, mutate func(*v1beta1.NuclioFunction)) *v1beta1.NuclioFunction {
	return sourceFunction(name, func(fn *v1beta1.NuclioFunction) {
		fn.Spec.Build = v1beta1.Build{}
		fn.Spec.Image = prebuilt
		if mutate != nil {
			mutate(fn)
		}
	})
}

func volumesByName(pod corev1.PodSpec) map[string]corev1.Volume {
	out := map[string]corev1.Volume{}
	for _, v := range pod.Volumes {
		out[v.Name] = v
	}
	return out
}

func mountsByName(c corev1.Container) map[string]corev1.VolumeMount {
	out := map[string]corev1.VolumeMount{}
	for _, m := range c.VolumeMounts {
		out[m.Name] = m
	}
	return out
}

func TestProcessorConfigMap(t *testing.T) {
	e := newEnv(t, testConfig(t), imageFunction("hello", func(fn *v1beta1.NuclioFunction) {
		fn.Annotations = map[string]string{"a": "b", lastAppliedAnnotation: "{}"}
		fn.Spec.Env = []corev1.EnvVar{{Name: masking.RestoreFromSecretEnvVar, Value: "true"}, {Name: "X", Value: "1"}}
		fn.Spec.Triggers["kafka"] = v1beta1.Trigger{Kind: "kafka-cluster", Name: "kafka", Password: "$ref:/spec/triggers/kafka/password"}
	}), defaultProject())
	e.reconcile("hello")
	cm := &corev1.ConfigMap{}
	e.mustGet("nuclio-hello", cm)
	if !metav1.IsControlledBy(cm, e.function("hello")) || cm.Labels[child.LabelManagedBy] != child.ManagedBy {
		t.Errorf("ConfigMap ownership: %+v", cm.ObjectMeta)
	}
	var got map[string]interface{}
	if err := yaml.Unmarshal([]byte(cm.Data[ProcessorConfig]), &got); err != nil {
		t.Fatal(err)
	}
	if _, ok := got["PlatformConfig"]; !ok || got["PlatformConfig"] != nil {
		t.Errorf("processor.yaml must carry PlatformConfig: null like Nuclio's writer: %v", got["PlatformConfig"])
	}
	meta := got["metadata"].(map[string]interface{})
	labels := meta["labels"].(map[string]interface{})
	if meta["name"] != "hello" || meta["namespace"] != testNamespace || labels[v1beta1.LabelClass] != ClassFunction || labels["team"] != "a" {
		t.Errorf("metadata %v", meta)
	}
	annotations := meta["annotations"].(map[string]interface{})
	if annotations["a"] != "b" || annotations[lastAppliedAnnotation] != nil {
		t.Errorf("annotations %v", annotations)
	}
	spec := got["spec"].(map[string]interface{})
	if spec["image"] != prebuilt || spec["version"] != float64(-1) || spec["alias"] != "latest" || spec["runtime"] != "python:3.11" {
		t.Errorf("spec %v", spec)
	}
	if _, ok := spec["eventTimeout"]; !ok {
		t.Error("eventTimeout is always written (Nuclio's shape)")
	}
	if strings.Contains(cm.Data[ProcessorConfig], masking.RestoreFromSecretEnvVar) {
		t.Error("the restore switch is the controller's, not part of the spec")
	}
	if !strings.Contains(cm.Data[ProcessorConfig], "$ref:/spec/triggers/kafka/password") {
		t.Error("processor.yaml holds the masked spec; the processor restores it")
	}
}

func TestDeployment(t *testing.T) {
	e := newEnv(t, testConfig(t), imageFunction("hello", func(fn *v1beta1.NuclioFunction) {
		fn.Annotations = map[string]string{"a": "b", lastAppliedAnnotation: "{}"}
		fn.Spec.Description = "greets"
		fn.Spec.ImageHash = "12345"
		fn.Spec.Env = []corev1.EnvVar{{Name: "X", Value: "1"}}
		fn.Spec.ServiceAccount = "runner"
		fn.Spec.NodeSelector = map[string]string{"zone": "a"}
		fn.Spec.Resources.Limits = corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("256Mi")}
		fn.Spec.Volumes = []v1beta1.Volume{
			{Volume: corev1.Volume{Name: "data", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: "data"}}}},
				VolumeMount: corev1.VolumeMount{Name: "data", MountPath: "/data"}},
			{Volume: corev1.Volume{Name: "host", VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/etc"}}},
				VolumeMount: corev1.VolumeMount{Name: "host", MountPath: "/host"}},
		}
		fn.Spec.Sidecars = []corev1.Container{{Name: "proxy", Image: "envoy", Ports: []corev1.ContainerPort{{ContainerPort: 9000}}}}
	}), &v1beta1.NuclioProject{ObjectMeta: metav1.ObjectMeta{Name: "default", Namespace: testNamespace},
		Spec: v1beta1.ProjectSpec{DefaultFunctionNodeSelector: map[string]string{"zone": "b", "disk": "ssd"}}})
	e.reconcile("hello")
	d := &appsv1.Deployment{}
	e.mustGet("nuclio-hello", d)

	if diff := cmp.Diff(SelectorLabels("hello"), d.Spec.Selector.MatchLabels); diff != "" {
		t.Errorf("selector (-want +got):\n%s", diff)
	}
	if *d.Spec.Replicas != 1 || d.Spec.Strategy.Type != appsv1.RollingUpdateDeploymentStrategyType || *d.Spec.ProgressDeadlineSeconds != 120 {
		t.Errorf("replicas %d strategy %s deadline %d", *d.Spec.Replicas, d.Spec.Strategy.Type, *d.Spec.ProgressDeadlineSeconds)
	}
	if d.Annotations["description"] != "greets" || d.Annotations["a"] != "b" || d.Annotations[lastAppliedAnnotation] != "" {
		t.Errorf("Deployment annotations %v", d.Annotations)
	}
	pod := d.Spec.Template
	for k, v := range Labels(e.function("hello")) {
		if pod.Labels[k] != v {
			t.Errorf("pod label %s=%q, want %q", k, pod.Labels[k], v)
		}
	}
	if pod.Annotations["a"] != "b" || pod.Annotations[AnnotationImageHash] != "12345" || pod.Annotations[annotationDefaultContainer] != ContainerName ||
		len(pod.Annotations[AnnotationConfigHash]) != 64 || pod.Annotations[AnnotationSecretHash] != "" {
		t.Errorf("pod annotations %v", pod.Annotations)
	}
	if pod.Spec.ServiceAccountName != "runner" || pod.Spec.SecurityContext == nil || len(pod.Spec.ImagePullSecrets) != 1 || pod.Spec.ImagePullSecrets[0].Name != "push-creds" {
		t.Errorf("pod spec %+v", pod.Spec)
	}
	if diff := cmp.Diff(map[string]string{"zone": "a", "disk": "ssd"}, pod.Spec.NodeSelector); diff != "" {
		t.Errorf("node selector: function over project (-want +got):\n%s", diff)
	}
	if len(pod.Spec.Containers) != 2 || pod.Spec.Containers[1].Name != "proxy" {
		t.Fatalf("containers %v", pod.Spec.Containers)
	}
	c := pod.Spec.Containers[0]
	if c.Name != "nuclio" || c.Image != prebuilt || c.ImagePullPolicy != corev1.PullAlways {
		t.Errorf("container %s image %s pull %s", c.Name, c.Image, c.ImagePullPolicy)
	}
	var ports []int32
	for _, p := range c.Ports {
		ports = append(ports, p.ContainerPort)
	}
	if diff := cmp.Diff([]int32{8080, 8081, 8082, 8090}, ports); diff != "" || c.Ports[0].Name != "http" {
		t.Errorf("ports (-want +got):\n%s", diff)
	}
	wantReadiness := &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/__internal/health", Port: intstr.FromInt32(8080), Scheme: corev1.URISchemeHTTP}},
		InitialDelaySeconds: 5, TimeoutSeconds: 1, PeriodSeconds: 1, SuccessThreshold: 1, FailureThreshold: 10}
	if diff := cmp.Diff(wantReadiness, c.ReadinessProbe); diff != "" {
		t.Errorf("readiness (-want +got):\n%s", diff)
	}
	wantLiveness := &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/live", Port: intstr.FromInt32(8082), Scheme: corev1.URISchemeHTTP}},
		InitialDelaySeconds: 10, TimeoutSeconds: 3, PeriodSeconds: 5, SuccessThreshold: 1, FailureThreshold: 3}
	if diff := cmp.Diff(wantLiveness, c.LivenessProbe); diff != "" {
		t.Errorf("liveness (-want +got):\n%s", diff)
	}
	var envNames []string
	for _, env := range c.Env {
		envNames = append(envNames, env.Name)
	}
	if diff := cmp.Diff([]string{"X", EnvFunctionName, EnvFunctionVersion, EnvFunctionInstance}, envNames); diff != "" {
		t.Errorf("env (-want +got):\n%s", diff)
	}
	if c.Env[3].ValueFrom == nil || c.Env[3].ValueFrom.FieldRef.FieldPath != "metadata.name" || c.Env[1].Value != "hello" || c.Env[2].Value != "latest" {
		t.Errorf("env %v", c.Env)
	}
	if c.Resources.Requests.Cpu().String() != "25m" || c.Resources.Requests.Memory().String() != "1Mi" || c.Resources.Limits.Memory().String() != "256Mi" {
		t.Errorf("resources %v", c.Resources)
	}
	volumes := volumesByName(pod.Spec)
	if _, ok := volumes["host"]; ok {
		t.Error("hostPath volumes are dropped, as Nuclio does")
	}
	if volumes[VolumeProcessorConfig].ConfigMap == nil || volumes[VolumeProcessorConfig].ConfigMap.Name != "nuclio-hello" {
		t.Errorf("processor config volume %+v", volumes[VolumeProcessorConfig])
	}
	if v := volumes[VolumePlatformConfig].ConfigMap; v == nil || v.Name != "nuclio-platform-config" || v.Optional == nil || !*v.Optional {
		t.Errorf("platform config volume %+v", volumes[VolumePlatformConfig])
	}
	if _, ok := volumes[VolumeFunctionSecret]; ok {
		t.Error("no function Secret, no volume")
	}
	mounts := mountsByName(c)
	if mounts[VolumeProcessorConfig].MountPath != ProcessorConfigDir || mounts[VolumePlatformConfig].MountPath != PlatformConfigDir || mounts["data"].MountPath != "/data" {
		t.Errorf("mounts %v", mounts)
	}
	if m := mountsByName(pod.Spec.Containers[1]); m["data"].MountPath != "/data" || m[VolumeFunctionSecret].Name != "" {
		t.Errorf("sidecar mounts %v", m)
	}
	if !sortedByName(pod.Spec.Volumes) {
		t.Error("volumes must be sorted by name (no order-induced rollouts)")
	}
}

func sortedByName(v []corev1.Volume) bool {
	for i := 1; i < len(v); i++ {
		if v[i-1].Name > v[i].Name {
			return false
		}
	}
	return true
}

func TestDeploymentWithSecret(t *testing.T) {
	secret := credentialsSecret(t, "hello", map[string]string{"$ref:/spec/triggers/kafka/password": "pw1"})
	e := newEnv(t, testConfig(t), imageFunction("hello", nil), secret, defaultProject())
	e.reconcile("hello")
	d := &appsv1.Deployment{}
	e.mustGet("nuclio-hello", d)
	pod := d.Spec.Template
	v := volumesByName(pod.Spec)[VolumeFunctionSecret]
	if v.Secret == nil || v.Secret.SecretName != secret.Name {
		t.Fatalf("function-secret volume %+v", v)
	}
	m := mountsByName(pod.Spec.Containers[0])[VolumeFunctionSecret]
	if m.MountPath != "/etc/nuclio/secrets" || !m.ReadOnly {
		t.Errorf("mount %+v", m)
	}
	if !hasEnv(pod.Spec.Containers[0].Env, masking.RestoreFromSecretEnvVar, "true") {
		t.Error("the restore switch must be set when the Secret is mounted")
	}
	firstHash := pod.Annotations[AnnotationSecretHash]
	if firstHash == "" {
		t.Fatal("no secret hash annotation")
	}

	// New Secret content (a rotated password; the function object is unchanged) rolls the pods.
	rotated := credentialsSecret(t, "hello", map[string]string{"$ref:/spec/triggers/kafka/password": "pw2"})
	stored := &corev1.Secret{}
	e.mustGet(secret.Name, stored)
	stored.Data = rotated.Data
	if err := e.client.Update(context.Background(), stored); err != nil {
		t.Fatal(err)
	}
	e.reconcile("hello")
	e.mustGet("nuclio-hello", d)
	if h := d.Spec.Template.Annotations[AnnotationSecretHash]; h == firstHash || h == "" {
		t.Errorf("secret hash %q did not change", h)
	}

	// The Secret goes (nothing left to mask): so do the volume and the restore switch.
	if err := e.client.Delete(context.Background(), stored); err != nil {
		t.Fatal(err)
	}
	e.reconcile("hello")
	e.mustGet("nuclio-hello", d)
	if _, ok := volumesByName(d.Spec.Template.Spec)[VolumeFunctionSecret]; ok || hasEnv(d.Spec.Template.Spec.Containers[0].Env, masking.RestoreFromSecretEnvVar, "true") {
		t.Error("the Secret volume and restore switch must go with the Secret")
	}
}

func TestForeignSecretIsNotMounted(t *testing.T) {
	name, err := SecretName("hello")
	if err != nil {
		t.Fatal(err)
	}
	foreign := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: testNamespace}, Data: map[string][]byte{"content": []byte("x")}}
	e := newEnv(t, testConfig(t), imageFunction("hello", nil), foreign, defaultProject())
	e.reconcile("hello")
	d := &appsv1.Deployment{}
	e.mustGet("nuclio-hello", d)
	if _, ok := volumesByName(d.Spec.Template.Spec)[VolumeFunctionSecret]; ok {
		t.Error("a Secret the webhook did not write must not be mounted")
	}
	if got := strings.Join(e.events(), "\n"); !strings.Contains(got, ReasonCredentialsSecretIgnored) {
		t.Errorf("events %s", got)
	}
}

func TestService(t *testing.T) {
	e := newEnv(t, testConfig(t), imageFunction("hello", nil), defaultProject())
	e.reconcile("hello")
	svc := &corev1.Service{}
	e.mustGet("nuclio-hello", svc)
	want := []corev1.ServicePort{{Name: "http", Port: 8080, TargetPort: intstr.FromInt32(8080), Protocol: corev1.ProtocolTCP}}
	if svc.Spec.Type != corev1.ServiceTypeClusterIP || !cmp.Equal(want, svc.Spec.Ports) || !cmp.Equal(SelectorLabels("hello"), svc.Spec.Selector) {
		t.Errorf("service %+v", svc.Spec)
	}

	// The http trigger's attributes choose a NodePort; the allocated port is reported in status.
	e.update("hello", func(fn *v1beta1.NuclioFunction) {
		tr := fn.Spec.Triggers["default-http"]
		tr.Attributes = freeform.Object{"serviceType": "NodePort", "port": int64(30080)}
		fn.Spec.Triggers["default-http"] = tr
	})
	e.reconcile("hello")
	e.mustGet("nuclio-hello", svc)
	if svc.Spec.Type != corev1.ServiceTypeNodePort || svc.Spec.Ports[0].NodePort != 30080 {
		t.Errorf("service %+v", svc.Spec)
	}
	if fn := e.function("hello"); fn.Status.HTTPPort != 30080 {
		t.Errorf("status.httpPort %d", fn.Status.HTTPPort)
	}
	// An allocated cluster IP is kept on update.
	svc.Spec.ClusterIP = "127.64.10.1"
	if err := e.client.Update(context.Background(), svc); err != nil {
		t.Fatal(err)
	}
	e.update("hello", func(fn *v1beta1.NuclioFunction) {
		fn.Spec.ServiceType = corev1.ServiceTypeNodePort
		fn.Spec.Triggers["default-http"] = v1beta1.Trigger{Kind: "http", Name: "default-http"}
	})
	e.reconcile("hello")
	e.mustGet("nuclio-hello", svc)
	if svc.Spec.ClusterIP != "127.64.10.1" || svc.Spec.Ports[0].NodePort != 30080 || svc.Spec.Type != corev1.ServiceTypeNodePort {
		t.Errorf("allocated values must survive an update: %+v", svc.Spec)
	}
}

func TestAutoscaler(t *testing.T) {
	e := newEnv(t, testConfig(t), imageFunction("hello", func(fn *v1beta1.NuclioFunction) {
		fn.Spec.MinReplicas, fn.Spec.MaxReplicas = ptr32(2), ptr32(5)
	}), defaultProject())
	e.reconcile("hello")
	hpa := &autoscalingv2.HorizontalPodAutoscaler{}
	e.mustGet("nuclio-hello", hpa)
	if *hpa.Spec.MinReplicas != 2 || hpa.Spec.MaxReplicas != 5 || hpa.Spec.ScaleTargetRef.Name != "nuclio-hello" || hpa.Spec.ScaleTargetRef.Kind != "Deployment" {
		t.Errorf("HPA %+v", hpa.Spec)
	}
	if m := hpa.Spec.Metrics; len(m) != 1 || m[0].Resource.Name != corev1.ResourceCPU || *m[0].Resource.Target.AverageUtilization != 75 {
		t.Errorf("metrics %+v", m)
	}
	d := &appsv1.Deployment{}
	e.mustGet("nuclio-hello", d)
	if *d.Spec.Replicas != 2 {
		t.Errorf("a new autoscaled Deployment starts at min: %d", *d.Spec.Replicas)
	}

	// The autoscaler scaled to 4; an update of the function keeps that count.
	d.Spec.Replicas = ptr32(4)
	if err := e.client.Update(context.Background(), d); err != nil {
		t.Fatal(err)
	}
	e.update("hello", func(fn *v1beta1.NuclioFunction) { fn.Spec.TargetCPU = 50 })
	e.reconcile("hello")
	e.mustGet("nuclio-hello", d)
	e.mustGet("nuclio-hello", hpa)
	if *d.Spec.Replicas != 4 || *hpa.Spec.Metrics[0].Resource.Target.AverageUtilization != 50 {
		t.Errorf("replicas %d, target %d", *d.Spec.Replicas, *hpa.Spec.Metrics[0].Resource.Target.AverageUtilization)
	}
	// A lower maximum clamps it.
	e.update("hello", func(fn *v1beta1.NuclioFunction) { fn.Spec.MaxReplicas = ptr32(3) })
	e.reconcile("hello")
	e.mustGet("nuclio-hello", d)
	if *d.Spec.Replicas != 3 {
		t.Errorf("replicas %d, want clamped to 3", *d.Spec.Replicas)
	}

	// min == max: no autoscaler, fixed replicas.
	e.update("hello", func(fn *v1beta1.NuclioFunction) { fn.Spec.MinReplicas, fn.Spec.MaxReplicas = ptr32(3), ptr32(3) })
	e.reconcile("hello")
	if err := e.get("nuclio-hello", hpa); !apierrors.IsNotFound(err) {
		t.Errorf("the HPA must be deleted when min == max: %v", err)
	}

	// spec.replicas wins; disable runs zero.
	e.update("hello", func(fn *v1beta1.NuclioFunction) { fn.Spec.Replicas = ptr32(2) })
	e.reconcile("hello")
	e.mustGet("nuclio-hello", d)
	if *d.Spec.Replicas != 2 {
		t.Errorf("replicas %d, want spec.replicas", *d.Spec.Replicas)
	}
	e.update("hello", func(fn *v1beta1.NuclioFunction) { fn.Spec.Disable = true })
	e.reconcile("hello")
	e.mustGet("nuclio-hello", d)
	if *d.Spec.Replicas != 0 {
		t.Errorf("a disabled function runs %d replicas", *d.Spec.Replicas)
	}
}

func TestCustomMetricsAndGPUStrategy(t *testing.T) {
	metric := autoscalingv2.MetricSpec{Type: autoscalingv2.PodsMetricSourceType, Pods: &autoscalingv2.PodsMetricSource{
		Metric: autoscalingv2.MetricIdentifier{Name: "events_per_second"},
		Target: autoscalingv2.MetricTarget{Type: autoscalingv2.AverageValueMetricType, AverageValue: ptrQuantity("10")},
	}}
	e := newEnv(t, testConfig(t), imageFunction("hello", func(fn *v1beta1.NuclioFunction) {
		fn.Spec.MinReplicas, fn.Spec.MaxReplicas = ptr32(1), ptr32(4)
		fn.Spec.CustomScalingMetricSpecs = []autoscalingv2.MetricSpec{metric}
		fn.Spec.Resources.Limits = corev1.ResourceList{gpuResource: resource.MustParse("1")}
	}), defaultProject())
	e.reconcile("hello")
	hpa := &autoscalingv2.HorizontalPodAutoscaler{}
	e.mustGet("nuclio-hello", hpa)
	if len(hpa.Spec.Metrics) != 1 || hpa.Spec.Metrics[0].Pods == nil || hpa.Spec.Metrics[0].Pods.Metric.Name != "events_per_second" {
		t.Errorf("metrics %+v", hpa.Spec.Metrics)
	}
	d := &appsv1.Deployment{}
	e.mustGet("nuclio-hello", d)
	if d.Spec.Strategy.Type != appsv1.RecreateDeploymentStrategyType {
		t.Errorf("GPU functions roll out with Recreate, got %s", d.Spec.Strategy.Type)
	}
}

func ptrQuantity(s string) *resource.Quantity {
	q := resource.MustParse(s)
	return &q
}

func TestIngress(t *testing.T) {
	e := newEnv(t, testConfig(t), imageFunction("hello", func(fn *v1beta1.NuclioFunction) {
		fn.Spec.Triggers["default-http"] = v1beta1.Trigger{Kind: "http", Name: "default-http",
			Annotations: map[string]string{"nginx.ingress.kubernetes.io/proxy-body-size": "8m"},
			Attributes: freeform.Object{"ingresses": map[string]interface{}{
				"b": map[string]interface{}{"host": "hello.example.com", "paths": []interface{}{"/hello", "{{ .Name }}/v1"}, "secretName": "hello-tls"},
				"a": map[string]interface{}{"hostTemplate": "{{ .Name }}.{{ .Namespace }}.apps.example.com", "pathType": "Prefix"},
			}}}
	}), defaultProject())
	e.reconcile("hello")
	ing := &networkingv1.Ingress{}
	e.mustGet("nuclio-hello", ing)
	if *ing.Spec.IngressClassName != "nginx" || ing.Annotations["nginx.ingress.kubernetes.io/proxy-body-size"] != "8m" {
		t.Errorf("class %s annotations %v", *ing.Spec.IngressClassName, ing.Annotations)
	}
	if len(ing.Spec.Rules) != 2 {
		t.Fatalf("rules %+v", ing.Spec.Rules)
	}
	first, second := ing.Spec.Rules[0], ing.Spec.Rules[1]
	if first.Host != "hello.ns.apps.example.com" || first.HTTP.Paths[0].Path != "/" || *first.HTTP.Paths[0].PathType != networkingv1.PathTypePrefix {
		t.Errorf("rule a %+v", first)
	}
	if second.Host != "hello.example.com" || len(second.HTTP.Paths) != 2 || second.HTTP.Paths[1].Path != "/hello/v1" ||
		*second.HTTP.Paths[0].PathType != networkingv1.PathTypeImplementationSpecific {
		t.Errorf("rule b %+v", second)
	}
	backend := second.HTTP.Paths[0].Backend.Service
	if backend.Name != "nuclio-hello" || backend.Port.Name != "http" {
		t.Errorf("backend %+v", backend)
	}
	if len(ing.Spec.TLS) != 1 || ing.Spec.TLS[0].SecretName != "hello-tls" || ing.Spec.TLS[0].Hosts[0] != "hello.example.com" {
		t.Errorf("TLS %+v", ing.Spec.TLS)
	}
	if urls := e.function("hello").Status.ExternalInvocationURLs; !cmp.Equal(urls, []string{"hello.ns.apps.example.com/", "hello.example.com/hello"}) {
		t.Errorf("external URLs %v", urls)
	}

	// No ingresses any more: the Ingress goes.
	e.update("hello", func(fn *v1beta1.NuclioFunction) {
		fn.Spec.Triggers["default-http"] = v1beta1.Trigger{Kind: "http", Name: "default-http"}
	})
	e.reconcile("hello")
	if err := e.get("nuclio-hello", ing); !apierrors.IsNotFound(err) {
		t.Errorf("Ingress must be deleted: %v", err)
	}

	// A malformed ingress is an error naming the attribute.
	e.update("hello", func(fn *v1beta1.NuclioFunction) {
		fn.Spec.Triggers["default-http"] = v1beta1.Trigger{Kind: "http", Name: "default-http",
			Attributes: freeform.Object{"ingresses": map[string]interface{}{"x": map[string]interface{}{"pathType": "Regex"}}}}
	})
	e.reconcile("hello")
	fn := e.function("hello")
	if fn.Status.State != v1beta1.FunctionStateError || !strings.Contains(fn.Status.Message, "spec.triggers[default-http].attributes.ingresses[x].pathType") {
		t.Errorf("state %q message %q", fn.Status.State, fn.Status.Message)
	}
}

func TestProjects(t *testing.T) {
	// The default project is created on demand.
	e := newEnv(t, testConfig(t), imageFunction("hello", nil))
	e.reconcile("hello")
	project := &v1beta1.NuclioProject{}
	e.mustGet("default", project)
	if e.function("hello").Status.State != v1beta1.FunctionStateWaitingForResourceConfiguration {
		t.Errorf("state %q", e.function("hello").Status.State)
	}

	// Any other project must exist.
	e = newEnv(t, testConfig(t), imageFunction("hello", func(fn *v1beta1.NuclioFunction) { fn.Labels[v1beta1.LabelProjectName] = "shop" }))
	e.reconcile("hello")
	fn := e.function("hello")
	if fn.Status.State != v1beta1.FunctionStateError || fn.Status.Message == "" || !strings.Contains(fn.Status.Message, "project shop not found") {
		t.Errorf("state %q message %q", fn.Status.State, fn.Status.Message)
	}
	expectCondition(t, fn, v1beta1.ConditionReady, metav1.ConditionFalse, ReasonProjectNotFound)
	if err := e.get("default", &v1beta1.NuclioProject{}); !apierrors.IsNotFound(err) {
		t.Error("only the default project is created on demand")
	}
	if err := e.get("nuclio-hello", &appsv1.Deployment{}); !apierrors.IsNotFound(err) {
		t.Error("nothing is deployed without the project")
	}
	// Once the project exists, the function proceeds (the project watch maps it to its functions).
	shop := &v1beta1.NuclioProject{ObjectMeta: metav1.ObjectMeta{Name: "shop", Namespace: testNamespace}}
	if err := e.client.Create(context.Background(), shop); err != nil {
		t.Fatal(err)
	}
	if reqs := e.r.projectToFunctions(context.Background(), shop); len(reqs) != 1 || reqs[0].Name != "hello" {
		t.Errorf("project maps to %v", reqs)
	}
	e.reconcile("hello")
	if st := e.function("hello").Status.State; st != v1beta1.FunctionStateWaitingForResourceConfiguration {
		t.Errorf("state %q", st)
	}
}

func TestReadinessTransitions(t *testing.T) {
	e := newEnv(t, testConfig(t), imageFunction("hello", func(fn *v1beta1.NuclioFunction) { fn.Spec.ReadinessTimeoutSeconds = 30 }), defaultProject())
	e.reconcile("hello")
	d := &appsv1.Deployment{}
	e.mustGet("nuclio-hello", d)
	if *d.Spec.ProgressDeadlineSeconds != 30 {
		t.Errorf("progressDeadlineSeconds %d, want readinessTimeoutSeconds", *d.Spec.ProgressDeadlineSeconds)
	}

	// No progress within the deadline: unhealthy.
	d.Status = appsv1.DeploymentStatus{ObservedGeneration: d.Generation, Replicas: 1, UnavailableReplicas: 1, Conditions: []appsv1.DeploymentCondition{
		{Type: appsv1.DeploymentProgressing, Status: corev1.ConditionFalse, Reason: "ProgressDeadlineExceeded", Message: `ReplicaSet "nuclio-hello-abc" has timed out progressing.`},
		{Type: appsv1.DeploymentAvailable, Status: corev1.ConditionFalse, Reason: "MinimumReplicasUnavailable"},
	}}
	if err := e.client.Status().Update(context.Background(), d); err != nil {
		t.Fatal(err)
	}
	e.reconcile("hello")
	fn := e.function("hello")
	if fn.Status.State != v1beta1.FunctionStateUnhealthy || !strings.Contains(fn.Status.Message, "not ready within 30s") {
		t.Errorf("state %q message %q", fn.Status.State, fn.Status.Message)
	}
	expectCondition(t, fn, v1beta1.ConditionReady, metav1.ConditionFalse, ReasonReadinessTimeout)
	if got := strings.Join(e.events(), "\n"); !strings.Contains(got, "Warning Unhealthy") {
		t.Errorf("events %s", got)
	}

	// Recovered: ready. Then a pod is lost: unhealthy again (Nuclio's monitor flips ready ↔ unhealthy).
	e.makeAvailable("hello")
	e.reconcile("hello")
	expectCondition(t, e.function("hello"), v1beta1.ConditionReady, metav1.ConditionTrue, ReasonAvailable)
	e.mustGet("nuclio-hello", d)
	d.Status.AvailableReplicas, d.Status.ReadyReplicas = 0, 0
	d.Status.Conditions[0] = appsv1.DeploymentCondition{Type: appsv1.DeploymentAvailable, Status: corev1.ConditionFalse, Reason: "MinimumReplicasUnavailable", Message: "Deployment does not have minimum availability."}
	if err := e.client.Status().Update(context.Background(), d); err != nil {
		t.Fatal(err)
	}
	e.reconcile("hello")
	fn = e.function("hello")
	if fn.Status.State != v1beta1.FunctionStateUnhealthy || fn.Status.ReadyReplicas != 0 {
		t.Errorf("state %q ready %d", fn.Status.State, fn.Status.ReadyReplicas)
	}
	expectCondition(t, fn, v1beta1.ConditionReady, metav1.ConditionFalse, ReasonUnavailable)

	// A spec change rolls out: waiting, with Ready's observedGeneration at the new generation, so that
	// `kubectl wait --for=condition=Ready` waits for the new version.
	e.makeAvailable("hello")
	e.reconcile("hello")
	e.update("hello", func(fn *v1beta1.NuclioFunction) { fn.Spec.Env = []corev1.EnvVar{{Name: "V", Value: "2"}} })
	e.reconcile("hello")
	fn = e.function("hello")
	if fn.Status.State != v1beta1.FunctionStateWaitingForResourceConfiguration || fn.Generation != 2 {
		t.Errorf("state %q generation %d", fn.Status.State, fn.Generation)
	}
	expectCondition(t, fn, v1beta1.ConditionReady, metav1.ConditionFalse, ReasonRollingOut)
	e.makeAvailable("hello")
	e.reconcile("hello")
	expectCondition(t, e.function("hello"), v1beta1.ConditionReady, metav1.ConditionTrue, ReasonAvailable)
}

func TestSkipDeployLeavesNothing(t *testing.T) {
	e := newEnv(t, testConfig(t), imageFunction("hello", func(fn *v1beta1.NuclioFunction) {
		fn.Annotations = map[string]string{v1beta1.AnnotationSkipDeploy: "true"}
	}), defaultProject())
	_, writes := e.reconcile("hello")
	if cmp.Diff([]string{"update/status NuclioFunction hello"}, writes) != "" {
		t.Errorf("writes %v", writes)
	}
	fn := e.function("hello")
	expectCondition(t, fn, v1beta1.ConditionDeployed, metav1.ConditionFalse, ReasonSkipDeploy)
	expectCondition(t, fn, v1beta1.ConditionReady, metav1.ConditionFalse, ReasonSkipDeploy)
}

func TestChildConflictAndAdoption(t *testing.T) {
	foreign := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "nuclio-hello", Namespace: testNamespace}}
	e := newEnv(t, testConfig(t), imageFunction("hello", nil), foreign, defaultProject())
	res, _ := e.reconcile("hello")
	fn := e.function("hello")
	if fn.Status.State != v1beta1.FunctionStateError || !strings.Contains(fn.Status.Message, "Service ns/nuclio-hello exists and is not managed by nuclio-controller") || res.RequeueAfter == 0 {
		t.Errorf("state %q message %q requeue %v", fn.Status.State, fn.Status.Message, res.RequeueAfter)
	}
	expectCondition(t, fn, v1beta1.ConditionDeployed, metav1.ConditionFalse, ReasonResourceConflict)

	// A Service Nuclio's own controller made (labelled with the function, no owner) is adopted.
	nuclios := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "nuclio-hello", Namespace: testNamespace, Labels: map[string]string{v1beta1.LabelFunctionName: "hello"}},
		Spec: corev1.ServiceSpec{ClusterIP: "127.64.0.9"}}
	e = newEnv(t, testConfig(t), imageFunction("hello", nil), nuclios, defaultProject())
	e.reconcile("hello")
	svc := &corev1.Service{}
	e.mustGet("nuclio-hello", svc)
	if !metav1.IsControlledBy(svc, e.function("hello")) || svc.Spec.ClusterIP != "127.64.0.9" || svc.Labels[child.LabelManagedBy] != child.ManagedBy {
		t.Errorf("adopted Service %+v", svc)
	}
}

func TestNoWritesWhenUnchanged(t *testing.T) {
	e := newEnv(t, testConfig(t), imageFunction("hello", func(fn *v1beta1.NuclioFunction) {
		fn.Spec.MinReplicas, fn.Spec.MaxReplicas = ptr32(1), ptr32(4)
		fn.Spec.Triggers["default-http"] = v1beta1.Trigger{Kind: "http", Name: "default-http",
			Attributes: freeform.Object{"ingresses": map[string]interface{}{"a": map[string]interface{}{"host": "h.example.com", "paths": []interface{}{"/"}}}}}
	}), credentialsSecret(t, "hello", map[string]string{"$ref:/spec/x": "y"}), defaultProject())
	e.reconcile("hello")
	e.makeAvailable("hello")
	e.reconcile("hello")
	for i := 0; i < 5; i++ {
		if _, writes := e.reconcile("hello"); len(writes) != 0 {
			t.Fatalf("reconcile %d wrote %v", i, writes)
		}
	}
}
