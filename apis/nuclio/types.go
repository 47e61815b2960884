// Copyright The nuclio-apiserver Authors.
// SPDX-License-Identifier: Apache-2.0

package nuclio

import (
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/nuclio-apiserver/nuclio-apiserver/apis/nuclio/freeform"
)

// These are the internal (hub) types of the nuclio.io group: the form every served version converts to and
// from, and the form validation, strategies and the controller work on. They mirror v1beta1 field for field;
// see apis/nuclio/v1beta1 for the wire contract and the Nuclio sources each field comes from.

// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// NuclioFunction is a Nuclio serverless function: its code, runtime, triggers and how to build and run it.
type NuclioFunction struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// Spec is the desired function configuration (Nuclio's function.yaml `spec`).
	Spec FunctionSpec `json:"spec"`
	// Status is the observed state, written through the status subresource.
	Status FunctionStatus `json:"status,omitempty"`
}

// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// NuclioFunctionList is a list of NuclioFunction objects.
type NuclioFunctionList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`

	Items []NuclioFunction `json:"items"`
}

// FunctionSpec is Nuclio's function specification (functionconfig.Spec).
type FunctionSpec struct {
	// Description is free text, copied to the Deployment annotation `description`.
	Description string `json:"description,omitempty"`
	// Disable pauses the function: it runs zero replicas.
	Disable bool `json:"disable,omitempty"`
	// Publish is a legacy flag that the Kubernetes platform ignores.
	Publish bool `json:"publish,omitempty"`
	// Handler is the entry point: `module:entrypoint` or `entrypoint` (e.g. `helloworld:handler`, `main:Handler`).
	Handler string `json:"handler,omitempty"`
	// Runtime is the language runtime: python (meaning python:3.9), python:3.9, python:3.10, python:3.11,
	// golang, nodejs, java, dotnetcore, ruby or shell.
	Runtime string `json:"runtime,omitempty"`
	// Env is the function container's environment.
	Env []corev1.EnvVar `json:"env,omitempty"`
	// EnvFrom adds environment variables from ConfigMaps and Secrets.
	EnvFrom []corev1.EnvFromSource `json:"envFrom,omitempty"`
	// Resources of the function container. Requests default to cpu 25m and memory 1Mi in Nuclio.
	Resources corev1.ResourceRequirements `json:"resources,omitempty"`
	// Image is the image to run, set by the build to `<runRegistry>/<image>:<tag>`.
	Image string `json:"image,omitempty"`
	// ImageHash forces a rollout when it changes (copied to the pod annotation `nuclio.io/image-hash`).
	ImageHash string `json:"imageHash,omitempty"`
	// Replicas is a fixed replica count; it overrides minReplicas and maxReplicas. The scale subresource
	// reads and writes this field.
	Replicas *int32 `json:"replicas,omitempty"`
	// MinReplicas is the autoscaler minimum (0 allows scale to zero).
	MinReplicas *int32 `json:"minReplicas,omitempty"`
	// MaxReplicas is the autoscaler maximum; must be > 0 when set.
	MaxReplicas *int32 `json:"maxReplicas,omitempty"`
	// TargetCPU is the autoscaler's CPU utilisation target in percent (Nuclio's default is 75).
	TargetCPU int32 `json:"targetCPU,omitempty"`
	// DataBindings are legacy v3io/EventHub bindings, keyed by name.
	DataBindings map[string]DataBinding `json:"dataBindings,omitempty"`
	// Triggers are the event sources, keyed by name; each key must equal the trigger's `name`.
	Triggers map[string]Trigger `json:"triggers,omitempty"`
	// Volumes mounted into the function container.
	Volumes []Volume `json:"volumes,omitempty"`
	// Version is forced to -1 by Nuclio's controller.
	Version int32 `json:"version,omitempty"`
	// Alias is forced to `latest` by Nuclio's controller.
	Alias string `json:"alias,omitempty"`
	// Build describes where the code comes from and how the image is built.
	Build Build `json:"build,omitempty"`
	// RunRegistry is the registry prefix used to pull the image (prepended to `image` when missing).
	RunRegistry string `json:"runRegistry,omitempty"`
	// ImagePullSecrets is the name of one Secret used to pull the image (a single name, not a list).
	ImagePullSecrets string `json:"imagePullSecrets,omitempty"`
	// RuntimeAttributes are runtime-specific settings, e.g. Java `jvmOptions`.
	RuntimeAttributes freeform.Object `json:"runtimeAttributes,omitempty"`
	// LoggerSinks configure the function's loggers.
	LoggerSinks []LoggerSink `json:"loggerSinks,omitempty"`
	// DealerURI is a legacy field.
	DealerURI string `json:"dealerURI,omitempty"`
	// Platform holds platform-specific attributes (e.g. `restartPolicy`, `mountMode` on the Docker platform).
	Platform Platform `json:"platform,omitempty"`
	// ReadinessTimeoutSeconds is how long to wait for the function to become ready; 0 means the platform
	// default (120 s in Nuclio).
	ReadinessTimeoutSeconds int32 `json:"readinessTimeoutSeconds,omitempty"`
	// ServiceType is the legacy Service type; the http trigger's `attributes.serviceType` wins.
	// Only ClusterIP and NodePort are accepted.
	ServiceType corev1.ServiceType `json:"serviceType,omitempty"`
	// ImagePullPolicy of the function container (Nuclio's default is Always).
	ImagePullPolicy corev1.PullPolicy `json:"imagePullPolicy,omitempty"`
	// SecurityContext of the function pod.
	SecurityContext *corev1.PodSecurityContext `json:"securityContext,omitempty"`
	// ServiceAccount the function pod runs as.
	ServiceAccount string `json:"serviceAccount,omitempty"`
	// ScaleToZero configures when an idle function scales to zero.
	ScaleToZero *ScaleToZeroSpec `json:"scaleToZero,omitempty"`
	// DisableDefaultHTTPTrigger suppresses the `default-http` trigger; nil means the platform default (false).
	DisableDefaultHTTPTrigger *bool `json:"disableDefaultHTTPTrigger,omitempty"`
	// DisableSensitiveFieldsMasking opts the function out of credential masking, where the cluster allows it.
	DisableSensitiveFieldsMasking bool `json:"disableSensitiveFieldsMasking,omitempty"`
	// Devices are host devices (Docker platform only).
	Devices []string `json:"devices,omitempty"`
	// Affinity of the function pod.
	Affinity *corev1.Affinity `json:"affinity,omitempty"`
	// NodeSelector of the function pod, merged with the project's and platform's defaults.
	NodeSelector map[string]string `json:"nodeSelector,omitempty"`
	// NodeName pins the function pod to one node.
	NodeName string `json:"nodeName,omitempty"`
	// Tolerations of the function pod.
	Tolerations []corev1.Toleration `json:"tolerations,omitempty"`
	// PriorityClassName of the function pod.
	PriorityClassName string `json:"priorityClassName,omitempty"`
	// PreemptionPolicy of the function pod.
	PreemptionPolicy *corev1.PreemptionPolicy `json:"preemptionPolicy,omitempty"`
	// DeploymentStrategy overrides the rollout strategy (default RollingUpdate, Recreate with GPUs).
	DeploymentStrategy *appsv1.DeploymentStrategy `json:"deploymentStrategy,omitempty"`
	// HostIPC uses the host's IPC namespace.
	HostIPC bool `json:"hostIPC,omitempty"`
	// CustomScalingMetricSpecs replace the default CPU metric of the autoscaler.
	CustomScalingMetricSpecs []autoscalingv2.MetricSpec `json:"customScalingMetricSpecs,omitempty"`
	// AutoScaleMetrics are used when the platform's autoScaleMetricsMode is custom.
	AutoScaleMetrics []AutoScaleMetric `json:"autoScaleMetrics,omitempty"`
	// WaitReadinessTimeoutBeforeFailure waits the whole readiness timeout instead of failing fast.
	WaitReadinessTimeoutBeforeFailure bool `json:"waitReadinessTimeoutBeforeFailure,omitempty"`
	// EventTimeout is a Go duration (e.g. `20s`), positive when set. Nuclio always serialises it.
	EventTimeout string `json:"eventTimeout"`
	// PreemptionMode is allow, constrain, prevent or none.
	PreemptionMode string `json:"preemptionMode,omitempty"`
	// Sidecars run beside the function container; ports 8080, 8081, 8082, 8090 and the names `http` and
	// `metrics` are reserved.
	Sidecars []corev1.Container `json:"sidecars,omitempty"`
	// InitContainers run before the function container.
	InitContainers []corev1.Container `json:"initContainers,omitempty"`
}

// DataBinding is a legacy data binding (functionconfig.DataBinding).
type DataBinding struct {
	Name  string `json:"name,omitempty"`
	Class string `json:"class"`
	Kind  string `json:"kind"`
	URL   string `json:"url"`
	Path  string `json:"path,omitempty"`
	Query string `json:"query,omitempty"`
	// Secret is a credential; it is masked into the function Secret.
	Secret     string          `json:"secret,omitempty"`
	Attributes freeform.Object `json:"attributes,omitempty"`
}

// Partition is a stream partition of a trigger.
type Partition struct {
	ID         string  `json:"id"`
	Checkpoint *string `json:"checkpoint,omitempty"`
}

// Volume pairs a Kubernetes volume with its mount in the function container; their names must match.
type Volume struct {
	Volume      corev1.Volume      `json:"volume,omitempty"`
	VolumeMount corev1.VolumeMount `json:"volumeMount,omitempty"`
}

// Trigger is an event source of the function (functionconfig.Trigger).
type Trigger struct {
	Class string `json:"class"`
	// Kind is the trigger kind: http, cron, kafka-cluster, kinesis, mqtt, nats, rabbit-mq, v3ioStream, ...
	Kind string `json:"kind"`
	// Name equals the trigger's key in spec.triggers (defaulted from it).
	Name     string `json:"name"`
	Disabled bool   `json:"disabled,omitempty"`
	// NumWorkers is the number of parallel workers, at most 100000.
	NumWorkers int32    `json:"numWorkers,omitempty"`
	URL        string   `json:"url,omitempty"`
	Paths      []string `json:"paths,omitempty"`
	Username   string   `json:"username,omitempty"`
	// Password is a credential; it is masked into the function Secret.
	Password string `json:"password,omitempty"`
	// Secret is a credential; it is masked into the function Secret.
	Secret     string      `json:"secret,omitempty"`
	Partitions []Partition `json:"partitions,omitempty"`
	// Annotations are copied onto the function's Ingress (http triggers).
	Annotations map[string]string `json:"annotations,omitempty"`
	// WorkerTerminationTimeout is a Go duration (stream triggers default to 10s).
	WorkerTerminationTimeout              string `json:"workerTerminationTimeout,omitempty"`
	WorkerAvailabilityTimeoutMilliseconds *int32 `json:"workerAvailabilityTimeoutMilliseconds,omitempty"`
	WorkerAllocatorName                   string `json:"workerAllocatorName,omitempty"`
	// ExplicitAckMode is enable, disable or explicitOnly (stream triggers default to disable).
	ExplicitAckMode                       string `json:"explicitAckMode,omitempty"`
	WaitExplicitAckDuringRebalanceTimeout string `json:"waitExplicitAckDuringRebalanceTimeout,omitempty"`
	// Batch configures batching (http trigger, python runtime).
	Batch             *BatchConfiguration `json:"batch,omitempty"`
	TotalTasks        int32               `json:"total_tasks,omitempty"`
	MaxTaskAllocation int32               `json:"max_task_allocation,omitempty"`
	// Attributes are kind-specific settings (e.g. kafka `brokers`, `topics`, `sasl`; http `ingresses`).
	Attributes freeform.Object `json:"attributes,omitempty"`
	// MaxWorkers is deprecated in favour of numWorkers (copied into it when numWorkers is 0).
	MaxWorkers int32 `json:"maxWorkers,omitempty"`
}

// BatchConfiguration configures event batching of a trigger.
type BatchConfiguration struct {
	// Mode is enable or disable.
	Mode string `json:"mode,omitempty"`
	// BatchSize defaults to 10 when batching is enabled.
	BatchSize int32 `json:"batchSize,omitempty"`
	// Timeout is a Go duration, default 1s when batching is enabled.
	Timeout string `json:"timeout,omitempty"`
}

// LoggerSink selects a logger sink and its level.
type LoggerSink struct {
	Level string `json:"level,omitempty"`
	Sink  string `json:"sink,omitempty"`
}

// Platform holds platform-specific attributes.
type Platform struct {
	Attributes freeform.Object `json:"attributes,omitempty"`
}

// Directive is one raw Dockerfile line `<kind> <value>`.
type Directive struct {
	Kind  string `json:"kind,omitempty"`
	Value string `json:"value,omitempty"`
}

// ScaleResource is a metric whose idleness triggers scale to zero.
type ScaleResource struct {
	MetricName string `json:"metricName,omitempty"`
	WindowSize string `json:"windowSize,omitempty"`
	Threshold  int32  `json:"threshold"`
}

// AutoScaleMetric is a custom autoscaling metric.
type AutoScaleMetric struct {
	ScaleResource `json:",inline"`
	// SourceType is Resource, Pods, External, Object or ContainerResource.
	SourceType string `json:"sourceType,omitempty"`
	// DisplayType is int or percentage.
	DisplayType string `json:"displayType,omitempty"`
}

// ScaleToZeroSpec lists the metrics that decide scale to zero.
type ScaleToZeroSpec struct {
	ScaleResources []ScaleResource `json:"scaleResources,omitempty"`
}

// Build describes the function's source and image build (functionconfig.Build).
type Build struct {
	// Path is an http(s) URL of a source file, archive or git repository.
	Path string `json:"path,omitempty"`
	// FunctionSourceCode is the base64 (standard encoding) content of a single source file.
	FunctionSourceCode string `json:"functionSourceCode,omitempty"`
	// FunctionConfigPath is a path on the builder host (refused by the build-source policy).
	FunctionConfigPath string `json:"functionConfigPath,omitempty"`
	// TempDir is a path on the builder host (refused by the build-source policy).
	TempDir string `json:"tempDir,omitempty"`
	// Registry is the push registry.
	Registry string `json:"registry,omitempty"`
	// BaseImageRegistry overrides the registry of both the base and the onbuild images.
	BaseImageRegistry string `json:"baseImageRegistry,omitempty"`
	// Image is the output image name (default `nuclio/processor-<name>`), tag default `latest`.
	Image            string `json:"image,omitempty"`
	NoBaseImagesPull bool   `json:"noBaseImagesPull,omitempty"`
	// NoCache disables the builder's layer cache.
	NoCache   bool `json:"noCache,omitempty"`
	NoCleanup bool `json:"noCleanup,omitempty"`
	// BaseImage overrides the runtime's base image verbatim.
	BaseImage string `json:"baseImage,omitempty"`
	// Commands become RUN directives (before the code is copied, until a line `@nuclio.postCopy`).
	Commands []string `json:"commands,omitempty"`
	// Directives are raw Dockerfile lines keyed by preCopy or postCopy.
	Directives       map[string][]Directive `json:"directives,omitempty"`
	ScriptPaths      []string               `json:"scriptPaths,omitempty"`
	AddedObjectPaths map[string]string      `json:"addedPaths,omitempty"`
	// Dependencies are Java (gradle) dependencies.
	Dependencies []string `json:"dependencies,omitempty"`
	// OnbuildImage is a Go template with `{{ .Label }}` and `{{ .Arch }}`.
	OnbuildImage string `json:"onbuildImage,omitempty"`
	// Offline builds without network access to package indexes.
	Offline           bool            `json:"offline,omitempty"`
	RuntimeAttributes freeform.Object `json:"runtimeAttributes,omitempty"`
	// CodeEntryType is sourceCode, image, archive, github (deprecated), git or s3.
	CodeEntryType string `json:"codeEntryType,omitempty"`
	// CodeEntryAttributes are per code-entry-type settings: headers, branch, tag, reference, username,
	// password, workDir, s3Bucket, s3ItemKey, s3Region, s3AccessKeyId, s3SecretAccessKey, s3SessionToken.
	CodeEntryAttributes freeform.Object `json:"codeEntryAttributes,omitempty"`
	// Timestamp is the unix time (seconds) of the last successful build.
	Timestamp int64 `json:"timestamp,omitempty"`
	// BuildTimeoutSeconds bounds the build (Nuclio's default is 3600).
	BuildTimeoutSeconds *int64 `json:"buildTimeoutSeconds,omitempty"`
	// Mode is neverBuild or alwaysBuild.
	Mode string `json:"mode,omitempty"`
	// Args are Dockerfile ARGs.
	Args map[string]string `json:"args,omitempty"`
	// Flags are extra builder flags, subject to the cluster's allowlist.
	Flags []string `json:"flags,omitempty"`
	// BuilderServiceAccount is the service account of the build pod.
	BuilderServiceAccount string `json:"builderServiceAccount,omitempty"`
}

// FunctionStatus is the observed state of a function: Nuclio's fields (functionconfig.Status) plus
// Kubernetes conditions and replica counts.
type FunctionStatus struct {
	// State is Nuclio's state: building, waitingForResourceConfiguration, ready, error, unhealthy,
	// scaledToZero, imported, ...
	State string `json:"state,omitempty"`
	// Message explains the state, e.g. the reason of an error.
	Message string `json:"message,omitempty"`
	// Logs are structured deploy log records.
	Logs        []freeform.Object  `json:"logs,omitempty"`
	ScaleToZero *ScaleToZeroStatus `json:"scaleToZero,omitempty"`
	// APIGateways that route to this function.
	APIGateways []string `json:"apiGateways,omitempty"`
	// HTTPPort is the NodePort of the http trigger, or 0.
	HTTPPort int32 `json:"httpPort,omitempty"`
	// ContainerImage is the image that was running when the function became ready.
	ContainerImage string `json:"containerImage,omitempty"`
	// InternalInvocationURLs are in-cluster addresses, e.g. `nuclio-<name>.<ns>.svc.cluster.local:8080`.
	InternalInvocationURLs []string `json:"internalInvocationUrls,omitempty"`
	// ExternalInvocationURLs are NodePort and Ingress addresses.
	ExternalInvocationURLs []string `json:"externalInvocationUrls,omitempty"`
	// EnrichedNodeSelector merges the function's, project's and platform's node selectors.
	EnrichedNodeSelector map[string]string `json:"enrichedNodeSelector,omitempty"`
	// Replicas is the number of function pods (the scale subresource's status.replicas).
	Replicas int32 `json:"replicas,omitempty"`
	// ReadyReplicas is the number of function pods that are ready.
	ReadyReplicas int32 `json:"readyReplicas,omitempty"`
	// Build records the image build of the current source, when the function is built by the controller.
	Build *BuildStatus `json:"build,omitempty"`
	// ObservedGeneration is the metadata.generation this status describes.
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`
	// Conditions are Built, Deployed and Ready.
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// BuildStatus describes the latest image build of a function. The controller builds when the hash of
// everything that shapes the image changes, and skips the build otherwise.
type BuildStatus struct {
	// SourceHash is the hex SHA-256 of the source and build configuration the image was built from.
	SourceHash string `json:"sourceHash,omitempty"`
	// Image is the pushed image reference the processor runs.
	Image string `json:"image,omitempty"`
	// JobName is the build Job in the function's namespace.
	JobName string `json:"jobName,omitempty"`
	// StartTime is when the build Job was created.
	StartTime *metav1.Time `json:"startTime,omitempty"`
	// CompletionTime is when the build finished, successfully or not.
	CompletionTime *metav1.Time `json:"completionTime,omitempty"`
}

