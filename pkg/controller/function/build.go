// Copyright The nuclio-apiserver Authors.
// SPDX-License-Identifier: Apache-2.0

package function

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	logf "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/nuclio-apiserver/nuclio-apiserver/apis/nuclio/v1beta1"
	"github.com/nuclio-apiserver/nuclio-apiserver/pkg/build"
	"github.com/nuclio-apiserver/nuclio-apiserver/pkg/controller/internal/child"
	"github.com/nuclio-apiserver/nuclio-apiserver/pkg/egress"
)

// Build decision (nuclio-compat §2.4, nuclio/nuclio:pkg/platform/abstract/platform.go
// functionBuildRequired): no build with spec.build.mode neverBuild or the annotation skip-build: "true";
// a build when spec.build has functionSourceCode, path or image, or codeEntryType s3; otherwise spec.image
// runs as it is; otherwise the function is in error.
//
// Nuclio writes the built image into spec.image. This controller never writes the spec (GitOps tools
// would revert it): the image goes to status.build.image, and "no build" with an empty spec.image runs
// the image of the last successful build (neverBuild after a build is how Nuclio redeploys without
// rebuilding).

// Labels of the pods of a Job (set by the Job controller).
const jobControllerUIDLabel = "batch.kubernetes.io/controller-uid"

// failureLogLines is how many log lines of a failed build reach status.message.
const failureLogLines = 20

// PodLogReader reads the end of a container's log. The controller uses it only when a failed build
// container left no termination message.
type PodLogReader interface {
	TailLogs(ctx context.Context, namespace, pod, container string, lines int64) (string, error)
}

// imageDecision is the outcome of the build phase: the image to run, or why there is none yet.
type imageDecision struct {
	image    string
	buildJob string
	ready    bool
	result   ctrl.Result
}

func skipBuild(fn *v1beta1.NuclioFunction) bool {
	return fn.Spec.Build.Mode == build.ModeNeverBuild || strings.EqualFold(fn.Annotations[v1beta1.AnnotationSkipBuild], "true")
}

func buildRequired(fn *v1beta1.NuclioFunction) bool {
	b := &fn.Spec.Build
	return b.FunctionSourceCode != "" || b.Path != "" || b.Image != "" || b.CodeEntryType == "s3"
}

// runImage applies spec.runRegistry to a pre-built spec.image, as Nuclio's deployer does
// (nuclio/nuclio:pkg/platform/kube/client/deployer.go).
func runImage(fn *v1beta1.NuclioFunction) string {
	image, registry := fn.Spec.Image, strings.TrimSuffix(fn.Spec.RunRegistry, "/")
	if image != "" && registry != "" && !strings.HasPrefix(image, registry+"/") {
		return registry + "/" + image
	}
	return image
}

// resolveImage decides whether fn needs a build and drives it; the decision's image is empty until
// there is one to run.
func (r *Reconciler) resolveImage(ctx context.Context, s *run) (imageDecision, error) {
	fn := s.fn
	switch {
	case skipBuild(fn):
		image, job := runImage(fn), ""
		if image == "" && fn.Status.Build != nil && fn.Status.Build.Image != "" {
			image, job = fn.Status.Build.Image, fn.Status.Build.JobName
		}
		why := "spec.build.mode is neverBuild"
		if fn.Spec.Build.Mode != build.ModeNeverBuild {
			why = "the function has the annotation skip-build"
		}
		if image == "" {
			s.fail(ReasonNoImage, why+" but there is no image to run: set spec.image", true)
			return imageDecision{}, nil
		}
		s.condition(v1beta1.ConditionBuilt, metav1.ConditionTrue, ReasonBuildSkipped, why+"; running "+image)
		return imageDecision{image: image, buildJob: job, ready: true}, nil
	case buildRequired(fn):
		return r.build(ctx, s)
	case fn.Spec.Image != "":
		image := runImage(fn)
		s.condition(v1beta1.ConditionBuilt, metav1.ConditionTrue, ReasonImageProvided, "spec.image "+image+" runs without a build")
		return imageDecision{image: image, ready: true}, nil
	default:
		s.fail(ReasonNoImage, "Function must have either spec.build.path, spec.build.functionSourceCode, spec.build.image or spec.image set", true)
		return imageDecision{}, nil
	}
}

