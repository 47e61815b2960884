// Copyright The nuclio-apiserver Authors.
// SPDX-License-Identifier: Apache-2.0

package build

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/utils/ptr"

	"github.com/nuclio-apiserver/nuclio-apiserver/apis/nuclio/v1beta1"
	"github.com/nuclio-apiserver/nuclio-apiserver/pkg/version"
)

// The build Job of a function runs in the function's namespace. Its pod has two containers sharing the
// emptyDir WorkspaceDir:
//
//   - the init container ContainerFetcher (cmd/nuclio-fetcher) reads the per-build ConfigMap mounted at
//     InputDir (the masked function, the build Config and optionally the build-source policy), restores
//     code-entry credentials from the function Secret mounted at FetcherSecretDir, fetches the source
//     under the egress guard into WorkspaceDir/handler and writes the Dockerfile there;
//   - ContainerKaniko runs the Kaniko executor on dir://WorkspaceDir and pushes the image.
//
// Compared with Nuclio's Kaniko builder (nuclio/nuclio:pkg/containerimagebuilderpusher/kaniko.go), which
// runs in the dashboard's namespace and downloads a tarball the dashboard serves unauthenticated, the
// build context never leaves the pod, the pod has no API token, and everything carries the function's
// labels and an owner.
const (
	// ContainerFetcher is the init container that fetches the source and writes the build context.
	ContainerFetcher = "nuclio-fetcher"
	// ContainerKaniko is the container that builds and pushes the image.
	ContainerKaniko = "kaniko"

	// WorkspaceDir is the build context (an emptyDir): Dockerfile.processor and handler/.
	WorkspaceDir = "/workspace"
	// InputDir is where the per-build ConfigMap is mounted in the fetcher.
	InputDir = "/etc/nuclio/build"
	// FetcherSecretDir is where the function Secret is mounted in the fetcher (same path as in the
	// processor, masking.FunctionSecretMountPath).
	FetcherSecretDir = "/etc/nuclio/secrets"
	// KanikoDockerConfigDir holds config.json, the registry credentials Kaniko pushes with.
	KanikoDockerConfigDir = "/kaniko/.docker"

	// FunctionKey is the key of the per-build ConfigMap holding the function as stored (credentials
	// masked), as JSON.
	FunctionKey = "function.json"
	// BuildConfigKey holds the Config the controller planned the build with, as JSON (Go field names).
	BuildConfigKey = "build-config.json"
	// PolicyKey holds the data of the build-source policy's parameter ConfigMap, as a JSON object of
	// strings (egress.PolicyFromConfigMapData input). Absent when the controller uses the built-in policy.
	PolicyKey = "build-source-policy.json"

	// LabelComponent marks build pods with ComponentBuilder (processor pods do not carry it).
	LabelComponent = "nuclio.io/component"
	// ComponentBuilder is LabelComponent's value on build Jobs and their pods.
	ComponentBuilder = "builder"
	// AnnotationSourceHash on a build Job records Config.SourceHash of the function it builds.
	AnnotationSourceHash = "nuclio.io/source-hash"

	// DefaultKanikoImage is a maintained fork of Kaniko (GoogleContainerTools/kaniko was archived in
	// June 2025). Pin a digest in production.
	DefaultKanikoImage = "ghcr.io/osscontainertools/kaniko:v1.28.5"
	// DefaultFetcherRepository is the image repository of cmd/nuclio-fetcher; the tag is the controller's
	// version (DefaultFetcherImage).
	DefaultFetcherRepository = "ghcr.io/nuclio-apiserver/nuclio-fetcher"
	// DefaultBuilderServiceAccount is the ServiceAccount build pods run as, unless the function names one
	// in spec.build.builderServiceAccount. It needs no permissions: build pods mount no API token.
	DefaultBuilderServiceAccount = "nuclio-builder"
	// DefaultBuildTimeoutSeconds bounds a build (Nuclio's default buildTimeoutSeconds).
	DefaultBuildTimeoutSeconds int64 = 3600
	// DefaultJobTTLSecondsAfterFinished is how long a finished build Job and its pod (and log) are kept.
	DefaultJobTTLSecondsAfterFinished int32 = 600
	// DefaultPushRetries and DefaultImageFSExtractRetries are Nuclio's Kaniko retry counts.
	DefaultPushRetries           int32 = 3
	DefaultImageFSExtractRetries int32 = 3

	// FetcherUID is the non-root user the fetcher runs as (the conventional "nonroot" of distroless).
	FetcherUID int64 = 65532
)

