// Copyright The nuclio-apiserver Authors.
// SPDX-License-Identifier: Apache-2.0

package build

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/utils/ptr"

	"github.com/nuclio-apiserver/nuclio-apiserver/apis/nuclio/v1beta1"
)

func jobFunction(mutate func(*v1beta1.NuclioFunction)) *v1beta1.NuclioFunction {
	fn := newFunction("python:3.11", "main:handler", func(fn *v1beta1.NuclioFunction) {
		fn.UID = "uid-1"
		fn.Labels = map[string]string{"nuclio.io/project-name": "shop"}
		fn.Annotations = map[string]string{
			"fail-build":          "true",
			lastAppliedAnnotation: `{"spec":{}}`,
		}
		fn.Spec.Build.Flags = []string{"--single-snapshot"}
		fn.Spec.NodeName = "node-a"
		fn.Spec.Tolerations = []corev1.Toleration{{Key: "gpu", Operator: corev1.TolerationOpExists}}
		fn.Spec.PriorityClassName = "high"
	})
	if mutate != nil {
		mutate(fn)
	}
	return fn
}

func mustPlan(t *testing.T, fn *v1beta1.NuclioFunction) *Plan {
	t.Helper()
	plan, err := testConfig.Generate(fn)
	if err != nil {
		t.Fatalf("Generate: %v", err)
	}
	return plan
}

