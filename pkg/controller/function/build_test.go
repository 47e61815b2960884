// Copyright The nuclio-apiserver Authors.
// SPDX-License-Identifier: Apache-2.0

package function

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/nuclio-apiserver/nuclio-apiserver/apis/nuclio/v1beta1"
	"github.com/nuclio-apiserver/nuclio-apiserver/pkg/build"
	"github.com/nuclio-apiserver/nuclio-apiserver/pkg/controller/internal/child"
)

func TestBuildLifecycle(t *testing.T) {
	e := newEnv(t, testConfig(t), sourceFunction("hello", func(fn *v1beta1.NuclioFunction) {
		fn.Annotations = map[string]string{"simulate/build-result": "fail", "kubectl.kubernetes.io/last-applied-configuration": "{}"}
	}), defaultProject())

	// 1. A build Job starts; the function is building.
	_, writes := e.reconcile("hello")
	job := onlyJob(t, e)
	plan, err := testConfig(t).BuildConfig().Generate(e.function("hello"))
	if err != nil {
		t.Fatal(err)
	}
	if want := build.JobName("hello", plan.SourceHash); job.Name != want {
		t.Fatalf("Job %s, want %s", job.Name, want)
	}
	if !metav1.IsControlledBy(&job, e.function("hello")) {
		t.Error("the build Job must be controlled by the function")
	}
	if job.Spec.Suspend == nil || *job.Spec.Suspend {
		t.Error("the Job must run once its input exists")
	}
	for _, key := range []string{v1beta1.LabelFunctionName, v1beta1.LabelProjectName, v1beta1.LabelClass, v1beta1.LabelApp, v1beta1.LabelFunctionVersion, build.LabelComponent, "team"} {
		if job.Spec.Template.Labels[key] == "" {
			t.Errorf("build pod label %s missing: %v", key, job.Spec.Template.Labels)
		}
	}
	if job.Spec.Template.Annotations["simulate/build-result"] != "fail" {
		t.Error("build pods carry the function's annotations")
	}
	if _, ok := job.Spec.Template.Annotations["kubectl.kubernetes.io/last-applied-configuration"]; ok {
		t.Error("build pods do not carry last-applied-configuration")
	}
	input := &corev1.ConfigMap{}
	e.mustGet(job.Name, input)
	if !metav1.IsControlledBy(input, &job) {
		t.Error("the build input ConfigMap belongs to its Job")
	}
	if _, ok := input.Data[build.PolicyKey]; ok {
		t.Error("with the built-in policy the ConfigMap has no policy key")
	}
	sa := &corev1.ServiceAccount{}
	e.mustGet(build.DefaultBuilderServiceAccount, sa)
	if sa.AutomountServiceAccountToken == nil || *sa.AutomountServiceAccountToken {
		t.Error("the builder ServiceAccount must not automount a token")
	}
	fn := e.function("hello")
	if fn.Status.State != v1beta1.FunctionStateBuilding || fn.Status.Build == nil || fn.Status.Build.JobName != job.Name ||
		fn.Status.Build.SourceHash != plan.SourceHash || fn.Status.Build.StartTime == nil || fn.Status.Build.Image != "" {
		t.Fatalf("status after the build started: %+v / %+v", fn.Status, fn.Status.Build)
	}
	expectCondition(t, fn, v1beta1.ConditionBuilt, metav1.ConditionFalse, ReasonBuilding)
	expectCondition(t, fn, v1beta1.ConditionReady, metav1.ConditionFalse, ReasonWaitingForBuild)
	if fn.Status.ObservedGeneration != fn.Generation {
		t.Errorf("observedGeneration %d", fn.Status.ObservedGeneration)
	}
	if got := strings.Join(e.events(), "\n"); !strings.Contains(got, "Normal BuildStarted") {
		t.Errorf("events: %s", got)
	}
	for _, w := range writes {
		if strings.Contains(w, "Deployment") || strings.Contains(w, "Service ") {
			t.Errorf("nothing runs before the image exists: %v", writes)
		}
	}

	// 2. While the Job runs, reconciling changes nothing.
	if _, writes := e.reconcile("hello"); len(writes) != 0 {
		t.Errorf("writes while building: %v", writes)
	}

	// 3. The Job completes: the processor resources appear with the built image.
	e.finishJob(job.Name, true, "")
	e.reconcile("hello")
	fn = e.function("hello")
	if fn.Status.Build.Image != plan.Image.RunImage || fn.Status.Build.CompletionTime == nil {
		t.Fatalf("status.build after success: %+v", fn.Status.Build)
	}
	if fn.Status.State != v1beta1.FunctionStateWaitingForResourceConfiguration || fn.Status.ContainerImage != plan.Image.RunImage {
		t.Errorf("state %q image %q", fn.Status.State, fn.Status.ContainerImage)
	}
	expectCondition(t, fn, v1beta1.ConditionBuilt, metav1.ConditionTrue, ReasonBuildSucceeded)
	expectCondition(t, fn, v1beta1.ConditionDeployed, metav1.ConditionTrue, ReasonResourcesApplied)
	expectCondition(t, fn, v1beta1.ConditionReady, metav1.ConditionFalse, ReasonRollingOut)
	d := &appsv1.Deployment{}
	e.mustGet("nuclio-hello", d)
	if d.Spec.Template.Spec.Containers[0].Image != plan.Image.RunImage || d.Spec.Template.Annotations[AnnotationImageBuild] != job.Name {
		t.Errorf("Deployment image %s, annotations %v", d.Spec.Template.Spec.Containers[0].Image, d.Spec.Template.Annotations)
	}
	if got := strings.Join(e.events(), "\n"); !strings.Contains(got, "Normal BuildSucceeded") || !strings.Contains(got, "Normal Deployed") {
		t.Errorf("events: %s", got)
	}

	// 4. The Deployment becomes available: ready.
	e.makeAvailable("hello")
	e.reconcile("hello")
	fn = e.function("hello")
	if fn.Status.State != v1beta1.FunctionStateReady || fn.Status.Message != "" || fn.Status.Replicas != 1 || fn.Status.ReadyReplicas != 1 {
		t.Errorf("status when available: %+v", fn.Status)
	}
	expectCondition(t, fn, v1beta1.ConditionReady, metav1.ConditionTrue, ReasonAvailable)
	if want := []string{"nuclio-hello.ns.svc.cluster.local:8080"}; len(fn.Status.InternalInvocationURLs) != 1 || fn.Status.InternalInvocationURLs[0] != want[0] {
		t.Errorf("internal URLs %v", fn.Status.InternalInvocationURLs)
	}
	if got := strings.Join(e.events(), "\n"); !strings.Contains(got, "Normal Ready") {
		t.Errorf("events: %s", got)
	}

	// 5. Idempotence: re-reconciling an unchanged function writes nothing (Nuclio's TestNoChanges).
	for i := 0; i < 3; i++ {
		if _, writes := e.reconcile("hello"); len(writes) != 0 {
			t.Fatalf("reconcile %d of an unchanged function wrote %v", i, writes)
		}
	}
	if got := e.events(); len(got) != 0 {
		t.Errorf("events without changes: %v", got)
	}
}