// Volume names of the build pod.
const (
	volumeWorkspace    = "workspace"
	volumeTmp          = "tmp"
	volumeInput        = "build-input"
	volumeSecret       = "function-secret"
	volumeDockerConfig = "docker-config"
)

// DefaultFetcherImage returns DefaultFetcherRepository tagged with this binary's version.
func DefaultFetcherImage() string {
	return DefaultFetcherRepository + ":" + version.Version
}

// JobConfig is the controller-wide configuration of build Jobs. The zero value is usable: empty fields
// select the Default* constants.
type JobConfig struct {
	// KanikoImage runs the build; default DefaultKanikoImage.
	KanikoImage string
	// KanikoImagePullPolicy; default IfNotPresent (Nuclio's).
	KanikoImagePullPolicy corev1.PullPolicy
	// FetcherImage runs cmd/nuclio-fetcher; default DefaultFetcherImage().
	FetcherImage string
	// FetcherImagePullPolicy; default IfNotPresent.
	FetcherImagePullPolicy corev1.PullPolicy
	// ImagePullSecrets are Secrets (in the function's namespace) to pull KanikoImage and FetcherImage.
	ImagePullSecrets []string
	// ServiceAccountName of build pods whose function sets no spec.build.builderServiceAccount; default
	// DefaultBuilderServiceAccount.
	ServiceAccountName string
	// RegistrySecret is a Secret of type kubernetes.io/dockerconfigjson in the function's namespace whose
	// `.dockerconfigjson` Kaniko pushes with (mounted as KanikoDockerConfigDir/config.json). The mount is
	// optional, so a namespace without it builds for registries that accept anonymous pushes and
	// otherwise fails with the registry's error in the build log. Empty: no credentials.
	//
	// Kaniko runs the Dockerfile's RUN steps in the same container, so function authors can read these
	// credentials: give them push rights on the function image repositories only.
	RegistrySecret string
	// CacheRepo is Kaniko's --cache-repo (NUCLIO_DASHBOARD_KANIKO_CACHE_REPO); empty: Kaniko's default,
	// `<destination repository>/cache`.
	CacheRepo string
	// InsecurePush and InsecurePull add --insecure and --insecure-pull (plain-HTTP registries).
	InsecurePush bool
	InsecurePull bool
	// PushRetries and ImageFSExtractRetries are --push-retry and --image-fs-extract-retry; 0 selects the
	// defaults.
	PushRetries           int32
	ImageFSExtractRetries int32
	// DefaultTimeoutSeconds is activeDeadlineSeconds when spec.build.buildTimeoutSeconds is not
	// positive; 0 selects DefaultBuildTimeoutSeconds.
	DefaultTimeoutSeconds int64
	// TTLSecondsAfterFinished of build Jobs; 0 selects DefaultJobTTLSecondsAfterFinished, a negative
	// value keeps finished Jobs.
	TTLSecondsAfterFinished int32
	// KanikoResources and FetcherResources are the containers' resources. A function's spec.resources
	// describe its processor, not its build, so they are not used here (Nuclio's build pod has none).
	KanikoResources  corev1.ResourceRequirements
	FetcherResources corev1.ResourceRequirements
	// FetcherArgs are extra flags of the fetcher, e.g. `--max-download-bytes=...`.
	FetcherArgs []string
}

