// Copyright The nuclio-apiserver Authors.
// SPDX-License-Identifier: Apache-2.0

// Package project reconciles NuclioProjects. Nuclio's project operator creates nothing; on deletion it
// deletes the project's API gateways and functions (cascading) or the dashboard refuses the deletion while
// they exist (restricted, the default) (nuclio/nuclio:pkg/platform/kube/controller/project.go,
// pkg/platform/abstract/platform.go ValidateDeleteProjectOptions).
//
// Here `kubectl delete nuclioproject` is the only entry point, so the strategy is an annotation,
// nuclio.io/delete-strategy (restricted or cascading), and the controller holds every project with the
// finalizer nuclio.io/project until its strategy is satisfied:
//
//   - restricted: the project stays (terminating) while functions or API gateways name it; the condition
//     DeletionBlocked says which. Deleting them, or switching the annotation to cascading, releases it.
//   - cascading: the controller deletes the project's API gateways and functions (their children follow
//     through garbage collection) and releases the project once none is left.
//
// A function or gateway belongs to the project named by its label nuclio.io/project-name; objects without
// the label belong to the project `default`.
package project

import (
	"context"
	"fmt"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/nuclio-apiserver/nuclio-apiserver/apis/nuclio/v1beta1"
)

const (
	// Finalizer holds a project until its deletion strategy is satisfied.
	Finalizer = "nuclio.io/project"
	// AnnotationDeleteStrategy selects the deletion strategy: StrategyRestricted (default) or
	// StrategyCascading (Nuclio's X-Nuclio-Delete-Project-Strategy header).
	AnnotationDeleteStrategy = "nuclio.io/delete-strategy"
	StrategyRestricted       = "restricted"
	StrategyCascading        = "cascading"

	// ConditionDeletionBlocked is True while a restricted project waits for its functions and gateways
	// to go, and False (reason DeletingResources) while a cascading deletion removes them.
	ConditionDeletionBlocked = "DeletionBlocked"
	ReasonHasResources       = "HasResources"
	ReasonDeletingResources  = "DeletingResources"
	ReasonUnknownStrategy    = "UnknownDeleteStrategy"
)

// Reconciler reconciles NuclioProjects.
type Reconciler struct {
	// Client reads from the manager's cache and writes.
	Client client.Client
	// Recorder records Events on projects; nil records none.
	Recorder events.EventRecorder
}

// Reconcile implements reconcile.Reconciler for one NuclioProject.
func (r *Reconciler) Reconcile(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	p := &v1beta1.NuclioProject{}
	if err := r.Client.Get(ctx, req.NamespacedName, p); err != nil {
		return reconcile.Result{}, client.IgnoreNotFound(err)
	}
	if p.DeletionTimestamp == nil {
		if !controllerutil.ContainsFinalizer(p, Finalizer) {
			patch := client.MergeFromWithOptions(p.DeepCopy(), client.MergeFromWithOptimisticLock{})
			controllerutil.AddFinalizer(p, Finalizer)
			if err := r.Client.Patch(ctx, p, patch); err != nil {
				return reconcile.Result{}, client.IgnoreNotFound(err)
			}
		}
		return reconcile.Result{}, r.writeStatus(ctx, p, func(st *v1beta1.ProjectStatus) {
			meta.RemoveStatusCondition(&st.Conditions, ConditionDeletionBlocked)
		})
	}
	if !controllerutil.ContainsFinalizer(p, Finalizer) {
		return reconcile.Result{}, nil
	}

	functions, gateways, err := r.members(ctx, p)
	if err != nil {
		return reconcile.Result{}, err
	}
	if len(functions)+len(gateways) == 0 {
		patch := client.MergeFromWithOptions(p.DeepCopy(), client.MergeFromWithOptimisticLock{})
		controllerutil.RemoveFinalizer(p, Finalizer)
		if err := r.Client.Patch(ctx, p, patch); err != nil {
			return reconcile.Result{}, client.IgnoreNotFound(err)
		}
		logf.FromContext(ctx).Info("released deleted project", "project", req.NamespacedName)
		return reconcile.Result{}, nil
	}

	inventory := describe(functions, gateways)
	strategy := p.Annotations[AnnotationDeleteStrategy]
	switch strategy {
	case StrategyCascading:
		if err := r.cascade(ctx, p, functions, gateways); err != nil {
			return reconcile.Result{}, err
		}
		message := "deleting " + inventory
		return reconcile.Result{}, r.writeStatus(ctx, p, func(st *v1beta1.ProjectStatus) {
			r.transition(p, st, metav1.ConditionFalse, ReasonDeletingResources, message, corev1.EventTypeNormal)
		})
	case "", StrategyRestricted:
		message := fmt.Sprintf("project %s has %s; delete them first, or annotate the project %s=%s",
			p.Name, inventory, AnnotationDeleteStrategy, StrategyCascading)
		return reconcile.Result{}, r.writeStatus(ctx, p, func(st *v1beta1.ProjectStatus) {
			r.transition(p, st, metav1.ConditionTrue, ReasonHasResources, message, corev1.EventTypeWarning)
		})
	default:
		message := fmt.Sprintf("annotation %s has the unknown value %q (use %s or %s); treated as %s: project %s has %s",
			AnnotationDeleteStrategy, strategy, StrategyRestricted, StrategyCascading, StrategyRestricted, p.Name, inventory)
		return reconcile.Result{}, r.writeStatus(ctx, p, func(st *v1beta1.ProjectStatus) {
			r.transition(p, st, metav1.ConditionTrue, ReasonUnknownStrategy, message, corev1.EventTypeWarning)
		})
	}
}

