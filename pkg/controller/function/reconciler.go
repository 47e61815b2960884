// Copyright The nuclio-apiserver Authors.
// SPDX-License-Identifier: Apache-2.0

// Package function reconciles NuclioFunctions: it builds their images with Kaniko in the function's
// namespace and runs the Nuclio processor (ConfigMap processor.yaml, Deployment, Service, HPA, Ingress),
// reporting progress in Nuclio's status.state and in the conditions Built, Deployed and Ready.
//
// Unlike Nuclio's controller, which acts only on functions its dashboard has built and marked
// (nuclio/nuclio:pkg/platform/kube/controller/nucliofunction.go), every function is reconciled: a
// `kubectl apply` is enough. The spec is never written; everything the controller learns goes to the
// status subresource.
//
// States: building (a build Job runs) → waitingForResourceConfiguration (resources applied, the rollout
// is in progress) → ready; error (invalid spec, refused or failed build, missing project, conflicting
// resource) and unhealthy (the rollout made no progress within the readiness timeout, or a ready
// function lost its available replicas); imported for functions annotated skip-deploy.
package function

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/nuclio-apiserver/nuclio-apiserver/apis/nuclio/v1beta1"
	"github.com/nuclio-apiserver/nuclio-apiserver/pkg/controller/config"
	"github.com/nuclio-apiserver/nuclio-apiserver/pkg/controller/internal/child"
	"github.com/nuclio-apiserver/nuclio-apiserver/pkg/masking"
)

// Reconciler reconciles NuclioFunctions.
type Reconciler struct {
	// Client reads from the manager's cache (functions, projects and the controller's own children) and
	// writes.
	Client client.Client
	// APIReader reads what is never cached: the function's credentials Secret (by name), build pods and
	// the build-source policy ConfigMap.
	APIReader client.Reader
	// Logs reads build logs when a failed container left no termination message; nil skips that step.
	Logs PodLogReader
	// Recorder records Events on functions; nil records none.
	Recorder events.EventRecorder
	// Config is the controller configuration, defaulted and validated.
	Config *config.Config
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
}

func (r *Reconciler) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

// Reconcile implements reconcile.Reconciler for one NuclioFunction.
func (r *Reconciler) Reconcile(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	fn := &v1beta1.NuclioFunction{}
	if err := r.Client.Get(ctx, req.NamespacedName, fn); err != nil {
		return reconcile.Result{}, client.IgnoreNotFound(err)
	}
	if fn.DeletionTimestamp != nil {
		// Children, build Jobs, function events and the credentials Secret carry ownerReferences; the
		// garbage collector deletes them.
		return reconcile.Result{}, nil
	}
	original := fn.DeepCopy()
	s := &run{fn: fn}
	result, err := r.reconcile(ctx, s)
	var conflict *child.ConflictError
	if errors.As(err, &conflict) {
		s.fail(ReasonResourceConflict, conflict.Error(), false)
		result, err = reconcile.Result{RequeueAfter: 30 * time.Second}, nil
	}
	// Events describe what was done, which holds whether or not the status write below succeeds.
	if r.Recorder != nil {
		for _, e := range s.events {
			r.Recorder.Eventf(fn, nil, e.eventType, e.reason, e.action, "%s", e.note)
		}
	}
	fn.Status.ObservedGeneration = fn.Generation
	if !equality.Semantic.DeepEqual(original.Status, fn.Status) {
		if uerr := r.Client.Status().Update(ctx, fn); uerr != nil {
			if apierrors.IsConflict(uerr) || apierrors.IsNotFound(uerr) {
				// Changed or deleted meanwhile: its event brings the new version.
				return reconcile.Result{}, err
			}
			return reconcile.Result{}, errors.Join(err, fmt.Errorf("writing the status of function %s: %w", req.NamespacedName, uerr))
		}
	}
	return result, err
}

func (r *Reconciler) reconcile(ctx context.Context, s *run) (reconcile.Result, error) {
	fn := s.fn
	project, err := r.project(ctx, s)
	if err != nil || project == nil {
		return reconcile.Result{}, err
	}
	fn.Status.EnrichedNodeSelector = mergeSelectors(r.Config.DefaultFunctionNodeSelector, project.Spec.DefaultFunctionNodeSelector, fn.Spec.NodeSelector)

	if strings.EqualFold(fn.Annotations[v1beta1.AnnotationSkipDeploy], "true") {
		// Nuclio's import: the function is stored, nothing runs (nuclio-compat §2.5). Existing resources
		// are left as they are.
		message := "the function has the annotation skip-deploy: it is stored but not built or deployed"
		s.setState(v1beta1.FunctionStateImported, "")
		s.condition(v1beta1.ConditionBuilt, metav1.ConditionFalse, ReasonSkipDeploy, message)
		s.condition(v1beta1.ConditionDeployed, metav1.ConditionFalse, ReasonSkipDeploy, message)
		s.condition(v1beta1.ConditionReady, metav1.ConditionFalse, ReasonSkipDeploy, message)
		return reconcile.Result{}, nil
	}

	decision, err := r.resolveImage(ctx, s)
	if err != nil || !decision.ready {
		return decision.result, err
	}
	return r.deploy(ctx, s, decision)
}