func TestUnchangedSourceSkipsBuild(t *testing.T) {
	e := newEnv(t, testConfig(t), sourceFunction("hello", nil), defaultProject())
	jobName := buildToReady(t, e, "hello")

	// A change outside the source and build configuration (replicas, env) rolls the processor out but
	// does not rebuild.
	e.update("hello", func(fn *v1beta1.NuclioFunction) {
		fn.Spec.Env = []corev1.EnvVar{{Name: "GREETING", Value: "hi"}}
	})
	_, writes := e.reconcile("hello")
	if len(e.jobs()) != 1 {
		t.Fatalf("a spec change outside the source rebuilt: %v", writes)
	}
	fn := e.function("hello")
	if fn.Status.Build.JobName != jobName || fn.Status.State != v1beta1.FunctionStateWaitingForResourceConfiguration {
		t.Errorf("status %+v / %+v", fn.Status, fn.Status.Build)
	}
	expectCondition(t, fn, v1beta1.ConditionBuilt, metav1.ConditionTrue, ReasonBuildSucceeded)
	d := &appsv1.Deployment{}
	e.mustGet("nuclio-hello", d)
	if !hasEnv(d.Spec.Template.Spec.Containers[0].Env, "GREETING", "hi") {
		t.Error("the new env must reach the Deployment")
	}

	// A source change builds again, under a new Job name.
	e.update("hello", func(fn *v1beta1.NuclioFunction) {
		fn.Spec.Build.Commands = []string{"pip install requests"}
	})
	e.reconcile("hello")
	jobs := e.jobs()
	if len(jobs) != 2 {
		t.Fatalf("want a second build, have %d Jobs", len(jobs))
	}
	fn = e.function("hello")
	if fn.Status.State != v1beta1.FunctionStateBuilding || fn.Status.Build.JobName == jobName {
		t.Errorf("status %+v / %+v", fn.Status, fn.Status.Build)
	}
	// The old image keeps running meanwhile.
	e.mustGet("nuclio-hello", d)
	if d.Spec.Template.Annotations[AnnotationImageBuild] != jobName {
		t.Error("the running Deployment must not change while the new image builds")
	}
}

