package webhook

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/nuclio-apiserver/nuclio-apiserver/pkg/masking"
)

// ManagedSecretSelector selects the Secrets the webhook owns. Give the manager's cache this selector for
// Secrets (cache.ByObject) so that the reconciler neither needs nor holds any other Secret.
var ManagedSecretSelector = labels.SelectorFromSet(labels.Set{masking.LabelManagedBy: masking.ManagedByValue})

// SecretReconciler keeps credentials Secrets tied to their objects. For each Secret the webhook owns:
//   - object exists: set a controller ownerReference to it (blockOwnerDeletion), so that garbage
//     collection deletes the Secret with the object; then, once SettlePeriod has passed since the
//     webhook's last write, remove keys the stored object no longer references;
//   - object missing and the Secret has an ownerReference: the object was deleted; delete the Secret
//     (garbage collection would too; this also covers clusters without it);
//   - object missing and no ownerReference: a create that was refused after the webhook ran; delete
//     the Secret once OrphanGracePeriod has passed since the webhook's last write.
//
// Every write is conditional (resourceVersion, and UID plus resourceVersion for deletes), so the
// reconciler is idempotent and safe to run in every replica; with --leader-elect only the leader runs it.
// Owner objects are read with an uncached, unstructured client, so the nuclio.io API need not be
// available when the webhook starts.
type SecretReconciler struct {
	// Client reads Secrets (from the manager's cache) and writes them.
	Client client.Client
	// APIReader reads nuclio.io objects directly from the API server.
	APIReader client.Reader
	// Config supplies SettlePeriod, OrphanGracePeriod and ResyncPeriod.
	Config Config
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
}

// SetupWithManager registers the reconciler with mgr, watching only Secrets the webhook owns.
func (r *SecretReconciler) SetupWithManager(mgr ctrl.Manager) error {
	managed, err := predicate.LabelSelectorPredicate(metav1.LabelSelector{MatchLabels: map[string]string{masking.LabelManagedBy: masking.ManagedByValue}})
	if err != nil {
		return err
	}
	return ctrl.NewControllerManagedBy(mgr).
		Named("nuclio-credentials-secret").
		For(&corev1.Secret{}, builder.WithPredicates(managed)).
		Complete(r)
}

func (r *SecretReconciler) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