// build plans the image of fn and runs, finds or reads its build Job.
func (r *Reconciler) build(ctx context.Context, s *run) (imageDecision, error) {
	fn := s.fn
	buildConfig := r.Config.BuildConfig()
	plan, err := buildConfig.Generate(fn)
	if err != nil {
		s.fail(ReasonInvalidBuild, "cannot build: "+err.Error(), true)
		return imageDecision{}, nil
	}
	key := build.BuildKey(fn, plan.SourceHash)
	jobName := build.JobName(fn.Name, key)
	record := fn.Status.Build

	// The image of this source exists: skip the build (alwaysBuild asks for a build of its own key).
	if record != nil && record.SourceHash == plan.SourceHash && record.Image != "" &&
		(fn.Spec.Build.Mode != build.ModeAlwaysBuild || record.JobName == jobName) {
		s.condition(v1beta1.ConditionBuilt, metav1.ConditionTrue, ReasonBuildSucceeded,
			fmt.Sprintf("image %s was built from this source by Job %s", record.Image, record.JobName))
		return imageDecision{image: record.Image, buildJob: record.JobName, ready: true}, nil
	}
	// This source failed to build: stay failed until the source (or, for alwaysBuild, the force-update
	// annotation) changes. The Job may be gone already (ttlSecondsAfterFinished); the reason is kept.
	if record != nil && record.JobName == jobName && record.SourceHash == plan.SourceHash && record.CompletionTime != nil && record.Image == "" {
		message := "build Job " + jobName + " failed"
		if reason, previous := conditionReason(fn, v1beta1.ConditionBuilt); reason == ReasonBuildFailed && previous != "" {
			message = previous
		}
		s.fail(ReasonBuildFailed, message, true)
		return imageDecision{}, nil
	}
	// A build of an older source is still running: it is of no use any more.
	if record != nil && record.JobName != "" && record.JobName != jobName && record.CompletionTime == nil {
		old := &batchv1.Job{ObjectMeta: metav1.ObjectMeta{Namespace: fn.Namespace, Name: record.JobName}}
		deleted, err := child.DeleteIfOwned(ctx, r.Client, fn, old)
		if err != nil {
			return imageDecision{}, err
		}
		if deleted {
			s.record(corev1.EventTypeNormal, ReasonBuildSuperseded, "Delete", "deleted build Job "+record.JobName+" of a previous spec")
		}
	}

	job := &batchv1.Job{}
	err = r.Client.Get(ctx, types.NamespacedName{Namespace: fn.Namespace, Name: jobName}, job)
	if apierrors.IsNotFound(err) {
		return r.startBuild(ctx, s, plan, jobName)
	}
	if err != nil {
		return imageDecision{}, fmt.Errorf("reading build Job %s/%s: %w", fn.Namespace, jobName, err)
	}
	if !metav1.IsControlledBy(job, fn) {
		// A Job of a deleted function of the same name (same source, same name) that the garbage
		// collector has not removed yet: remove it, and build anew.
		if ref := metav1.GetControllerOf(job); ref == nil || ref.Kind != "NuclioFunction" || ref.Name != fn.Name {
			s.fail(ReasonResourceConflict, fmt.Sprintf("build Job %s/%s exists and is not owned by this function", fn.Namespace, jobName), true)
			return imageDecision{}, nil
		}
		uid := job.UID
		if err := r.Client.Delete(ctx, job, client.Preconditions{UID: &uid}, client.PropagationPolicy(metav1.DeletePropagationBackground)); client.IgnoreNotFound(err) != nil {
			return imageDecision{}, fmt.Errorf("deleting stale build Job %s/%s: %w", fn.Namespace, jobName, err)
		}
		s.setState(v1beta1.FunctionStateBuilding, "waiting for the build Job of a deleted function of the same name to go")
		return imageDecision{result: ctrl.Result{RequeueAfter: 2 * time.Second}}, nil
	}
	if job.Spec.Suspend != nil && *job.Spec.Suspend {
		// Created, but the controller stopped before its input was in place.
		if err := r.releaseJob(ctx, s, plan, job); err != nil {
			return imageDecision{}, err
		}
	}
	return r.observeBuild(ctx, s, plan, job)
}