func TestSupersededBuildIsDeleted(t *testing.T) {
	e := newEnv(t, testConfig(t), sourceFunction("hello", nil), defaultProject())
	e.reconcile("hello")
	first := onlyJob(t, e).Name
	e.update("hello", func(fn *v1beta1.NuclioFunction) { fn.Spec.Build.Commands = []string{"true"} })
	e.reconcile("hello")
	job := &batchv1.Job{}
	if err := e.get(first, job); !apierrors.IsNotFound(err) {
		t.Errorf("the build of the previous spec must be deleted, got %v", err)
	}
	if e.function("hello").Status.Build.JobName == first {
		t.Error("status.build must describe the new build")
	}
}

func TestRestartMidBuildFindsTheJob(t *testing.T) {
	cfg := testConfig(t)
	e := newEnv(t, cfg, sourceFunction("hello", nil), defaultProject())
	e.reconcile("hello")
	job := onlyJob(t, e)

	// A new controller process, whose status write was lost: status.build is empty, but the Job's name is
	// deterministic, so it is found rather than duplicated.
	fn := e.function("hello")
	fn.Status = v1beta1.FunctionStatus{}
	if err := e.client.Status().Update(context.Background(), fn); err != nil {
		t.Fatal(err)
	}
	e.r = &Reconciler{Client: e.client, APIReader: e.client, Recorder: e.recorder, Config: cfg}
	_, writes := e.reconcile("hello")
	for _, w := range writes {
		if strings.HasPrefix(w, "create Job") {
			t.Fatalf("a second Job was created: %v", writes)
		}
	}
	if got := onlyJob(t, e); got.Name != job.Name {
		t.Errorf("Job %s", got.Name)
	}
	if b := e.function("hello").Status.Build; b == nil || b.JobName != job.Name || e.function("hello").Status.State != v1beta1.FunctionStateBuilding {
		t.Errorf("status.build %+v", b)
	}

	// A Job created but left suspended (the controller stopped before creating its input) is released.
	suspended := &batchv1.Job{}
	e.mustGet(job.Name, suspended)
	on := true
	suspended.Spec.Suspend = &on
	if err := e.client.Update(context.Background(), suspended); err != nil {
		t.Fatal(err)
	}
	if err := e.client.Delete(context.Background(), &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: testNamespace, Name: job.Name}}); err != nil {
		t.Fatal(err)
	}
	e.reconcile("hello")
	e.mustGet(job.Name, suspended)
	if suspended.Spec.Suspend == nil || *suspended.Spec.Suspend {
		t.Error("the suspended Job must be released")
	}
	e.mustGet(job.Name, &corev1.ConfigMap{})
}