// project returns the function's project. A missing `default` project is created (Nuclio creates it
// at start-up in its namespace); any other missing project puts the function in error, as Nuclio's
// controller does (nil, nil).
func (r *Reconciler) project(ctx context.Context, s *run) (*v1beta1.NuclioProject, error) {
	fn := s.fn
	name := ProjectName(fn.Labels)
	project := &v1beta1.NuclioProject{}
	err := r.Client.Get(ctx, types.NamespacedName{Namespace: fn.Namespace, Name: name}, project)
	if err == nil {
		return project, nil
	}
	if !apierrors.IsNotFound(err) {
		return nil, fmt.Errorf("reading project %s/%s: %w", fn.Namespace, name, err)
	}
	if name != v1beta1.DefaultProjectName {
		s.fail(ReasonProjectNotFound, fmt.Sprintf("project %s not found: create the NuclioProject %s in namespace %s, or change the label %s",
			name, name, fn.Namespace, v1beta1.LabelProjectName), false)
		return nil, nil
	}
	project = &v1beta1.NuclioProject{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: fn.Namespace},
		Spec:       v1beta1.ProjectSpec{Description: "Created by nuclio-controller for functions without a project"},
	}
	if err := r.Client.Create(ctx, project); err != nil && !apierrors.IsAlreadyExists(err) {
		return nil, fmt.Errorf("creating the default project of namespace %s: %w", fn.Namespace, err)
	} else if err == nil {
		s.record(corev1.EventTypeNormal, ReasonProjectCreated, "Create", "created project "+name+" in namespace "+fn.Namespace)
	}
	return project, nil
}

// functionSecret returns the function's credentials Secret written by the masking webhook, or nil when
// there is none. It is read by name, uncached: the controller reads no other Secret. A Secret of that
// name the webhook did not write is ignored (with an Event), never mounted.
func (r *Reconciler) functionSecret(ctx context.Context, s *run) (*corev1.Secret, error) {
	fn := s.fn
	name, err := SecretName(fn.Name)
	if err != nil {
		return nil, err
	}
	secret := &corev1.Secret{}
	if err := r.APIReader.Get(ctx, types.NamespacedName{Namespace: fn.Namespace, Name: name}, secret); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, nil
		}
		return nil, fmt.Errorf("reading the credentials Secret %s/%s: %w", fn.Namespace, name, err)
	}
	if err := masking.IsManagedFor(secret, masking.KindFunction, fn.Name); err != nil {
		s.record(corev1.EventTypeWarning, ReasonCredentialsSecretIgnored, "Mount", fmt.Sprintf("Secret %s is not the function's credentials Secret and is not mounted: %v", name, err))
		return nil, nil
	}
	if secret.DeletionTimestamp != nil {
		return nil, nil
	}
	return secret, nil
}