// ScaleToZeroStatus records the autoscaler's last scale event.
type ScaleToZeroStatus struct {
	// LastScaleEvent is resourceUpdated, scaleFromZeroStarted, scaleFromZeroCompleted, scaleToZeroStarted
	// or scaleToZeroCompleted.
	LastScaleEvent     string       `json:"lastScaleEvent,omitempty"`
	LastScaleEventTime *metav1.Time `json:"lastScaleEventTime,omitempty"`
}

// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// NuclioProject groups functions and API gateways (platform.ProjectSpec).
type NuclioProject struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`
	Spec              ProjectSpec   `json:"spec"`
	Status            ProjectStatus `json:"status,omitempty"`
}

// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// NuclioProjectList is a list of NuclioProject objects.
type NuclioProjectList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`

	Items []NuclioProject `json:"items"`
}

// ProjectSpec is a project's configuration.
type ProjectSpec struct {
	Description string `json:"description,omitempty"`
	Owner       string `json:"owner,omitempty"`
	// DefaultFunctionNodeSelector is merged under each function's node selector.
	DefaultFunctionNodeSelector map[string]string `json:"defaultFunctionNodeSelector,omitempty"`
}

// ProjectStatus is a project's observed state.
type ProjectStatus struct {
	AdminStatus        string             `json:"adminStatus,omitempty"`
	OperationalStatus  string             `json:"operationalStatus,omitempty"`
	UpdatedAt          *metav1.Time       `json:"updatedAt,omitempty"`
	ObservedGeneration int64              `json:"observedGeneration,omitempty"`
	Conditions         []metav1.Condition `json:"conditions,omitempty"`
}

// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// NuclioFunctionEvent is a saved invocation of a function (platform.FunctionEventSpec). It has no status.
// The label `nuclio.io/function-name` names its function.
type NuclioFunctionEvent struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`
	Spec              FunctionEventSpec `json:"spec"`
}

// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// NuclioFunctionEventList is a list of NuclioFunctionEvent objects.
type NuclioFunctionEventList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`

	Items []NuclioFunctionEvent `json:"items"`
}

// FunctionEventSpec is an invocation preset.
type FunctionEventSpec struct {
	// DisplayName defaults to metadata.name.
	DisplayName string `json:"displayName,omitempty"`
	TriggerName string `json:"triggerName,omitempty"`
	// TriggerKind defaults to http.
	TriggerKind string `json:"triggerKind,omitempty"`
	Body        string `json:"body,omitempty"`
	// Attributes of the invocation; for http: headers, method (default POST) and path.
	Attributes freeform.Object `json:"attributes,omitempty"`
}

// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// NuclioAPIGateway exposes one function, or two with a canary split, on a host and path
// (platform.APIGatewaySpec).
type NuclioAPIGateway struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`
	Spec              APIGatewaySpec `json:"spec"`
	// Status is always serialised, as in Nuclio.
	Status APIGatewayStatus `json:"status"`
}

// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// NuclioAPIGatewayList is a list of NuclioAPIGateway objects.
type NuclioAPIGatewayList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`

	Items []NuclioAPIGateway `json:"items"`
}