func TestBuildFailure(t *testing.T) {
	for _, tc := range []struct {
		name       string
		pod        func(*corev1.Pod)
		logs       string
		logsErr    error
		reason     string
		want       []string
		wantNot    []string
		wantLogRun bool
	}{{
		name: "termination message of the fetcher",
		pod: func(p *corev1.Pod) {
			p.Status.InitContainerStatuses = []corev1.ContainerStatus{{Name: build.ContainerFetcher, State: corev1.ContainerState{
				Terminated: &corev1.ContainerStateTerminated{ExitCode: 5, Message: "fetching https://example.com/src.zip: 404 Not Found\n"},
			}}}
		},
		reason: "BackoffLimitExceeded",
		want:   []string{"container nuclio-fetcher exited with code 5", "404 Not Found"},
	}, {
		name: "termination message of kaniko, last lines only",
		pod: func(p *corev1.Pod) {
			var lines []string
			for i := 0; i < 30; i++ {
				lines = append(lines, fmt.Sprintf("\x1b[36mINFO\x1b[0m step %02d", i))
			}
			lines = append(lines, "error building image: RUN pip install nope: exit status 1")
			p.Status.InitContainerStatuses = []corev1.ContainerStatus{{Name: build.ContainerFetcher, State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 0}}}}
			p.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: build.ContainerKaniko, State: corev1.ContainerState{
				Terminated: &corev1.ContainerStateTerminated{ExitCode: 1, Message: strings.Join(lines, "\n")},
			}}}
		},
		reason:  "BackoffLimitExceeded",
		want:    []string{"container kaniko exited with code 1", "INFO step 29", "INFO step 11\n", "error building image: RUN pip install nope"},
		wantNot: []string{"\x1b[", "step 10"},
	}, {
		name: "empty message falls back to the log",
		pod: func(p *corev1.Pod) {
			p.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: build.ContainerKaniko, State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 1}}}}
		},
		logs:       "pushing image\nUNAUTHORIZED: authentication required\n",
		reason:     "BackoffLimitExceeded",
		want:       []string{"exited with code 1", "UNAUTHORIZED: authentication required"},
		wantLogRun: true,
	}, {
		name: "log API failure is tolerated",
		pod: func(p *corev1.Pod) {
			p.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: build.ContainerKaniko, State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 137}}}}
		},
		logsErr:    errLogs,
		reason:     "BackoffLimitExceeded",
		want:       []string{"container kaniko exited with code 137"},
		wantNot:    []string{"forbidden"},
		wantLogRun: true,
	}, {
		name:   "deadline without pods",
		reason: batchv1.JobReasonDeadlineExceeded,
		want:   []string{"timed out after 3600s", "DeadlineExceeded"},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, testConfig(t), sourceFunction("hello", nil), defaultProject())
			e.logs.text, e.logs.err = tc.logs, tc.logsErr
			e.reconcile("hello")
			job := onlyJob(t, e)
			if tc.pod != nil {
				pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: job.Name + "-x7k2p", Namespace: testNamespace,
					Labels: map[string]string{jobControllerUIDLabel: string(job.UID), "batch.kubernetes.io/job-name": job.Name}}}
				pod.Status.Phase = corev1.PodFailed
				tc.pod(pod)
				if err := e.client.Create(context.Background(), pod); err != nil {
					t.Fatal(err)
				}
			}
			e.finishJob(job.Name, false, tc.reason)
			e.events()
			e.reconcile("hello")
			fn := e.function("hello")
			if fn.Status.State != v1beta1.FunctionStateError {
				t.Fatalf("state %q", fn.Status.State)
			}
			for _, w := range tc.want {
				if !strings.Contains(fn.Status.Message, w) {
					t.Errorf("message %q lacks %q", fn.Status.Message, w)
				}
			}
			for _, w := range tc.wantNot {
				if strings.Contains(fn.Status.Message, w) {
					t.Errorf("message %q contains %q", fn.Status.Message, w)
				}
			}
			if lines := strings.Count(fn.Status.Message, "\n"); lines > failureLogLines {
				t.Errorf("message has %d lines", lines)
			}
			if (e.logs.calls > 0) != tc.wantLogRun {
				t.Errorf("pods/log read %d times", e.logs.calls)
			}
			expectCondition(t, fn, v1beta1.ConditionBuilt, metav1.ConditionFalse, ReasonBuildFailed)
			expectCondition(t, fn, v1beta1.ConditionReady, metav1.ConditionFalse, ReasonBuildFailed)
			if fn.Status.Build.CompletionTime == nil || fn.Status.Build.Image != "" {
				t.Errorf("status.build %+v", fn.Status.Build)
			}
			if got := strings.Join(e.events(), "\n"); !strings.Contains(got, "Warning BuildFailed") {
				t.Errorf("events: %s", got)
			}
			if err := e.get("nuclio-hello", &appsv1.Deployment{}); !apierrors.IsNotFound(err) {
				t.Errorf("a failed build deploys nothing: %v", err)
			}

			// The failure sticks, also after the Job's TTL removed it, until the source changes.
			message := fn.Status.Message
			if err := e.client.Delete(context.Background(), &job); err != nil {
				t.Fatal(err)
			}
			if _, writes := e.reconcile("hello"); len(writes) != 0 {
				t.Errorf("a failed build was retried: %v", writes)
			}
			if fn := e.function("hello"); fn.Status.Message != message || fn.Status.State != v1beta1.FunctionStateError {
				t.Errorf("failure not kept: %q", fn.Status.Message)
			}
			e.update("hello", func(fn *v1beta1.NuclioFunction) { fn.Spec.Build.Commands = []string{"true"} })
			e.reconcile("hello")
			if e.function("hello").Status.State != v1beta1.FunctionStateBuilding {
				t.Error("a changed source builds again")
			}
		})
	}
}