// deploy applies the processor's resources for the decided image and reads their readiness.
func (r *Reconciler) deploy(ctx context.Context, s *run, decision imageDecision) (reconcile.Result, error) {
	fn, cfg := s.fn, r.Config
	secret, err := r.functionSecret(ctx, s)
	if err != nil {
		return reconcile.Result{}, err
	}
	rules, err := ingressRules(fn, cfg)
	if err != nil {
		var fieldErr *field.Error
		if errors.As(err, &fieldErr) {
			s.fail(ReasonInvalidSpec, err.Error(), false)
			return reconcile.Result{}, nil
		}
		return reconcile.Result{}, err
	}
	var changes []string
	note := func(kind, name string, res child.Result) {
		if res != child.Unchanged {
			changes = append(changes, fmt.Sprintf("%s %s %s", res, kind, name))
		}
	}
	opts := child.Options{AdoptLabel: v1beta1.LabelFunctionName}

	cm, err := desiredConfigMap(fn, decision.image)
	if err != nil {
		return reconcile.Result{}, err
	}
	configHash := stringHash(cm.Data[ProcessorConfig])
	_, res, err := child.Ensure(ctx, r.Client, r.APIReader, fn, cm, mergeConfigMap, opts)
	if err != nil {
		return reconcile.Result{}, err
	}
	note("ConfigMap", cm.Name, res)

	svc, res, err := child.Ensure(ctx, r.Client, r.APIReader, fn, desiredService(fn, cfg), mergeService, opts)
	if err != nil {
		return reconcile.Result{}, err
	}
	note("Service", svc.Name, res)

	in := deploymentInput{image: decision.image, configHash: configHash, buildJob: decision.buildJob}
	if secret != nil {
		in.secretName, in.secretHash = secret.Name, dataHash(secret.Data)
	}
	deployment, res, err := child.Ensure(ctx, r.Client, r.APIReader, fn, desiredDeployment(fn, cfg, in), mergeDeployment(fn), opts)
	if err != nil {
		return reconcile.Result{}, err
	}
	note("Deployment", deployment.Name, res)

	if _, _, wanted := hpaBounds(fn); wanted {
		hpa, res, err := child.Ensure(ctx, r.Client, r.APIReader, fn, desiredHPA(fn), mergeHPA, opts)
		if err != nil {
			return reconcile.Result{}, err
		}
		note("HorizontalPodAutoscaler", hpa.Name, res)
	} else if deleted, err := child.DeleteIfOwned(ctx, r.Client, fn, &autoscalingv2.HorizontalPodAutoscaler{ObjectMeta: metav1.ObjectMeta{Namespace: fn.Namespace, Name: ChildName(fn.Name)}}); err != nil {
		return reconcile.Result{}, err
	} else if deleted {
		changes = append(changes, "deleted HorizontalPodAutoscaler "+ChildName(fn.Name))
	}

	if ingress := desiredIngress(fn, cfg, rules); ingress != nil {
		ing, res, err := child.Ensure(ctx, r.Client, r.APIReader, fn, ingress, mergeIngress, opts)
		if err != nil {
			return reconcile.Result{}, err
		}
		note("Ingress", ing.Name, res)
	} else if deleted, err := child.DeleteIfOwned(ctx, r.Client, fn, &networkingv1.Ingress{ObjectMeta: metav1.ObjectMeta{Namespace: fn.Namespace, Name: ChildName(fn.Name)}}); err != nil {
		return reconcile.Result{}, err
	} else if deleted {
		changes = append(changes, "deleted Ingress "+ChildName(fn.Name))
	}

	if len(changes) > 0 {
		s.record(corev1.EventTypeNormal, ReasonDeployed, "Deploy", "applied processor resources: "+strings.Join(changes, ", "))
		logf.FromContext(ctx).Info("applied processor resources", "changes", changes, "image", decision.image)
	}
	s.condition(v1beta1.ConditionDeployed, metav1.ConditionTrue, ReasonResourcesApplied,
		fmt.Sprintf("processor resources match generation %d (image %s)", fn.Generation, decision.image))

	st := &fn.Status
	st.ContainerImage = decision.image
	st.InternalInvocationURLs = []string{fmt.Sprintf("%s.%s.svc.cluster.local:%d", ChildName(fn.Name), fn.Namespace, HTTPPort)}
	st.HTTPPort = 0
	if svc.Spec.Type == corev1.ServiceTypeNodePort {
		for _, p := range svc.Spec.Ports {
			if p.Name == HTTPPortName {
				st.HTTPPort = p.NodePort
			}
		}
	}
	st.ExternalInvocationURLs = nil
	for _, rule := range rules {
		if rule.host != "" {
			st.ExternalInvocationURLs = append(st.ExternalInvocationURLs, rule.host+rule.paths[0])
		}
	}
	st.Replicas = deployment.Status.Replicas
	st.ReadyReplicas = deployment.Status.ReadyReplicas
	r.readiness(s, deployment)
	return reconcile.Result{}, nil
}

