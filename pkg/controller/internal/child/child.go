// Copyright The nuclio-apiserver Authors.
// SPDX-License-Identifier: Apache-2.0

// Package child creates, updates and deletes the objects a nuclio.io object owns (Deployments,
// Services, Ingresses, ...), idempotently.
//
// Every child carries a controller ownerReference to its owner, the label
// app.kubernetes.io/managed-by=nuclio-controller (the manager's cache only holds objects with it), and
// the annotation AnnotationDesiredHash: a digest of the desired state the controller last wrote. A
// child whose annotation matches the current desired state is left alone, so reconciling an unchanged
// object performs no write at all (Nuclio's TestNoChanges), and server-side defaults never look like
// drift. The price: a manual edit of a child survives until its owner changes.
package child

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"reflect"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
)

const (
	// LabelManagedBy with value ManagedBy marks every object the controller creates.
	LabelManagedBy = "app.kubernetes.io/managed-by"
	// ManagedBy is the value of LabelManagedBy on the controller's objects, and its field manager.
	ManagedBy = "nuclio-controller"
	// AnnotationDesiredHash records the digest of the desired state last written to a child.
	AnnotationDesiredHash = "nuclio.io/desired-hash"
)

// Result says what Ensure did.
type Result string

// Results of Ensure.
const (
	Unchanged Result = "unchanged"
	Created   Result = "created"
	Updated   Result = "updated"
)

// ConflictError reports a child name that is taken by an object the controller may not manage: one
// controlled by another owner, or one without the owner's name label.
type ConflictError struct {
	Kind, Namespace, Name string
	Reason                string
}

func (e *ConflictError) Error() string {
	return fmt.Sprintf("%s %s/%s %s", e.Kind, e.Namespace, e.Name, e.Reason)
}

// Options tune Ensure.
type Options struct {
	// AdoptLabel, when set, lets Ensure adopt an existing object that has no controller and carries this
	// label with the owner's name as value (e.g. resources Nuclio's own controller created, which have
	// no ownerReferences but are labelled nuclio.io/function-name).
	AdoptLabel string
	// Reader, when set, reads the existing object instead of the cached client: for kinds that are not
	// cached, such as Secrets.
	Reader client.Reader
}

// Hash returns the hex SHA-256 of v's JSON encoding (maps are encoded in key order).
func Hash(v interface{}) string {
	raw, err := json.Marshal(v)
	if err != nil {
		// Kubernetes objects always encode; this only guards against programming errors.
		raw = []byte(fmt.Sprintf("%#v", v))
	}
	sum := sha256.Sum256(raw)
	return hex.EncodeToString(sum[:])
}