func TestBuildDecision(t *testing.T) {
	for _, tc := range []struct {
		name       string
		mutate     func(*v1beta1.NuclioFunction)
		status     *v1beta1.BuildStatus
		wantJob    bool
		wantState  string
		wantBuilt  string
		wantImage  string
		wantDeploy bool
	}{{
		name: "spec.image only deploys directly",
		mutate: func(fn *v1beta1.NuclioFunction) {
			fn.Spec.Build = v1beta1.Build{}
			fn.Spec.Image = "quay.io/acme/hello:1"
		},
		wantState:  v1beta1.FunctionStateWaitingForResourceConfiguration,
		wantBuilt:  ReasonImageProvided,
		wantImage:  "quay.io/acme/hello:1",
		wantDeploy: true,
	}, {
		name: "spec.runRegistry is prepended to spec.image",
		mutate: func(fn *v1beta1.NuclioFunction) {
			fn.Spec.Build = v1beta1.Build{}
			fn.Spec.Image, fn.Spec.RunRegistry = "acme/hello:1", "registry.local:5000"
		},
		wantState:  v1beta1.FunctionStateWaitingForResourceConfiguration,
		wantBuilt:  ReasonImageProvided,
		wantImage:  "registry.local:5000/acme/hello:1",
		wantDeploy: true,
	}, {
		name: "skip-build annotation runs spec.image despite a source",
		mutate: func(fn *v1beta1.NuclioFunction) {
			fn.Spec.Image = "quay.io/acme/hello:1"
			fn.Annotations = map[string]string{v1beta1.AnnotationSkipBuild: "true"}
		},
		wantState:  v1beta1.FunctionStateWaitingForResourceConfiguration,
		wantBuilt:  ReasonBuildSkipped,
		wantImage:  "quay.io/acme/hello:1",
		wantDeploy: true,
	}, {
		name:       "neverBuild runs the last built image",
		mutate:     func(fn *v1beta1.NuclioFunction) { fn.Spec.Build.Mode = build.ModeNeverBuild },
		status:     &v1beta1.BuildStatus{SourceHash: "old", Image: "registry.example.com/team/processor-hello:latest", JobName: "nuclio-hello-build-0123456789"},
		wantState:  v1beta1.FunctionStateWaitingForResourceConfiguration,
		wantBuilt:  ReasonBuildSkipped,
		wantImage:  "registry.example.com/team/processor-hello:latest",
		wantDeploy: true,
	}, {
		name:      "neverBuild without any image is an error",
		mutate:    func(fn *v1beta1.NuclioFunction) { fn.Spec.Build.Mode = build.ModeNeverBuild },
		wantState: v1beta1.FunctionStateError,
		wantBuilt: ReasonNoImage,
	}, {
		name: "skip-deploy imports",
		mutate: func(fn *v1beta1.NuclioFunction) {
			fn.Annotations = map[string]string{v1beta1.AnnotationSkipDeploy: "true"}
		},
		wantState: v1beta1.FunctionStateImported,
		wantBuilt: ReasonSkipDeploy,
	}, {
		name:      "nothing to build or run",
		mutate:    func(fn *v1beta1.NuclioFunction) { fn.Spec.Build = v1beta1.Build{} },
		wantState: v1beta1.FunctionStateError,
		wantBuilt: ReasonNoImage,
	}, {
		name:      "s3 code entry builds",
		mutate:    func(fn *v1beta1.NuclioFunction) { fn.Spec.Build = v1beta1.Build{CodeEntryType: "s3"} },
		wantJob:   true,
		wantState: v1beta1.FunctionStateBuilding,
		wantBuilt: ReasonBuilding,
	}, {
		name: "build.image builds (shell around a handler)",
		mutate: func(fn *v1beta1.NuclioFunction) {
			fn.Spec.Runtime, fn.Spec.Handler, fn.Spec.Build = "shell", "main.sh", v1beta1.Build{Image: "acme/sh"}
		},
		wantJob:   true,
		wantState: v1beta1.FunctionStateBuilding,
		wantBuilt: ReasonBuilding,
	}, {
		name:      "an invalid build is an error, not a Job",
		mutate:    func(fn *v1beta1.NuclioFunction) { fn.Spec.Build.Args = map[string]string{"X": "a\nRUN curl evil"} },
		wantState: v1beta1.FunctionStateError,
		wantBuilt: ReasonInvalidBuild,
	}, {
		name:      "build flags outside the policy are refused",
		mutate:    func(fn *v1beta1.NuclioFunction) { fn.Spec.Build.Flags = []string{"--destination=evil.example.com/x"} },
		wantState: v1beta1.FunctionStateError,
		wantBuilt: ReasonBuildSourceRefused,
	}} {
		t.Run(tc.name, func(t *testing.T) {
			fn := sourceFunction("hello", tc.mutate)
			fn.Status.Build = tc.status
			e := newEnv(t, testConfig(t), fn, defaultProject())
			e.reconcile("hello")
			got := e.function("hello")
			if (len(e.jobs()) > 0) != tc.wantJob {
				t.Errorf("Jobs: %d", len(e.jobs()))
			}
			if got.Status.State != tc.wantState {
				t.Errorf("state %q (%s), want %q", got.Status.State, got.Status.Message, tc.wantState)
			}
			if c := condition(got, v1beta1.ConditionBuilt); c.Reason != tc.wantBuilt {
				t.Errorf("Built reason %q (%s), want %q", c.Reason, c.Message, tc.wantBuilt)
			}
			d := &appsv1.Deployment{}
			err := e.get("nuclio-hello", d)
			if tc.wantDeploy {
				if err != nil {
					t.Fatal(err)
				}
				if d.Spec.Template.Spec.Containers[0].Image != tc.wantImage || got.Status.ContainerImage != tc.wantImage {
					t.Errorf("image %s / %s, want %s", d.Spec.Template.Spec.Containers[0].Image, got.Status.ContainerImage, tc.wantImage)
				}
			} else if !apierrors.IsNotFound(err) {
				t.Errorf("Deployment: %v", err)
			}
		})
	}
}