// transition sets the DeletionBlocked condition and records an Event when its reason changes.
func (r *Reconciler) transition(p *v1beta1.NuclioProject, st *v1beta1.ProjectStatus, status metav1.ConditionStatus, reason, message, eventType string) {
	if c := meta.FindStatusCondition(st.Conditions, ConditionDeletionBlocked); (c == nil || c.Reason != reason) && r.Recorder != nil {
		r.Recorder.Eventf(p, nil, eventType, reason, "Delete", "%s", message)
	}
	meta.SetStatusCondition(&st.Conditions, metav1.Condition{Type: ConditionDeletionBlocked, Status: status, Reason: reason,
		Message: message, ObservedGeneration: p.Generation})
}

// writeStatus applies mutate to p's status and writes it when it changed.
func (r *Reconciler) writeStatus(ctx context.Context, p *v1beta1.NuclioProject, mutate func(*v1beta1.ProjectStatus)) error {
	updated := p.DeepCopy()
	mutate(&updated.Status)
	updated.Status.ObservedGeneration = p.Generation
	if equality.Semantic.DeepEqual(p.Status, updated.Status) {
		return nil
	}
	if err := r.Client.Status().Update(ctx, updated); err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
		return fmt.Errorf("writing the status of project %s/%s: %w", p.Namespace, p.Name, err)
	}
	return nil
}

// members lists the functions and API gateways of p that still exist.
func (r *Reconciler) members(ctx context.Context, p *v1beta1.NuclioProject) ([]v1beta1.NuclioFunction, []v1beta1.NuclioAPIGateway, error) {
	fnList := &v1beta1.NuclioFunctionList{}
	if err := r.Client.List(ctx, fnList, client.InNamespace(p.Namespace)); err != nil {
		return nil, nil, fmt.Errorf("listing the functions of project %s/%s: %w", p.Namespace, p.Name, err)
	}
	gwList := &v1beta1.NuclioAPIGatewayList{}
	if err := r.Client.List(ctx, gwList, client.InNamespace(p.Namespace)); err != nil {
		return nil, nil, fmt.Errorf("listing the API gateways of project %s/%s: %w", p.Namespace, p.Name, err)
	}
	var functions []v1beta1.NuclioFunction
	for _, f := range fnList.Items {
		if projectOf(f.Labels) == p.Name {
			functions = append(functions, f)
		}
	}
	var gateways []v1beta1.NuclioAPIGateway
	for _, g := range gwList.Items {
		if projectOf(g.Labels) == p.Name {
			gateways = append(gateways, g)
		}
	}
	return functions, gateways, nil
}