// APIGatewaySpec is an API gateway's configuration.
type APIGatewaySpec struct {
	// Host the gateway's Ingress serves.
	Host string `json:"host,omitempty"`
	// Name must equal metadata.name (defaulted from it).
	Name        string `json:"name,omitempty"`
	Description string `json:"description,omitempty"`
	// Path is the URL path prefix.
	Path string `json:"path,omitempty"`
	// AuthenticationMode is none, basicAuth, accessKey or oauth2.
	AuthenticationMode string                        `json:"authenticationMode,omitempty"`
	Authentication     *APIGatewayAuthenticationSpec `json:"authentication,omitempty"`
	// Upstreams are one function, or two for a canary split.
	Upstreams []APIGatewayUpstreamSpec `json:"upstreams,omitempty"`
}

// APIGatewayAuthenticationSpec holds the settings of the chosen authentication mode.
type APIGatewayAuthenticationSpec struct {
	BasicAuth *BasicAuth `json:"basicAuth,omitempty"`
	DexAuth   *DexAuth   `json:"dexAuth,omitempty"`
}

// BasicAuth is a user name and password; the password is masked into the gateway Secret.
type BasicAuth struct {
	Username string `json:"username"`
	Password string `json:"password,omitempty"`
}

// DexAuth configures OAuth2 through an oauth2-proxy.
type DexAuth struct {
	Oauth2ProxyURL               string `json:"oauth2ProxyUrl,omitempty"`
	RedirectUnauthorizedToSignIn bool   `json:"redirectUnauthorizedToSignIn,omitempty"`
}