// observeBuild reads a build Job's outcome into status.build and the Built condition.
func (r *Reconciler) observeBuild(ctx context.Context, s *run, plan *build.Plan, job *batchv1.Job) (imageDecision, error) {
	fn := s.fn
	record := &v1beta1.BuildStatus{SourceHash: plan.SourceHash, JobName: job.Name, StartTime: buildStart(job, fn.Status.Build)}
	complete, failed := jobFinished(job)
	switch {
	case complete != nil:
		record.Image = plan.Image.RunImage
		record.CompletionTime = completionTime(job, complete)
		if prev := fn.Status.Build; prev == nil || prev.JobName != job.Name || prev.Image == "" {
			s.record(corev1.EventTypeNormal, ReasonBuildSucceeded, "Build", fmt.Sprintf("built and pushed %s (Job %s)", plan.Image.Destination, job.Name))
			buildsFinished.WithLabelValues("succeeded").Inc()
		}
		fn.Status.Build = record
		s.condition(v1beta1.ConditionBuilt, metav1.ConditionTrue, ReasonBuildSucceeded,
			fmt.Sprintf("image %s was built from this source by Job %s", record.Image, job.Name))
		return imageDecision{image: record.Image, buildJob: job.Name, ready: true}, nil
	case failed != nil:
		message := r.failureMessage(ctx, job, failed)
		record.CompletionTime = completionTime(job, failed)
		if prev := fn.Status.Build; prev == nil || prev.JobName != job.Name || prev.CompletionTime == nil {
			s.record(corev1.EventTypeWarning, ReasonBuildFailed, "Build", message)
			buildsFinished.WithLabelValues("failed").Inc()
		}
		fn.Status.Build = record
		s.fail(ReasonBuildFailed, message, true)
		return imageDecision{}, nil
	default:
		fn.Status.Build = record
		s.building(plan, job.Name)
		return imageDecision{}, nil
	}
}

func (s *run) building(plan *build.Plan, jobName string) {
	message := fmt.Sprintf("building %s in Job %s", plan.Image.Destination, jobName)
	s.setState(v1beta1.FunctionStateBuilding, message)
	s.condition(v1beta1.ConditionBuilt, metav1.ConditionFalse, ReasonBuilding, message)
	s.condition(v1beta1.ConditionDeployed, metav1.ConditionFalse, ReasonWaitingForBuild, "waiting for the image build")
	s.condition(v1beta1.ConditionReady, metav1.ConditionFalse, ReasonWaitingForBuild, "waiting for the image build")
}