// cascade deletes the project's API gateways, then its functions (Nuclio's order: gateways route to
// functions). Objects already being deleted are skipped.
func (r *Reconciler) cascade(ctx context.Context, p *v1beta1.NuclioProject, functions []v1beta1.NuclioFunction, gateways []v1beta1.NuclioAPIGateway) error {
	background := client.PropagationPolicy(metav1.DeletePropagationBackground)
	for i := range gateways {
		g := &gateways[i]
		if g.DeletionTimestamp != nil {
			continue
		}
		if err := r.Client.Delete(ctx, g, client.Preconditions{UID: &g.UID}, background); client.IgnoreNotFound(err) != nil {
			return fmt.Errorf("deleting API gateway %s/%s of project %s: %w", g.Namespace, g.Name, p.Name, err)
		}
	}
	for i := range functions {
		f := &functions[i]
		if f.DeletionTimestamp != nil {
			continue
		}
		if err := r.Client.Delete(ctx, f, client.Preconditions{UID: &f.UID}, background); client.IgnoreNotFound(err) != nil {
			return fmt.Errorf("deleting function %s/%s of project %s: %w", f.Namespace, f.Name, p.Name, err)
		}
	}
	return nil
}

// describe summarises what a project still holds, naming up to five objects of each kind.
func describe(functions []v1beta1.NuclioFunction, gateways []v1beta1.NuclioAPIGateway) string {
	names := func(list []string) string {
		sort.Strings(list)
		if len(list) > 5 {
			return strings.Join(list[:5], ", ") + fmt.Sprintf(" and %d more", len(list)-5)
		}
		return strings.Join(list, ", ")
	}
	var parts []string
	if len(functions) > 0 {
		var n []string
		for _, f := range functions {
			n = append(n, f.Name)
		}
		parts = append(parts, fmt.Sprintf("%d function(s) (%s)", len(functions), names(n)))
	}
	if len(gateways) > 0 {
		var n []string
		for _, g := range gateways {
			n = append(n, g.Name)
		}
		parts = append(parts, fmt.Sprintf("%d API gateway(s) (%s)", len(gateways), names(n)))
	}
	return strings.Join(parts, " and ")
}

func projectOf(labels map[string]string) string {
	if p := labels[v1beta1.LabelProjectName]; p != "" {
		return p
	}
	return v1beta1.DefaultProjectName
}

// SetupWithManager registers the reconciler with mgr. Functions and API gateways that appear or go
// re-examine their project (a terminating one may be released).
func (r *Reconciler) SetupWithManager(mgr ctrl.Manager, workers int) error {
	membership := predicate.Funcs{
		CreateFunc: func(event.CreateEvent) bool { return true },
		DeleteFunc: func(event.DeleteEvent) bool { return true },
		UpdateFunc: func(e event.UpdateEvent) bool {
			return projectOf(e.ObjectOld.GetLabels()) != projectOf(e.ObjectNew.GetLabels()) ||
				(e.ObjectOld.GetDeletionTimestamp() == nil) != (e.ObjectNew.GetDeletionTimestamp() == nil)
		},
		GenericFunc: func(event.GenericEvent) bool { return false },
	}
	toProject := handler.EnqueueRequestsFromMapFunc(func(_ context.Context, obj client.Object) []reconcile.Request {
		return []reconcile.Request{{NamespacedName: types.NamespacedName{Namespace: obj.GetNamespace(), Name: projectOf(obj.GetLabels())}}}
	})
	return ctrl.NewControllerManagedBy(mgr).
		Named("nuclioproject").
		For(&v1beta1.NuclioProject{}).
		Watches(&v1beta1.NuclioFunction{}, toProject, builder.WithPredicates(membership)).
		Watches(&v1beta1.NuclioAPIGateway{}, toProject, builder.WithPredicates(membership)).
		WithOptions(controller.Options{MaxConcurrentReconciles: workers}).
		Complete(r)
}