func TestAlwaysBuild(t *testing.T) {
	e := newEnv(t, testConfig(t), sourceFunction("hello", nil), defaultProject())
	first := buildToReady(t, e, "hello")

	// Switching to alwaysBuild with the same source builds once more.
	e.update("hello", func(fn *v1beta1.NuclioFunction) { fn.Spec.Build.Mode = build.ModeAlwaysBuild })
	e.reconcile("hello")
	jobs := e.jobs()
	if len(jobs) != 2 {
		t.Fatalf("alwaysBuild must build again, have %d Jobs", len(jobs))
	}
	second := e.function("hello").Status.Build.JobName
	if second == first {
		t.Fatal("the alwaysBuild Job needs its own name")
	}
	e.finishJob(second, true, "")
	e.reconcile("hello")

	// ... but not on every reconcile or on unrelated changes (Nuclio clears the mode after building).
	e.update("hello", func(fn *v1beta1.NuclioFunction) { fn.Spec.MinReplicas, fn.Spec.MaxReplicas = ptr32(1), ptr32(3) })
	e.reconcile("hello")
	if len(e.jobs()) != 2 {
		t.Fatalf("an unrelated change rebuilt: %d Jobs", len(e.jobs()))
	}
	d := &appsv1.Deployment{}
	e.mustGet("nuclio-hello", d)
	if d.Spec.Template.Annotations[AnnotationImageBuild] != second {
		t.Error("the rebuilt image must roll out (same tag, new build)")
	}

	// nuclio.io/force-update asks for another build.
	e.update("hello", func(fn *v1beta1.NuclioFunction) {
		fn.Annotations = map[string]string{v1beta1.AnnotationForceUpdate: "2"}
	})
	e.reconcile("hello")
	if len(e.jobs()) != 3 {
		t.Fatalf("force-update must build again: %d Jobs", len(e.jobs()))
	}
}