// JobInput is what a build Job needs beyond the function, the plan and JobConfig.
type JobInput struct {
	// Name of the Job and of its input ConfigMap (see JobName).
	Name string
	// Labels are put on the Job and its pod, e.g. the function's child labels; LabelComponent is added.
	Labels map[string]string
	// NodeSelector of the build pod: the function's enriched node selector (function ∪ project ∪
	// platform, as Nuclio schedules its Kaniko pod).
	NodeSelector map[string]string
	// FunctionSecret is the function's credentials Secret, mounted read-only into the fetcher (optional
	// mount); empty when the function has none.
	FunctionSecret string
	// Policy reports that the input ConfigMap holds PolicyKey.
	Policy bool
}

// JobName returns the name of the build Job (and its input ConfigMap) of the function named function for
// the build key key (a lower-case hex digest, normally Config.SourceHash): `nuclio-<function>-build-<first
// 10 hex of key>`. The function part is shortened to keep the name a 63-character DNS label (the Job
// controller puts the name in a pod label); the key part keeps shortened names distinct, since the
// source hash covers the function's name.
func JobName(function, key string) string {
	if len(key) > 10 {
		key = key[:10]
	}
	const prefix, infix = "nuclio-", "-build-"
	room := validation.DNS1123LabelMaxLength - len(prefix) - len(infix) - len(key)
	if len(function) > room {
		function = strings.TrimRight(function[:room], "-")
	}
	return prefix + function + infix + key
}

// BuildKey returns the key that names a build of fn whose plan has sourceHash: sourceHash itself, or,
// with spec.build.mode alwaysBuild, a digest of sourceHash and the `nuclio.io/force-update` annotation.
// Nuclio clears alwaysBuild after acting on it (it writes the spec); the controller never writes the
// spec, so alwaysBuild means "build once more, even though the source is unchanged", and changing
// `nuclio.io/force-update` asks for yet another build (a branch that moved, say). Scaling or other spec
// changes that leave the source alone do not rebuild.
func BuildKey(fn *v1beta1.NuclioFunction, sourceHash string) string {
	if fn.Spec.Build.Mode != ModeAlwaysBuild {
		return sourceHash
	}
	sum := sha256.Sum256([]byte(sourceHash + "\x00" + ModeAlwaysBuild + "\x00" + fn.Annotations[v1beta1.AnnotationForceUpdate]))
	return hex.EncodeToString(sum[:])
}

// Build modes of spec.build.mode (nuclio/nuclio:pkg/functionconfig/types.go).
const (
	ModeNeverBuild  = "neverBuild"
	ModeAlwaysBuild = "alwaysBuild"
)

// NewJobConfigMap returns the input ConfigMap of a build Job named name: the function as stored (its
// credentials are `$ref:` tokens; the fetcher restores them from the function Secret), cfg, and, when
// policy is non-nil, the build-source policy parameters. The caller sets its owner (the Job, so that the
// ConfigMap goes with the Job's TTL).
func NewJobConfigMap(fn *v1beta1.NuclioFunction, cfg Config, policy map[string]string, name string, labels map[string]string) (*corev1.ConfigMap, error) {
	if fn == nil {
		return nil, errors.New("build: no function given")
	}
	stored := fn.DeepCopy()
	// Keep what the fetcher needs: the build-relevant metadata and the spec. Status, managed fields and
	// kubectl's copy of the whole object are noise (and could push the ConfigMap over its size limit).
	stored.ObjectMeta = metav1.ObjectMeta{
		Name:        fn.Name,
		Namespace:   fn.Namespace,
		UID:         fn.UID,
		Generation:  fn.Generation,
		Labels:      fn.Labels,
		Annotations: withoutAnnotation(fn.Annotations, lastAppliedAnnotation),
	}
	stored.Status = v1beta1.FunctionStatus{}
	stored.TypeMeta = metav1.TypeMeta{APIVersion: v1beta1.SchemeGroupVersion.String(), Kind: "NuclioFunction"}
	function, err := json.Marshal(stored)
	if err != nil {
		return nil, fmt.Errorf("encoding the function: %w", err)
	}
	config, err := json.Marshal(cfg)
	if err != nil {
		return nil, fmt.Errorf("encoding the build configuration: %w", err)
	}
	data := map[string]string{FunctionKey: string(function), BuildConfigKey: string(config)}
	if policy != nil {
		p, err := json.Marshal(policy)
		if err != nil {
			return nil, fmt.Errorf("encoding the build-source policy: %w", err)
		}
		data[PolicyKey] = string(p)
	}
	return &corev1.ConfigMap{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"},
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: fn.Namespace, Labels: withComponent(labels)},
		Data:       data,
	}, nil
}