// startBuild checks fn against the build-source policy and creates its build Job, suspended until the
// Job's input ConfigMap (owned by the Job, so that it goes with it) exists.
func (r *Reconciler) startBuild(ctx context.Context, s *run, plan *build.Plan, jobName string) (imageDecision, error) {
	fn := s.fn
	policyData, policy, blocked, err := r.buildSourcePolicy(ctx)
	if err != nil {
		return imageDecision{}, err
	}
	if blocked != "" {
		s.fail(ReasonBuildPolicyUnavailable, blocked, true)
		return imageDecision{result: ctrl.Result{RequeueAfter: time.Minute}}, nil
	}
	obj, err := runtime.DefaultUnstructuredConverter.ToUnstructured(fn)
	if err != nil {
		return imageDecision{}, fmt.Errorf("converting the function for the build-source policy: %w", err)
	}
	if errs := policy.ValidateFunction(obj); len(errs) > 0 {
		s.fail(ReasonBuildSourceRefused, "the build-source policy refuses this function: "+errs.ToAggregate().Error(), true)
		return imageDecision{}, nil
	}
	if fn.Spec.Build.BuilderServiceAccount == "" {
		if err := r.ensureBuilderAccount(ctx, fn.Namespace); err != nil {
			return imageDecision{}, err
		}
	}
	secret, err := r.functionSecret(ctx, s)
	if err != nil {
		return imageDecision{}, err
	}
	in := build.JobInput{Name: jobName, Labels: Labels(fn), NodeSelector: fn.Status.EnrichedNodeSelector, Policy: policyData != nil}
	if secret != nil {
		in.FunctionSecret = secret.Name
	}
	job, err := r.Config.JobConfig().NewJob(fn, plan, in)
	if err != nil {
		return imageDecision{}, err
	}
	job.Labels[child.LabelManagedBy] = child.ManagedBy
	job.Spec.Template.Labels[child.LabelManagedBy] = child.ManagedBy
	job.Spec.Suspend = ptr.To(true)
	if err := child.SetOwner(fn, job, r.Client.Scheme()); err != nil {
		return imageDecision{}, err
	}
	if err := r.Client.Create(ctx, job); err != nil {
		if apierrors.IsAlreadyExists(err) {
			// Created by an earlier reconcile that the cache has not caught up with; the Job's event
			// brings the function back.
			return imageDecision{result: ctrl.Result{RequeueAfter: time.Second}}, nil
		}
		return imageDecision{}, fmt.Errorf("creating build Job %s/%s: %w", fn.Namespace, jobName, err)
	}
	if err := r.releaseJobWith(ctx, fn, plan, job, policyData); err != nil {
		return imageDecision{}, err
	}
	buildsStarted.Inc()
	logf.FromContext(ctx).Info("build started", "job", jobName, "destination", plan.Image.Destination, "sourceHash", plan.SourceHash)
	s.record(corev1.EventTypeNormal, ReasonBuildStarted, "Build", fmt.Sprintf("building %s in Job %s", plan.Image.Destination, jobName))
	fn.Status.Build = &v1beta1.BuildStatus{SourceHash: plan.SourceHash, JobName: jobName, StartTime: ptr.To(metav1.NewTime(r.now()))}
	s.building(plan, jobName)
	return imageDecision{}, nil
}

// releaseJob makes sure a suspended build Job's input exists, then lets the Job run.
func (r *Reconciler) releaseJob(ctx context.Context, s *run, plan *build.Plan, job *batchv1.Job) error {
	policyData, _, blocked, err := r.buildSourcePolicy(ctx)
	if err != nil {
		return err
	}
	if blocked != "" {
		return errors.New(blocked)
	}
	return r.releaseJobWith(ctx, s.fn, plan, job, policyData)
}

func (r *Reconciler) releaseJobWith(ctx context.Context, fn *v1beta1.NuclioFunction, plan *build.Plan, job *batchv1.Job, policyData map[string]string) error {
	input, err := build.NewJobConfigMap(fn, r.Config.BuildConfig(), policyData, job.Name, Labels(fn))
	if err != nil {
		return err
	}
	input.Labels[child.LabelManagedBy] = child.ManagedBy
	input.Annotations = map[string]string{build.AnnotationSourceHash: plan.SourceHash}
	if err := child.SetOwner(job, input, r.Client.Scheme()); err != nil {
		return err
	}
	if err := r.Client.Create(ctx, input); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("creating build input ConfigMap %s/%s: %w", fn.Namespace, input.Name, err)
	}
	patch := client.MergeFrom(job.DeepCopy())
	job.Spec.Suspend = ptr.To(false)
	if err := r.Client.Patch(ctx, job, patch); err != nil {
		return fmt.Errorf("starting build Job %s/%s: %w", fn.Namespace, job.Name, err)
	}
	return nil
}