func TestBuildSourcePolicy(t *testing.T) {
	cfg := testConfig(t)
	cfg.BuildSourcePolicy.Namespace, cfg.BuildSourcePolicy.Name = "nuclio-system", "nuclio-build-source-policy"

	// Missing policy ConfigMap: builds wait (fail closed).
	e := newEnv(t, cfg, sourceFunction("hello", nil), defaultProject())
	res, _ := e.reconcile("hello")
	fn := e.function("hello")
	if fn.Status.State != v1beta1.FunctionStateError || len(e.jobs()) != 0 || res.RequeueAfter == 0 {
		t.Fatalf("state %q, %d Jobs, requeue %v", fn.Status.State, len(e.jobs()), res.RequeueAfter)
	}
	expectCondition(t, fn, v1beta1.ConditionBuilt, metav1.ConditionFalse, ReasonBuildPolicyUnavailable)

	// With the ConfigMap, its data reaches the fetcher.
	policy := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: "nuclio-system", Name: "nuclio-build-source-policy"},
		Data: map[string]string{"allowedBuildFlags": "--verbosity"}}
	if err := e.client.Create(context.Background(), policy); err != nil {
		t.Fatal(err)
	}
	e.reconcile("hello")
	job := onlyJob(t, e)
	input := &corev1.ConfigMap{}
	e.mustGet(job.Name, input)
	var data map[string]string
	if err := json.Unmarshal([]byte(input.Data[build.PolicyKey]), &data); err != nil || data["allowedBuildFlags"] != "--verbosity" {
		t.Errorf("policy data %q: %v", input.Data[build.PolicyKey], err)
	}
	if !containsArg(job.Spec.Template.Spec.InitContainers[0].Args, "--policy=/etc/nuclio/build/build-source-policy.json") {
		t.Errorf("fetcher args %v", job.Spec.Template.Spec.InitContainers[0].Args)
	}

	// The controller applies the same policy before building: a flag it does not allow is refused.
	e.update("hello", func(fn *v1beta1.NuclioFunction) { fn.Spec.Build.Flags = []string{"--single-snapshot"} })
	e.reconcile("hello")
	fn = e.function("hello")
	expectCondition(t, fn, v1beta1.ConditionBuilt, metav1.ConditionFalse, ReasonBuildSourceRefused)
	if !strings.Contains(fn.Status.Message, "spec.build.flags") {
		t.Errorf("message %q names no field", fn.Status.Message)
	}
}