// readiness sets state and Ready from the Deployment: ready once the current template is rolled out and
// available (condition Available and every replica updated and available, as Nuclio's WaitAvailable);
// unhealthy when the rollout made no progress within progressDeadlineSeconds (the readiness timeout) or
// a rolled-out function lost availability; otherwise waitingForResourceConfiguration.
func (r *Reconciler) readiness(s *run, d *appsv1.Deployment) {
	fn := s.fn
	want := int32(1)
	if d.Spec.Replicas != nil {
		want = *d.Spec.Replicas
	}
	available, progressing := deploymentCondition(d, appsv1.DeploymentAvailable), deploymentCondition(d, appsv1.DeploymentProgressing)
	observed := d.Status.ObservedGeneration >= d.Generation
	rolledOut := observed && d.Status.UpdatedReplicas == want && d.Status.Replicas == want
	wasServing := fn.Status.State == v1beta1.FunctionStateReady || fn.Status.State == v1beta1.FunctionStateUnhealthy
	switch {
	case rolledOut && available != nil && available.Status == corev1.ConditionTrue && d.Status.AvailableReplicas >= want:
		if fn.Status.State != v1beta1.FunctionStateReady {
			s.record(corev1.EventTypeNormal, ReasonReady, "Ready", fmt.Sprintf("%d/%d replicas available", d.Status.AvailableReplicas, want))
		}
		s.setState(v1beta1.FunctionStateReady, "")
		s.condition(v1beta1.ConditionReady, metav1.ConditionTrue, ReasonAvailable, fmt.Sprintf("%d/%d replicas available", d.Status.AvailableReplicas, want))
	case observed && progressing != nil && progressing.Status == corev1.ConditionFalse && progressing.Reason == "ProgressDeadlineExceeded":
		message := fmt.Sprintf("not ready within %ds: %s", readinessTimeoutSeconds(fn, r.Config), progressing.Message)
		if fn.Status.State != v1beta1.FunctionStateUnhealthy {
			s.record(corev1.EventTypeWarning, ReasonUnhealthy, "Ready", message)
		}
		s.setState(v1beta1.FunctionStateUnhealthy, message)
		s.condition(v1beta1.ConditionReady, metav1.ConditionFalse, ReasonReadinessTimeout, message)
	case rolledOut && wasServing:
		message := fmt.Sprintf("%d/%d replicas available", d.Status.AvailableReplicas, want)
		if available != nil && available.Message != "" {
			message += ": " + available.Message
		}
		if fn.Status.State != v1beta1.FunctionStateUnhealthy {
			s.record(corev1.EventTypeWarning, ReasonUnhealthy, "Ready", message)
		}
		s.setState(v1beta1.FunctionStateUnhealthy, message)
		s.condition(v1beta1.ConditionReady, metav1.ConditionFalse, ReasonUnavailable, message)
	default:
		message := fmt.Sprintf("rolling out: %d/%d replicas updated, %d available", d.Status.UpdatedReplicas, want, d.Status.AvailableReplicas)
		s.setState(v1beta1.FunctionStateWaitingForResourceConfiguration, message)
		s.condition(v1beta1.ConditionReady, metav1.ConditionFalse, ReasonRollingOut, message)
	}
}

func deploymentCondition(d *appsv1.Deployment, t appsv1.DeploymentConditionType) *appsv1.DeploymentCondition {
	for i := range d.Status.Conditions {
		if d.Status.Conditions[i].Type == t {
			return &d.Status.Conditions[i]
		}
	}
	return nil
}

// mergeSelectors merges node selectors, later ones winning (function > project > platform,
// nuclio/nuclio:pkg/common MergeNodeSelector). It returns nil when all are empty.
func mergeSelectors(selectors ...map[string]string) map[string]string {
	var out map[string]string
	for _, s := range selectors {
		for k, v := range s {
			if out == nil {
				out = map[string]string{}
			}
			out[k] = v
		}
	}
	return out
}

// SetupWithManager registers the reconciler with mgr. It watches functions, the children it owns, build
// Jobs, the function credentials Secrets (metadata only, through the manager's label-filtered cache; the
// data is read by name when needed) and projects (a project that appears or changes its node selector
// concerns its functions).
func (r *Reconciler) SetupWithManager(mgr ctrl.Manager, workers int) error {
	return ctrl.NewControllerManagedBy(mgr).
		Named("nucliofunction").
		For(&v1beta1.NuclioFunction{}).
		Owns(&corev1.ConfigMap{}).
		Owns(&corev1.Service{}).
		Owns(&appsv1.Deployment{}).
		Owns(&autoscalingv2.HorizontalPodAutoscaler{}).
		Owns(&networkingv1.Ingress{}).
		Owns(&batchv1.Job{}).
		WatchesMetadata(&corev1.Secret{}, handler.EnqueueRequestsFromMapFunc(secretToFunction)).
		Watches(&v1beta1.NuclioProject{}, handler.EnqueueRequestsFromMapFunc(r.projectToFunctions)).
		WithOptions(controller.Options{MaxConcurrentReconciles: workers}).
		Complete(r)
}

// secretToFunction maps a credentials Secret to its function: the Secret named after the function and
// labelled with it.
func secretToFunction(_ context.Context, obj client.Object) []reconcile.Request {
	fn := obj.GetLabels()[masking.LabelFunctionName]
	if fn == "" {
		return nil
	}
	if name, err := SecretName(fn); err != nil || name != obj.GetName() {
		return nil
	}
	return []reconcile.Request{{NamespacedName: types.NamespacedName{Namespace: obj.GetNamespace(), Name: fn}}}
}

// projectToFunctions maps a project to the functions labelled with it.
func (r *Reconciler) projectToFunctions(ctx context.Context, obj client.Object) []reconcile.Request {
	list := &v1beta1.NuclioFunctionList{}
	if err := r.Client.List(ctx, list, client.InNamespace(obj.GetNamespace())); err != nil {
		logf.FromContext(ctx).Error(err, "listing the functions of a project", "project", obj.GetName())
		return nil
	}
	var out []reconcile.Request
	for i := range list.Items {
		if ProjectName(list.Items[i].Labels) == obj.GetName() {
			out = append(out, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(&list.Items[i])})
		}
	}
	return out
}