// lastAppliedAnnotation is kubectl's client-side-apply annotation; build pods do not inherit it.
const lastAppliedAnnotation = "kubectl.kubernetes.io/last-applied-configuration"

// NewJob returns the build Job of fn for plan (see the package constants for its layout):
//
//   - batch/v1, backoffLimit 0 and completions 1 as in Nuclio, activeDeadlineSeconds from
//     spec.build.buildTimeoutSeconds when positive (else c.DefaultTimeoutSeconds; Nuclio treats a
//     non-positive value as "no limit", which an unattended controller should not), and
//     ttlSecondsAfterFinished from c;
//   - the pod carries in.Labels plus `nuclio.io/component: builder` and the function's annotations
//     (except kubectl's last-applied-configuration), as Nuclio copies function annotations to its pods;
//   - it runs as spec.build.builderServiceAccount or c.ServiceAccountName, never mounts an API token,
//     gets no Service environment variables, and is scheduled with the function's node constraints
//     (in.NodeSelector, nodeName, affinity, tolerations, priorityClassName);
//   - the fetcher runs as FetcherUID with a read-only root file system, no capabilities, no privilege
//     escalation and the runtime's seccomp profile; Kaniko runs as root, as it must, but unprivileged;
//   - both use terminationMessagePolicy FallbackToLogsOnError, so a failure's last log lines reach
//     the container status, where the controller reads them.
//
// Kaniko's arguments: --context=dir:///workspace, --dockerfile, --destination=plan.Image.Destination,
// --push-retry, --image-fs-extract-retry, --cache=true unless spec.build.noCache (with --cache-repo when
// configured), --insecure/--insecure-pull when configured, spec.build.flags verbatim (the build-source
// policy's allowedBuildFlags decide which may appear; the caller must have checked them), then
// plan.BuildArgFlags() (nuclio-compat §5.5).
//
// Errors: a nil function or plan, or an invalid Job name.
func (c JobConfig) NewJob(fn *v1beta1.NuclioFunction, plan *Plan, in JobInput) (*batchv1.Job, error) {
	if fn == nil || plan == nil {
		return nil, errors.New("build: a function and a plan are required")
	}
	if msgs := validation.IsDNS1123Label(in.Name); len(msgs) > 0 {
		return nil, fmt.Errorf("build: Job name %q: %s", in.Name, strings.Join(msgs, "; "))
	}
	c = c.withDefaults()
	b := &fn.Spec.Build

	timeout := c.DefaultTimeoutSeconds
	if b.BuildTimeoutSeconds != nil && *b.BuildTimeoutSeconds > 0 {
		timeout = *b.BuildTimeoutSeconds
	}
	serviceAccount := c.ServiceAccountName
	if b.BuilderServiceAccount != "" {
		serviceAccount = b.BuilderServiceAccount
	}
	labels := withComponent(in.Labels)

	podAnnotations := map[string]string{"kubectl.kubernetes.io/default-container": ContainerKaniko}
	for k, v := range fn.Annotations {
		if k != lastAppliedAnnotation {
			podAnnotations[k] = v
		}
	}

	fetcherArgs := []string{
		"--function=" + InputDir + "/" + FunctionKey,
		"--build-config=" + InputDir + "/" + BuildConfigKey,
		"--workspace=" + WorkspaceDir,
		"--expected-source-hash=" + plan.SourceHash,
	}
	if in.Policy {
		fetcherArgs = append(fetcherArgs, "--policy="+InputDir+"/"+PolicyKey)
	}
	if in.FunctionSecret != "" {
		fetcherArgs = append(fetcherArgs, "--secret-dir="+FetcherSecretDir)
	}
	fetcherArgs = append(fetcherArgs, c.FetcherArgs...)

	kanikoArgs := []string{
		"--context=dir://" + WorkspaceDir,
		"--dockerfile=" + WorkspaceDir + "/" + DockerfileName,
		"--destination=" + plan.Image.Destination,
		fmt.Sprintf("--push-retry=%d", c.PushRetries),
		fmt.Sprintf("--image-fs-extract-retry=%d", c.ImageFSExtractRetries),
	}
	if !b.NoCache {
		kanikoArgs = append(kanikoArgs, "--cache=true")
		if c.CacheRepo != "" {
			kanikoArgs = append(kanikoArgs, "--cache-repo="+c.CacheRepo)
		}
	}
	if c.InsecurePush && !hasFlag(b.Flags, "--insecure") {
		kanikoArgs = append(kanikoArgs, "--insecure")
	}
	if c.InsecurePull && !hasFlag(b.Flags, "--insecure-pull") {
		kanikoArgs = append(kanikoArgs, "--insecure-pull")
	}
	kanikoArgs = append(kanikoArgs, b.Flags...)
	kanikoArgs = append(kanikoArgs, plan.BuildArgFlags()...)

	volumes := []corev1.Volume{
		{Name: volumeWorkspace, VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}},
		{Name: volumeTmp, VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}},
		{Name: volumeInput, VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
			LocalObjectReference: corev1.LocalObjectReference{Name: in.Name},
		}}},
	}
	fetcherMounts := []corev1.VolumeMount{
		{Name: volumeWorkspace, MountPath: WorkspaceDir},
		{Name: volumeTmp, MountPath: "/tmp"},
		{Name: volumeInput, MountPath: InputDir, ReadOnly: true},
	}
	if in.FunctionSecret != "" {
		volumes = append(volumes, corev1.Volume{Name: volumeSecret, VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{
			SecretName: in.FunctionSecret,
			Optional:   ptr.To(true),
		}}})
		fetcherMounts = append(fetcherMounts, corev1.VolumeMount{Name: volumeSecret, MountPath: FetcherSecretDir, ReadOnly: true})
	}
	kanikoMounts := []corev1.VolumeMount{{Name: volumeWorkspace, MountPath: WorkspaceDir}}
	if c.RegistrySecret != "" {
		volumes = append(volumes, corev1.Volume{Name: volumeDockerConfig, VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{
			SecretName: c.RegistrySecret,
			Items:      []corev1.KeyToPath{{Key: corev1.DockerConfigJsonKey, Path: "config.json"}},
			Optional:   ptr.To(true),
		}}})
		kanikoMounts = append(kanikoMounts, corev1.VolumeMount{Name: volumeDockerConfig, MountPath: KanikoDockerConfigDir, ReadOnly: true})
	}

	var pullSecrets []corev1.LocalObjectReference
	for _, name := range c.ImagePullSecrets {
		pullSecrets = append(pullSecrets, corev1.LocalObjectReference{Name: name})
	}

	job := &batchv1.Job{
		TypeMeta: metav1.TypeMeta{APIVersion: "batch/v1", Kind: "Job"},
		ObjectMeta: metav1.ObjectMeta{
			Name:        in.Name,
			Namespace:   fn.Namespace,
			Labels:      labels,
			Annotations: map[string]string{AnnotationSourceHash: plan.SourceHash},
		},
		Spec: batchv1.JobSpec{
			Parallelism:           ptr.To[int32](1),
			Completions:           ptr.To[int32](1),
			BackoffLimit:          ptr.To[int32](0),
			ActiveDeadlineSeconds: ptr.To(timeout),
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels, Annotations: podAnnotations},
				Spec: corev1.PodSpec{
					RestartPolicy:                corev1.RestartPolicyNever,
					ServiceAccountName:           serviceAccount,
					AutomountServiceAccountToken: ptr.To(false),
					EnableServiceLinks:           ptr.To(false),
					ImagePullSecrets:             pullSecrets,
					NodeSelector:                 in.NodeSelector,
					NodeName:                     fn.Spec.NodeName,
					Affinity:                     fn.Spec.Affinity,
					Tolerations:                  fn.Spec.Tolerations,
					PriorityClassName:            fn.Spec.PriorityClassName,
					Volumes:                      volumes,
					InitContainers: []corev1.Container{{
						Name:                     ContainerFetcher,
						Image:                    c.FetcherImage,
						ImagePullPolicy:          c.FetcherImagePullPolicy,
						Args:                     fetcherArgs,
						VolumeMounts:             fetcherMounts,
						Resources:                c.FetcherResources,
						TerminationMessagePath:   corev1.TerminationMessagePathDefault,
						TerminationMessagePolicy: corev1.TerminationMessageFallbackToLogsOnError,
						SecurityContext: &corev1.SecurityContext{
							RunAsNonRoot:             ptr.To(true),
							RunAsUser:                ptr.To(FetcherUID),
							RunAsGroup:               ptr.To(FetcherUID),
							ReadOnlyRootFilesystem:   ptr.To(true),
							AllowPrivilegeEscalation: ptr.To(false),
							Privileged:               ptr.To(false),
							Capabilities:             &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
							SeccompProfile:           &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
						},
					}},
					Containers: []corev1.Container{{
						Name:                     ContainerKaniko,
						Image:                    c.KanikoImage,
						ImagePullPolicy:          c.KanikoImagePullPolicy,
						Args:                     kanikoArgs,
						VolumeMounts:             kanikoMounts,
						Resources:                c.KanikoResources,
						TerminationMessagePath:   corev1.TerminationMessagePathDefault,
						TerminationMessagePolicy: corev1.TerminationMessageFallbackToLogsOnError,
						SecurityContext:          &corev1.SecurityContext{Privileged: ptr.To(false)},
					}},
				},
			},
		},
	}
	if c.TTLSecondsAfterFinished >= 0 {
		job.Spec.TTLSecondsAfterFinished = ptr.To(c.TTLSecondsAfterFinished)
	}
	return job, nil
}