func TestFunctionSecretReachesTheFetcher(t *testing.T) {
	fn := sourceFunction("hello", func(fn *v1beta1.NuclioFunction) {
		fn.Spec.Build = v1beta1.Build{Path: "https://example.com/src.zip", CodeEntryType: "archive",
			CodeEntryAttributes: map[string]interface{}{"headers": map[string]interface{}{"Authorization": "$ref:/spec/build/codeentryattributes/headers/authorization"}}}
	})
	secret := credentialsSecret(t, "hello", map[string]string{"$ref:/spec/build/codeentryattributes/headers/authorization": "Bearer s3cr3t"})
	e := newEnv(t, testConfig(t), fn, secret, defaultProject())
	e.reconcile("hello")
	job := onlyJob(t, e)
	var mounted bool
	for _, v := range job.Spec.Template.Spec.Volumes {
		if v.Secret != nil && v.Secret.SecretName == secret.Name {
			mounted = true
		}
	}
	if !mounted || !containsArg(job.Spec.Template.Spec.InitContainers[0].Args, "--secret-dir=/etc/nuclio/secrets") {
		t.Errorf("the credentials Secret must be mounted into the fetcher: %+v", job.Spec.Template.Spec.Volumes)
	}
	input := &corev1.ConfigMap{}
	e.mustGet(job.Name, input)
	if strings.Contains(input.Data[build.FunctionKey], "s3cr3t") {
		t.Error("the build input must hold the masked function only")
	}
	for _, s := range []string{job.String(), input.String(), e.function("hello").Status.Message} {
		if strings.Contains(s, "s3cr3t") {
			t.Error("a credential leaked")
		}
	}
}

func TestBuildJobOfDeletedNamesake(t *testing.T) {
	fn := sourceFunction("hello", nil)
	plan, err := testConfig(t).BuildConfig().Generate(fn)
	if err != nil {
		t.Fatal(err)
	}
	name := build.JobName("hello", plan.SourceHash)
	stale := &batchv1.Job{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: testNamespace, UID: "stale",
		Labels:          map[string]string{child.LabelManagedBy: child.ManagedBy},
		OwnerReferences: []metav1.OwnerReference{{APIVersion: "nuclio.io/v1beta1", Kind: "NuclioFunction", Name: "hello", UID: "old-uid", Controller: ptrBool(true)}}}}
	e := newEnv(t, testConfig(t), fn, stale, defaultProject())
	res, _ := e.reconcile("hello")
	if err := e.get(name, &batchv1.Job{}); !apierrors.IsNotFound(err) || res.RequeueAfter == 0 {
		t.Fatalf("the stale Job must be deleted and the build retried: %v, %v", err, res)
	}
	e.reconcile("hello")
	if job := onlyJob(t, e); !metav1.IsControlledBy(&job, e.function("hello")) {
		t.Error("the new Job must belong to the new function")
	}
}

func containsArg(args []string, want string) bool {
	for _, a := range args {
		if a == want {
			return true
		}
	}
	return false
}

func hasEnv(env []corev1.EnvVar, name, value string) bool {
	for _, e := range env {
		if e.Name == name && e.Value == value {
			return true
		}
	}
	return false
}

func ptr32(v int32) *int32 { return &v }

func ptrBool(v bool) *bool { return &v }