// Ensure makes desired exist as a controlled child of owner. desired must carry its name, namespace,
// labels, annotations and desired state; Ensure adds the managed-by label, the hash annotation and the
// ownerReference. When the object exists, is controlled by owner and its hash annotation equals the
// desired state's, nothing is written. Otherwise merge copies the desired state into the existing object
// (it must keep fields the API server allocates, such as a Service's cluster IP) and the object is
// updated: its labels become desired's, its annotations are desired's over the existing ones (other
// controllers annotate too, e.g. the Deployment revision).
//
// c reads from the cache; reader (uncached) is only used after a create found the name taken, to tell
// cache lag from a foreign object. It returns the object as stored and what was done; a foreign object
// yields a *ConflictError.
func Ensure[T client.Object](ctx context.Context, c client.Client, reader client.Reader, owner client.Object, desired T,
	merge func(existing, desired T), opts Options) (T, Result, error) {
	var zero T
	gvk, err := apiutil.GVKForObject(desired, c.Scheme())
	if err != nil {
		return zero, "", err
	}
	labels := desired.GetLabels()
	if labels == nil {
		labels = map[string]string{}
	}
	labels[LabelManagedBy] = ManagedBy
	desired.SetLabels(labels)
	hash := Hash(desired)
	annotations := desired.GetAnnotations()
	if annotations == nil {
		annotations = map[string]string{}
	}
	annotations[AnnotationDesiredHash] = hash
	desired.SetAnnotations(annotations)
	if err := controllerutil.SetControllerReference(owner, desired, c.Scheme()); err != nil {
		return zero, "", err
	}

	var read client.Reader = c
	if opts.Reader != nil {
		read = opts.Reader
	}
	existing := newLike(desired)
	err = read.Get(ctx, client.ObjectKeyFromObject(desired), existing)
	switch {
	case apierrors.IsNotFound(err):
		created := desired.DeepCopyObject().(T)
		err := c.Create(ctx, created)
		if err == nil {
			return created, Created, nil
		}
		if !apierrors.IsAlreadyExists(err) {
			return zero, "", fmt.Errorf("creating %s %s/%s: %w", gvk.Kind, desired.GetNamespace(), desired.GetName(), err)
		}
		// The cache has not seen it yet, or it is not ours (the cache only holds managed objects).
		existing = newLike(desired)
		if err := reader.Get(ctx, client.ObjectKeyFromObject(desired), existing); err != nil {
			return zero, "", fmt.Errorf("reading %s %s/%s: %w", gvk.Kind, desired.GetNamespace(), desired.GetName(), err)
		}
		if existing.GetLabels()[LabelManagedBy] == ManagedBy && metav1.IsControlledBy(existing, owner) {
			return zero, "", fmt.Errorf("%s %s/%s exists but is not in the cache yet; retrying", gvk.Kind, desired.GetNamespace(), desired.GetName())
		}
	case err != nil:
		return zero, "", fmt.Errorf("reading %s %s/%s: %w", gvk.Kind, desired.GetNamespace(), desired.GetName(), err)
	}

	if !metav1.IsControlledBy(existing, owner) {
		if ref := metav1.GetControllerOf(existing); ref != nil {
			return zero, "", &ConflictError{Kind: gvk.Kind, Namespace: existing.GetNamespace(), Name: existing.GetName(),
				Reason: fmt.Sprintf("is controlled by %s %s (uid %s)", ref.Kind, ref.Name, ref.UID)}
		}
		if opts.AdoptLabel == "" || existing.GetLabels()[opts.AdoptLabel] != owner.GetName() {
			return zero, "", &ConflictError{Kind: gvk.Kind, Namespace: existing.GetNamespace(), Name: existing.GetName(),
				Reason: "exists and is not managed by " + ManagedBy}
		}
	} else if existing.GetAnnotations()[AnnotationDesiredHash] == hash && existing.GetLabels()[LabelManagedBy] == ManagedBy {
		return existing, Unchanged, nil
	}

	updated := existing.DeepCopyObject().(T)
	merge(updated, desired)
	updated.SetLabels(desired.GetLabels())
	merged := updated.GetAnnotations()
	if merged == nil {
		merged = map[string]string{}
	}
	for k, v := range desired.GetAnnotations() {
		merged[k] = v
	}
	updated.SetAnnotations(merged)
	refs := []metav1.OwnerReference{}
	for _, ref := range updated.GetOwnerReferences() {
		if ref.Controller == nil || !*ref.Controller {
			refs = append(refs, ref)
		}
	}
	updated.SetOwnerReferences(append(refs, desired.GetOwnerReferences()...))
	if err := c.Update(ctx, updated); err != nil {
		return zero, "", fmt.Errorf("updating %s %s/%s: %w", gvk.Kind, desired.GetNamespace(), desired.GetName(), err)
	}
	return updated, Updated, nil
}

// DeleteIfOwned deletes the object named like obj when it exists and owner controls it; obj receives
// the stored object. It reports whether a delete was issued. Objects of others are left alone.
func DeleteIfOwned(ctx context.Context, c client.Client, owner client.Object, obj client.Object) (bool, error) {
	if err := c.Get(ctx, client.ObjectKeyFromObject(obj), obj); err != nil {
		return false, client.IgnoreNotFound(err)
	}
	if !metav1.IsControlledBy(obj, owner) || obj.GetDeletionTimestamp() != nil {
		return false, nil
	}
	uid := obj.GetUID()
	err := c.Delete(ctx, obj, client.Preconditions{UID: &uid}, client.PropagationPolicy(metav1.DeletePropagationBackground))
	if err != nil && !apierrors.IsNotFound(err) {
		return false, fmt.Errorf("deleting %s/%s: %w", obj.GetNamespace(), obj.GetName(), err)
	}
	return err == nil, nil
}

// newLike returns a new, empty object of obj's type. Reads go into empty objects: decoding into a filled
// one would merge stale map entries into the result.
func newLike[T client.Object](obj T) T {
	return reflect.New(reflect.TypeOf(obj).Elem()).Interface().(T)
}

// SetOwner makes owner the controller of obj (for objects created outside Ensure).
func SetOwner(owner, obj client.Object, scheme *runtime.Scheme) error {
	return controllerutil.SetControllerReference(owner, obj, scheme)
}