func TestNewJob(t *testing.T) {
	fn := jobFunction(nil)
	plan := mustPlan(t, fn)
	cfg := JobConfig{
		RegistrySecret:   "push-creds",
		CacheRepo:        "registry.example.com/cache",
		ImagePullSecrets: []string{"pull-builders"},
		KanikoResources:  corev1.ResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("1Gi")}},
		FetcherArgs:      []string{"--max-entries=100"},
	}
	job, err := cfg.NewJob(fn, plan, JobInput{
		Name:           JobName(fn.Name, plan.SourceHash),
		Labels:         map[string]string{"nuclio.io/function-name": "fn"},
		NodeSelector:   map[string]string{"pool": "builds"},
		FunctionSecret: "nuclio-fn-credentials",
		Policy:         true,
	})
	if err != nil {
		t.Fatal(err)
	}

	if want := "nuclio-fn-build-" + plan.SourceHash[:10]; job.Name != want || job.Namespace != "ns" {
		t.Errorf("name %s/%s, want ns/%s", job.Namespace, job.Name, want)
	}
	wantLabels := map[string]string{"nuclio.io/function-name": "fn", LabelComponent: ComponentBuilder}
	if diff := cmp.Diff(wantLabels, job.Labels); diff != "" {
		t.Errorf("Job labels (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(wantLabels, job.Spec.Template.Labels); diff != "" {
		t.Errorf("pod labels (-want +got):\n%s", diff)
	}
	if job.Annotations[AnnotationSourceHash] != plan.SourceHash {
		t.Errorf("source hash annotation %q", job.Annotations[AnnotationSourceHash])
	}
	podAnnotations := job.Spec.Template.Annotations
	if podAnnotations["fail-build"] != "true" {
		t.Errorf("function annotations must reach the build pod: %v", podAnnotations)
	}
	if _, ok := podAnnotations[lastAppliedAnnotation]; ok {
		t.Errorf("last-applied-configuration must not reach the build pod")
	}

	spec := job.Spec
	if *spec.BackoffLimit != 0 || *spec.Completions != 1 || *spec.ActiveDeadlineSeconds != DefaultBuildTimeoutSeconds || *spec.TTLSecondsAfterFinished != DefaultJobTTLSecondsAfterFinished {
		t.Errorf("backoff %d completions %d deadline %d ttl %d", *spec.BackoffLimit, *spec.Completions, *spec.ActiveDeadlineSeconds, *spec.TTLSecondsAfterFinished)
	}
	pod := spec.Template.Spec
	if pod.ServiceAccountName != DefaultBuilderServiceAccount || pod.AutomountServiceAccountToken == nil || *pod.AutomountServiceAccountToken {
		t.Errorf("service account %q automount %v", pod.ServiceAccountName, pod.AutomountServiceAccountToken)
	}
	if pod.RestartPolicy != corev1.RestartPolicyNever || pod.EnableServiceLinks == nil || *pod.EnableServiceLinks {
		t.Errorf("restart policy %s, service links %v", pod.RestartPolicy, pod.EnableServiceLinks)
	}
	if pod.NodeName != "node-a" || pod.PriorityClassName != "high" || len(pod.Tolerations) != 1 || pod.NodeSelector["pool"] != "builds" {
		t.Errorf("node constraints not copied: %+v", pod)
	}
	if len(pod.ImagePullSecrets) != 1 || pod.ImagePullSecrets[0].Name != "pull-builders" {
		t.Errorf("image pull secrets %v", pod.ImagePullSecrets)
	}
	for _, v := range pod.Volumes {
		if v.HostPath != nil {
			t.Errorf("volume %s is a hostPath", v.Name)
		}
	}

	if len(pod.InitContainers) != 1 || len(pod.Containers) != 1 {
		t.Fatalf("want one init container and one container, got %d and %d", len(pod.InitContainers), len(pod.Containers))
	}
	fetcher, kaniko := pod.InitContainers[0], pod.Containers[0]
	if fetcher.Name != ContainerFetcher || kaniko.Name != ContainerKaniko {
		t.Errorf("container names %s, %s", fetcher.Name, kaniko.Name)
	}
	if fetcher.Image != DefaultFetcherImage() || kaniko.Image != DefaultKanikoImage {
		t.Errorf("images %s, %s", fetcher.Image, kaniko.Image)
	}
	wantFetcherArgs := []string{
		"--function=/etc/nuclio/build/function.json",
		"--build-config=/etc/nuclio/build/build-config.json",
		"--workspace=/workspace",
		"--expected-source-hash=" + plan.SourceHash,
		"--policy=/etc/nuclio/build/build-source-policy.json",
		"--secret-dir=/etc/nuclio/secrets",
		"--max-entries=100",
	}
	if diff := cmp.Diff(wantFetcherArgs, fetcher.Args); diff != "" {
		t.Errorf("fetcher args (-want +got):\n%s", diff)
	}
	sc := fetcher.SecurityContext
	if sc == nil || !*sc.RunAsNonRoot || *sc.RunAsUser != FetcherUID || !*sc.ReadOnlyRootFilesystem || *sc.AllowPrivilegeEscalation ||
		*sc.Privileged || len(sc.Capabilities.Drop) != 1 || sc.Capabilities.Drop[0] != "ALL" || sc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
		t.Errorf("fetcher security context %+v", sc)
	}
	if kaniko.SecurityContext == nil || kaniko.SecurityContext.Privileged == nil || *kaniko.SecurityContext.Privileged {
		t.Errorf("kaniko must not be privileged: %+v", kaniko.SecurityContext)
	}
	for _, c := range []corev1.Container{fetcher, kaniko} {
		if c.TerminationMessagePolicy != corev1.TerminationMessageFallbackToLogsOnError {
			t.Errorf("%s: terminationMessagePolicy %q", c.Name, c.TerminationMessagePolicy)
		}
	}
	wantKanikoArgs := append([]string{
		"--context=dir:///workspace",
		"--dockerfile=/workspace/Dockerfile.processor",
		"--destination=" + plan.Image.Destination,
		"--push-retry=3",
		"--image-fs-extract-retry=3",
		"--cache=true",
		"--cache-repo=registry.example.com/cache",
		"--single-snapshot",
	}, plan.BuildArgFlags()...)
	if diff := cmp.Diff(wantKanikoArgs, kaniko.Args); diff != "" {
		t.Errorf("kaniko args (-want +got):\n%s", diff)
	}
	if kaniko.Resources.Requests.Memory().String() != "1Gi" {
		t.Errorf("kaniko resources %v", kaniko.Resources)
	}

	mounts := func(c corev1.Container) map[string]corev1.VolumeMount {
		out := map[string]corev1.VolumeMount{}
		for _, m := range c.VolumeMounts {
			out[m.Name] = m
		}
		return out
	}
	fm, km := mounts(fetcher), mounts(kaniko)
	if fm["workspace"].MountPath != WorkspaceDir || fm["function-secret"].MountPath != FetcherSecretDir || !fm["function-secret"].ReadOnly ||
		!fm["build-input"].ReadOnly || fm["tmp"].MountPath != "/tmp" {
		t.Errorf("fetcher mounts %+v", fm)
	}
	if _, ok := km["function-secret"]; ok {
		t.Errorf("Kaniko must not see the function Secret: %+v", km)
	}
	if km["docker-config"].MountPath != KanikoDockerConfigDir || km["workspace"].MountPath != WorkspaceDir {
		t.Errorf("kaniko mounts %+v", km)
	}
	volumes := map[string]corev1.Volume{}
	for _, v := range pod.Volumes {
		volumes[v.Name] = v
	}
	if v := volumes["docker-config"].Secret; v == nil || v.SecretName != "push-creds" || v.Items[0].Key != corev1.DockerConfigJsonKey || v.Items[0].Path != "config.json" {
		t.Errorf("docker-config volume %+v", volumes["docker-config"])
	}
	if v := volumes["function-secret"].Secret; v == nil || v.SecretName != "nuclio-fn-credentials" {
		t.Errorf("function-secret volume %+v", volumes["function-secret"])
	}
	if v := volumes["build-input"].ConfigMap; v == nil || v.Name != job.Name {
		t.Errorf("build-input volume %+v", volumes["build-input"])
	}
}