// Reconcile implements reconcile.Reconciler for one Secret.
func (r *SecretReconciler) Reconcile(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	cfg := r.Config
	cfg.setDefaults()
	log := logf.FromContext(ctx)

	secret := &corev1.Secret{}
	if err := r.Client.Get(ctx, req.NamespacedName, secret); err != nil {
		return reconcile.Result{}, client.IgnoreNotFound(err)
	}
	kind, name, ok := ownerOf(secret)
	if !ok || secret.DeletionTimestamp != nil {
		return reconcile.Result{}, nil
	}
	owner := &unstructured.Unstructured{}
	owner.SetGroupVersionKind(GVKFor(kind))
	err := r.APIReader.Get(ctx, client.ObjectKey{Namespace: secret.Namespace, Name: name}, owner)
	if err != nil && !apierrors.IsNotFound(err) {
		return reconcile.Result{}, fmt.Errorf("reading %s %s/%s: %w", kind, secret.Namespace, name, err)
	}
	age := r.now().Sub(lastWritten(secret))

	if apierrors.IsNotFound(err) {
		if len(ownerRefsOfKind(secret, kind)) == 0 && age < cfg.OrphanGracePeriod.Duration {
			return reconcile.Result{RequeueAfter: cfg.OrphanGracePeriod.Duration - age}, nil
		}
		if err := r.Client.Delete(ctx, secret, client.Preconditions{UID: &secret.UID, ResourceVersion: &secret.ResourceVersion}); err != nil {
			return reconcile.Result{}, client.IgnoreNotFound(err)
		}
		secretActions.WithLabelValues("sweep").Inc()
		log.Info("deleted credentials Secret whose object does not exist", "secret", client.ObjectKeyFromObject(secret), "kind", kind, "object", name)
		return reconcile.Result{}, nil
	}

	if !hasControllerRef(secret, owner) {
		updated := secret.DeepCopy()
		refs := []metav1.OwnerReference{{
			APIVersion:         owner.GetAPIVersion(),
			Kind:               owner.GetKind(),
			Name:               owner.GetName(),
			UID:                owner.GetUID(),
			Controller:         ptr.To(true),
			BlockOwnerDeletion: ptr.To(true),
		}}
		for _, ref := range secret.OwnerReferences {
			if ref.Kind != owner.GetKind() || ref.APIVersion != owner.GetAPIVersion() {
				refs = append(refs, ref) // keep references to anything else
			}
		}
		updated.OwnerReferences = refs
		if err := r.Client.Update(ctx, updated); err != nil {
			return reconcile.Result{}, err
		}
		secretActions.WithLabelValues("adopt").Inc()
		log.V(1).Info("adopted credentials Secret", "secret", client.ObjectKeyFromObject(secret), "owner", owner.GetName(), "uid", owner.GetUID())
		return reconcile.Result{}, nil // the update event brings us back
	}

	if age < cfg.SettlePeriod.Duration {
		return reconcile.Result{RequeueAfter: cfg.SettlePeriod.Duration - age}, nil
	}
	stored, err := masking.DecodeSecretData(secret.Data)
	if err != nil {
		log.Error(err, "credentials Secret is not in Nuclio's format; leaving it alone", "secret", client.ObjectKeyFromObject(secret))
		return reconcile.Result{}, nil
	}
	used := masking.ReferencedTokens(owner.Object)
	kept := make(map[string]string, len(stored))
	for token, value := range stored {
		if used.Has(token) {
			kept[token] = value
		}
	}
	if len(kept) < len(stored) {
		data, err := masking.EncodeSecretData(kept)
		if err != nil {
			return reconcile.Result{}, err
		}
		updated := secret.DeepCopy()
		updated.Data = data
		if err := r.Client.Update(ctx, updated); err != nil {
			return reconcile.Result{}, err
		}
		secretActions.WithLabelValues("prune").Inc()
		log.V(1).Info("pruned unreferenced credentials", "secret", client.ObjectKeyFromObject(secret), "removed", len(stored)-len(kept))
	}
	return reconcile.Result{RequeueAfter: cfg.ResyncPeriod.Duration}, nil
}

// ownerOf reads which object a managed Secret belongs to from its labels and type.
func ownerOf(secret *corev1.Secret) (masking.ObjectKind, string, bool) {
	if secret.Labels[masking.LabelManagedBy] != masking.ManagedByValue {
		return "", "", false
	}
	for _, kind := range []masking.ObjectKind{masking.KindFunction, masking.KindAPIGateway} {
		if name := secret.Labels[masking.NameLabel(kind)]; name != "" && secret.Type == masking.SecretType(kind) {
			return kind, name, true
		}
	}
	return "", "", false
}

func ownerRefsOfKind(secret *corev1.Secret, kind masking.ObjectKind) []metav1.OwnerReference {
	var out []metav1.OwnerReference
	for _, ref := range secret.OwnerReferences {
		if ref.Kind == string(kind) {
			out = append(out, ref)
		}
	}
	return out
}

func hasControllerRef(secret *corev1.Secret, owner *unstructured.Unstructured) bool {
	for _, ref := range secret.OwnerReferences {
		if ref.UID == owner.GetUID() && ref.Controller != nil && *ref.Controller {
			return true
		}
	}
	return false
}

// lastWritten is when the webhook last wrote secret, falling back to its creation time.
func lastWritten(secret *corev1.Secret) time.Time {
	if t, err := time.Parse(time.RFC3339, secret.Annotations[AnnotationCredentialsUpdated]); err == nil {
		return t
	}
	return secret.CreationTimestamp.Time
}