func (c JobConfig) withDefaults() JobConfig {
	if c.KanikoImage == "" {
		c.KanikoImage = DefaultKanikoImage
	}
	if c.KanikoImagePullPolicy == "" {
		c.KanikoImagePullPolicy = corev1.PullIfNotPresent
	}
	if c.FetcherImage == "" {
		c.FetcherImage = DefaultFetcherImage()
	}
	if c.FetcherImagePullPolicy == "" {
		c.FetcherImagePullPolicy = corev1.PullIfNotPresent
	}
	if c.ServiceAccountName == "" {
		c.ServiceAccountName = DefaultBuilderServiceAccount
	}
	if c.PushRetries == 0 {
		c.PushRetries = DefaultPushRetries
	}
	if c.ImageFSExtractRetries == 0 {
		c.ImageFSExtractRetries = DefaultImageFSExtractRetries
	}
	if c.DefaultTimeoutSeconds <= 0 {
		c.DefaultTimeoutSeconds = DefaultBuildTimeoutSeconds
	}
	if c.TTLSecondsAfterFinished == 0 {
		c.TTLSecondsAfterFinished = DefaultJobTTLSecondsAfterFinished
	}
	return c
}

// hasFlag reports whether flags contain name alone or as name=value.
func hasFlag(flags []string, name string) bool {
	for _, f := range flags {
		if f == name || strings.HasPrefix(f, name+"=") {
			return true
		}
	}
	return false
}

func withComponent(labels map[string]string) map[string]string {
	out := make(map[string]string, len(labels)+1)
	for k, v := range labels {
		out[k] = v
	}
	out[LabelComponent] = ComponentBuilder
	return out
}

func withoutAnnotation(annotations map[string]string, key string) map[string]string {
	if _, ok := annotations[key]; !ok {
		return annotations
	}
	out := make(map[string]string, len(annotations))
	for k, v := range annotations {
		if k != key {
			out[k] = v
		}
	}
	return out
}