func TestNewJobOptions(t *testing.T) {
	fn := jobFunction(func(fn *v1beta1.NuclioFunction) {
		fn.Spec.Build.NoCache = true
		fn.Spec.Build.BuildTimeoutSeconds = ptr.To[int64](120)
		fn.Spec.Build.BuilderServiceAccount = "custom-builder"
		fn.Spec.Build.Flags = nil
	})
	plan := mustPlan(t, fn)
	job, err := JobConfig{InsecurePush: true, InsecurePull: true, TTLSecondsAfterFinished: -1}.NewJob(fn, plan, JobInput{Name: "nuclio-fn-build-0123456789"})
	if err != nil {
		t.Fatal(err)
	}
	if *job.Spec.ActiveDeadlineSeconds != 120 {
		t.Errorf("deadline %d, want spec.build.buildTimeoutSeconds", *job.Spec.ActiveDeadlineSeconds)
	}
	if job.Spec.TTLSecondsAfterFinished != nil {
		t.Errorf("a negative TTL keeps Jobs, got %d", *job.Spec.TTLSecondsAfterFinished)
	}
	pod := job.Spec.Template.Spec
	if pod.ServiceAccountName != "custom-builder" || *pod.AutomountServiceAccountToken {
		t.Errorf("service account %s automount %v", pod.ServiceAccountName, *pod.AutomountServiceAccountToken)
	}
	args := strings.Join(pod.Containers[0].Args, " ")
	if strings.Contains(args, "--cache") || !strings.Contains(args, "--insecure ") || !strings.Contains(args, "--insecure-pull") {
		t.Errorf("kaniko args %s", args)
	}
	for _, a := range pod.InitContainers[0].Args {
		if strings.HasPrefix(a, "--policy") || strings.HasPrefix(a, "--secret-dir") {
			t.Errorf("fetcher arg %s without policy or Secret", a)
		}
	}
	for _, v := range pod.Volumes {
		if v.Name == "function-secret" || v.Name == "docker-config" {
			t.Errorf("unexpected volume %s", v.Name)
		}
	}
	if _, err := (JobConfig{}).NewJob(fn, plan, JobInput{Name: "Not_A_Name"}); err == nil {
		t.Error("an invalid Job name must be refused")
	}
}

