// Copyright The nuclio-apiserver Authors.
// SPDX-License-Identifier: Apache-2.0

// Package functionevent reconciles NuclioFunctionEvents: each event gets an ownerReference to the
// function its label nuclio.io/function-name names, so that the garbage collector deletes function
// events with their function (Nuclio's controller deletes them explicitly,
// nuclio/nuclio:pkg/platform/kube/functionres/lazy.go deleteFunctionEvents).
//
// An event whose function does not exist yet is left alone until the function is created. The reference
// is not a controller reference and does not block the function's deletion.
package functionevent

import (
	"context"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/nuclio-apiserver/nuclio-apiserver/apis/nuclio/v1beta1"
)

// Reconciler reconciles NuclioFunctionEvents.
type Reconciler struct {
	// Client reads from the manager's cache and writes.
	Client client.Client
}

// Reconcile implements reconcile.Reconciler for one NuclioFunctionEvent.
func (r *Reconciler) Reconcile(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	ev := &v1beta1.NuclioFunctionEvent{}
	if err := r.Client.Get(ctx, req.NamespacedName, ev); err != nil {
		return reconcile.Result{}, client.IgnoreNotFound(err)
	}
	name := ev.Labels[v1beta1.LabelFunctionName]
	if ev.DeletionTimestamp != nil || name == "" {
		return reconcile.Result{}, nil
	}
	fn := &v1beta1.NuclioFunction{}
	if err := r.Client.Get(ctx, types.NamespacedName{Namespace: ev.Namespace, Name: name}, fn); err != nil {
		// No function (yet): its creation brings the event back.
		return reconcile.Result{}, client.IgnoreNotFound(err)
	}
	if fn.DeletionTimestamp != nil {
		return reconcile.Result{}, nil
	}
	refs, changed := OwnerReferences(ev.OwnerReferences, fn)
	if !changed {
		return reconcile.Result{}, nil
	}
	updated := ev.DeepCopy()
	updated.OwnerReferences = refs
	if err := r.Client.Update(ctx, updated); err != nil {
		if apierrors.IsConflict(err) || apierrors.IsNotFound(err) {
			return reconcile.Result{}, nil // its event brings the new version
		}
		return reconcile.Result{}, fmt.Errorf("setting the owner of function event %s: %w", req.NamespacedName, err)
	}
	logf.FromContext(ctx).V(1).Info("function event owned by its function", "event", req.NamespacedName, "function", fn.Name)
	return reconcile.Result{}, nil
}

// OwnerReferences returns refs with a reference to fn, replacing references to earlier functions of the
// same name (deleted and recreated), and whether that changed anything. References to other kinds are
// kept.
func OwnerReferences(refs []metav1.OwnerReference, fn *v1beta1.NuclioFunction) ([]metav1.OwnerReference, bool) {
	want := metav1.OwnerReference{APIVersion: v1beta1.SchemeGroupVersion.String(), Kind: "NuclioFunction", Name: fn.Name, UID: fn.UID}
	var out []metav1.OwnerReference
	found := false
	for _, ref := range refs {
		if ref.Kind == want.Kind && ref.Name == want.Name && ref.APIVersion == want.APIVersion {
			if ref.UID == want.UID && !found {
				found = true
				out = append(out, ref)
			}
			continue
		}
		out = append(out, ref)
	}
	if !found {
		out = append(out, want)
	}
	return out, !found || len(out) != len(refs)
}

// SetupWithManager registers the reconciler with mgr. A function's creation re-examines the events
// labelled with its name.
func (r *Reconciler) SetupWithManager(mgr ctrl.Manager, workers int) error {
	created := predicate.Funcs{
		CreateFunc:  func(event.CreateEvent) bool { return true },
		UpdateFunc:  func(event.UpdateEvent) bool { return false },
		DeleteFunc:  func(event.DeleteEvent) bool { return false },
		GenericFunc: func(event.GenericEvent) bool { return false },
	}
	return ctrl.NewControllerManagedBy(mgr).
		Named("nucliofunctionevent").
		For(&v1beta1.NuclioFunctionEvent{}).
		Watches(&v1beta1.NuclioFunction{}, handler.EnqueueRequestsFromMapFunc(r.functionToEvents), builder.WithPredicates(created)).
		WithOptions(controller.Options{MaxConcurrentReconciles: workers}).
		Complete(r)
}

func (r *Reconciler) functionToEvents(ctx context.Context, obj client.Object) []reconcile.Request {
	list := &v1beta1.NuclioFunctionEventList{}
	if err := r.Client.List(ctx, list, client.InNamespace(obj.GetNamespace()), client.MatchingLabels{v1beta1.LabelFunctionName: obj.GetName()}); err != nil {
		logf.FromContext(ctx).Error(err, "listing the events of a function", "function", obj.GetName())
		return nil
	}
	out := make([]reconcile.Request, 0, len(list.Items))
	for i := range list.Items {
		out = append(out, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(&list.Items[i])})
	}
	return out
}