// buildSourcePolicy reads the configured build-source policy. blocked explains why builds must wait
// (the ConfigMap is missing or malformed: fail closed); data is nil for the built-in default policy.
func (r *Reconciler) buildSourcePolicy(ctx context.Context) (data map[string]string, policy *egress.Policy, blocked string, err error) {
	key, ok := r.Config.PolicyKey()
	if !ok {
		return nil, egress.DefaultPolicy(), "", nil
	}
	cm := &corev1.ConfigMap{}
	if err := r.APIReader.Get(ctx, key, cm); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, nil, fmt.Sprintf("the build-source policy ConfigMap %s does not exist; builds wait for it (fail closed)", key), nil
		}
		return nil, nil, "", fmt.Errorf("reading the build-source policy ConfigMap %s: %w", key, err)
	}
	policy, errs := egress.PolicyFromConfigMapData(cm.Data)
	if len(errs) > 0 {
		return nil, nil, fmt.Sprintf("the build-source policy ConfigMap %s is invalid: %v", key, errs.ToAggregate()), nil
	}
	data = cm.Data
	if data == nil {
		data = map[string]string{}
	}
	return data, policy, "", nil
}

// ensureBuilderAccount creates the default builder ServiceAccount of a namespace when missing. It needs
// no permissions and never mounts a token.
func (r *Reconciler) ensureBuilderAccount(ctx context.Context, namespace string) error {
	name := r.Config.BuilderServiceAccount
	sa := &corev1.ServiceAccount{}
	err := r.Client.Get(ctx, types.NamespacedName{Namespace: namespace, Name: name}, sa)
	if err == nil || !apierrors.IsNotFound(err) {
		return client.IgnoreNotFound(err)
	}
	sa = &corev1.ServiceAccount{
		ObjectMeta: metav1.ObjectMeta{
			Name:      name,
			Namespace: namespace,
			Labels:    map[string]string{child.LabelManagedBy: child.ManagedBy, build.LabelComponent: build.ComponentBuilder},
		},
		AutomountServiceAccountToken: ptr.To(false),
	}
	if err := r.Client.Create(ctx, sa); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("creating ServiceAccount %s/%s for builds: %w", namespace, name, err)
	}
	return nil
}

// jobFinished returns the Job's Complete or Failed condition when it is true.
func jobFinished(job *batchv1.Job) (complete, failed *batchv1.JobCondition) {
	for i := range job.Status.Conditions {
		c := &job.Status.Conditions[i]
		if c.Status != corev1.ConditionTrue {
			continue
		}
		switch c.Type {
		case batchv1.JobComplete:
			complete = c
		case batchv1.JobFailed:
			failed = c
		}
	}
	if failed != nil {
		return nil, failed
	}
	return complete, nil
}

func buildStart(job *batchv1.Job, previous *v1beta1.BuildStatus) *metav1.Time {
	if previous != nil && previous.JobName == job.Name && previous.StartTime != nil {
		return previous.StartTime
	}
	t := job.CreationTimestamp
	return &t
}

func completionTime(job *batchv1.Job, c *batchv1.JobCondition) *metav1.Time {
	if job.Status.CompletionTime != nil {
		return job.Status.CompletionTime
	}
	t := c.LastTransitionTime
	return &t
}

// ansiEscape matches terminal colour and cursor sequences (Kaniko colours its log).
var ansiEscape = regexp.MustCompile(`\x1b\[[0-9;?]*[ -/]*[@-~]`)