// APIGatewayUpstreamSpec is one backend of a gateway.
type APIGatewayUpstreamSpec struct {
	// Kind is nucliofunction (the only kind).
	Kind           string                        `json:"kind,omitempty"`
	NuclioFunction *NuclioFunctionAPIGatewaySpec `json:"nucliofunction,omitempty"`
	Port           int32                         `json:"port,omitempty"`
	// Percentage of traffic for the canary (second) upstream, 1-100.
	Percentage       int32             `json:"percentage,omitempty"`
	RewriteTarget    string            `json:"rewriteTarget,omitempty"`
	ExtraAnnotations map[string]string `json:"extraAnnotations,omitempty"`
	ExtraLabels      map[string]string `json:"extraLabels,omitempty"`
}

// NuclioFunctionAPIGatewaySpec names the function behind an upstream.
type NuclioFunctionAPIGatewaySpec struct {
	Name string `json:"name,omitempty"`
}

// APIGatewayStatus is a gateway's observed state. Note Nuclio's snake_case `last_error`.
type APIGatewayStatus struct {
	Name        string `json:"name,omitempty"`
	LastError   string `json:"last_error,omitempty"`
	Description string `json:"description,omitempty"`
	// State is "", waitingForProvisioning, ready or error.
	State              string             `json:"state,omitempty"`
	ObservedGeneration int64              `json:"observedGeneration,omitempty"`
	Conditions         []metav1.Condition `json:"conditions,omitempty"`
}

// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// FunctionInvokeOptions are the query parameters of the nucliofunctions/invoke subresource.
type FunctionInvokeOptions struct {
	metav1.TypeMeta `json:",inline"`

	// Path is the path of the request sent to the function (the remainder of the URL after /invoke).
	Path string `json:"path,omitempty"`
	// TimeoutSeconds bounds the invocation (default 60, Nuclio's default invocation timeout).
	TimeoutSeconds *int64 `json:"timeoutSeconds,omitempty"`
}

// +k8s:deepcopy-gen:interfaces=k8s.io/apimachinery/pkg/runtime.Object

// FunctionLogOptions are the query parameters of the nucliofunctions/log subresource.
type FunctionLogOptions struct {
	metav1.TypeMeta `json:",inline"`

	// Build streams the log of the latest build instead of the processor's.
	Build bool `json:"build,omitempty"`
	// Follow keeps the stream open.
	Follow bool `json:"follow,omitempty"`
	// TailLines limits the output to the last lines.
	TailLines *int64 `json:"tailLines,omitempty"`
	// SinceSeconds limits the output to recent lines.
	SinceSeconds *int64 `json:"sinceSeconds,omitempty"`
	// Pod selects one replica; default: the newest pod.
	Pod string `json:"pod,omitempty"`
}