func TestJobName(t *testing.T) {
	key := strings.Repeat("ab", 32)
	if got := JobName("hello", key); got != "nuclio-hello-build-ababababab" {
		t.Errorf("JobName = %s", got)
	}
	// The longest function name (56 characters) is shortened to keep a DNS label.
	got := JobName(strings.Repeat("x", 56), key)
	if len(got) != validation.DNS1123LabelMaxLength || !strings.HasSuffix(got, "x-build-ababababab") {
		t.Errorf("JobName(long) = %s (%d characters)", got, len(got))
	}
	// Shortening never leaves a '-' before the infix.
	if msgs := validation.IsDNS1123Label(JobName(strings.Repeat("a", 38)+"-b", key)); len(msgs) > 0 {
		t.Errorf("not a DNS label: %v", msgs)
	}
	if got := JobName(strings.Repeat("a", 38)+"-b", key); strings.Contains(got, "--") {
		t.Errorf("JobName = %s", got)
	}
}

func TestBuildKey(t *testing.T) {
	fn := jobFunction(nil)
	if BuildKey(fn, "abc") != "abc" {
		t.Error("without alwaysBuild the key is the source hash")
	}
	fn.Spec.Build.Mode = ModeAlwaysBuild
	k1 := BuildKey(fn, "abc")
	if k1 == "abc" || len(k1) != 64 {
		t.Errorf("alwaysBuild key %q", k1)
	}
	if BuildKey(fn, "abc") != k1 {
		t.Error("the key must be deterministic")
	}
	fn.Annotations[v1beta1.AnnotationForceUpdate] = "2"
	if BuildKey(fn, "abc") == k1 {
		t.Error("nuclio.io/force-update must change the alwaysBuild key")
	}
}

func TestNewJobConfigMap(t *testing.T) {
	fn := jobFunction(func(fn *v1beta1.NuclioFunction) {
		fn.ManagedFields = []metav1.ManagedFieldsEntry{{Manager: "kubectl"}}
		fn.Status.State = v1beta1.FunctionStateReady
		fn.Spec.Build.CodeEntryAttributes = map[string]interface{}{"headers": map[string]interface{}{"Authorization": "$ref:/spec/build/codeentryattributes/headers/authorization"}}
	})
	cm, err := NewJobConfigMap(fn, testConfig, map[string]string{"allowPlainHTTP": "false"}, "nuclio-fn-build-x", map[string]string{"a": "b"})
	if err != nil {
		t.Fatal(err)
	}
	if cm.Name != "nuclio-fn-build-x" || cm.Namespace != "ns" || cm.Labels[LabelComponent] != ComponentBuilder || cm.Labels["a"] != "b" {
		t.Errorf("metadata %+v", cm.ObjectMeta)
	}
	var stored v1beta1.NuclioFunction
	if err := json.Unmarshal([]byte(cm.Data[FunctionKey]), &stored); err != nil {
		t.Fatal(err)
	}
	if stored.Name != "fn" || stored.Status.State != "" || len(stored.ManagedFields) != 0 || stored.Annotations[lastAppliedAnnotation] != "" {
		t.Errorf("stored function carries status, managed fields or last-applied: %+v", stored.ObjectMeta)
	}
	if got := testConfig.SourceHash(&stored); got != testConfig.SourceHash(fn) {
		t.Error("the stored function must hash like the original (the fetcher checks it)")
	}
	if !strings.Contains(cm.Data[FunctionKey], "$ref:/spec/build/codeentryattributes/headers/authorization") {
		t.Error("credentials stay masked in the ConfigMap")
	}
	var cfg Config
	if err := json.Unmarshal([]byte(cm.Data[BuildConfigKey]), &cfg); err != nil || cfg.Registry != testConfig.Registry {
		t.Errorf("build config %q: %v", cm.Data[BuildConfigKey], err)
	}
	var policy map[string]string
	if err := json.Unmarshal([]byte(cm.Data[PolicyKey]), &policy); err != nil || policy["allowPlainHTTP"] != "false" {
		t.Errorf("policy %q: %v", cm.Data[PolicyKey], err)
	}
	noPolicy, err := NewJobConfigMap(fn, testConfig, nil, "x", nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := noPolicy.Data[PolicyKey]; ok {
		t.Error("no policy key without a policy")
	}
}