// failureMessage explains a failed build Job: the failed container's termination message (its last log
// lines: the build containers use terminationMessagePolicy FallbackToLogsOnError), else the tail of its
// log through the pods/log API, else the Job's own condition (e.g. DeadlineExceeded before any pod ran).
func (r *Reconciler) failureMessage(ctx context.Context, job *batchv1.Job, failed *batchv1.JobCondition) string {
	head := fmt.Sprintf("build Job %s failed", job.Name)
	if failed.Reason == batchv1.JobReasonDeadlineExceeded && job.Spec.ActiveDeadlineSeconds != nil {
		head = fmt.Sprintf("build Job %s timed out after %ds (spec.build.buildTimeoutSeconds)", job.Name, *job.Spec.ActiveDeadlineSeconds)
	}
	pods := &corev1.PodList{}
	if err := r.APIReader.List(ctx, pods, client.InNamespace(job.Namespace), client.MatchingLabels{jobControllerUIDLabel: string(job.UID)}); err != nil {
		logf.FromContext(ctx).Error(err, "listing the pods of a failed build", "job", job.Name)
	}
	sort.Slice(pods.Items, func(i, j int) bool {
		return pods.Items[j].CreationTimestamp.Before(&pods.Items[i].CreationTimestamp)
	})
	for i := range pods.Items {
		pod := &pods.Items[i]
		name, detail, ok := failedContainer(pod)
		if !ok {
			continue
		}
		if strings.TrimSpace(detail.message) == "" && r.Logs != nil && detail.terminated {
			tail, err := r.Logs.TailLogs(ctx, pod.Namespace, pod.Name, name, failureLogLines)
			if err != nil {
				// The log may be gone with the node or unreadable; the exit code still says something.
				logf.FromContext(ctx).V(1).Info("reading the log of a failed build container", "pod", pod.Name, "container", name, "error", err.Error())
			} else {
				detail.message = tail
			}
		}
		summary := fmt.Sprintf("%s: container %s %s", head, name, detail.describe())
		if lines := lastLines(detail.message, failureLogLines); lines != "" {
			return summary + ":\n" + lines
		}
		return summary
	}
	if failed.Message != "" {
		return fmt.Sprintf("%s: %s: %s", head, failed.Reason, failed.Message)
	}
	if failed.Reason != "" {
		return head + ": " + failed.Reason
	}
	return head
}

// containerFailure describes how a build container ended.
type containerFailure struct {
	terminated bool
	exitCode   int32
	reason     string
	message    string
}

func (c containerFailure) describe() string {
	if c.terminated {
		return fmt.Sprintf("exited with code %d", c.exitCode)
	}
	return "did not run (" + c.reason + ")"
}

// failedContainer finds the container of a build pod that failed: the first init or main container that
// terminated with a non-zero code, or one still waiting (an image pull that never succeeded) when the
// pod was stopped.
func failedContainer(pod *corev1.Pod) (string, containerFailure, bool) {
	statuses := append(append([]corev1.ContainerStatus{}, pod.Status.InitContainerStatuses...), pod.Status.ContainerStatuses...)
	for _, st := range statuses {
		if t := st.State.Terminated; t != nil && t.ExitCode != 0 {
			return st.Name, containerFailure{terminated: true, exitCode: t.ExitCode, reason: t.Reason, message: t.Message}, true
		}
	}
	for _, st := range statuses {
		if w := st.State.Waiting; w != nil && w.Reason != "" && w.Reason != "PodInitializing" {
			return st.Name, containerFailure{reason: w.Reason, message: w.Message}, true
		}
	}
	return "", containerFailure{}, false
}

// lastLines returns the last n non-empty lines of s without terminal escape sequences.
func lastLines(s string, n int) string {
	s = ansiEscape.ReplaceAllString(s, "")
	s = strings.ReplaceAll(s, "\r\n", "\n")
	var lines []string
	for _, l := range strings.Split(s, "\n") {
		if strings.TrimSpace(l) != "" {
			lines = append(lines, strings.TrimRight(l, " \t\r"))
		}
	}
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
