package webhook

import (
	"context"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/nuclio-apiserver/nuclio-apiserver/pkg/masking"
)

var written = time.Date(2026, 1, 2, 3, 0, 0, 0, time.UTC)

func managedSecret(t testing.TB, values map[string]string, refs ...metav1.OwnerReference) *corev1.Secret {
	t.Helper()
	s, err := masking.NewSecret(masking.KindFunction, "team-a", "orders", "shop", values)
	if err != nil {
		t.Fatal(err)
	}
	s.Annotations = map[string]string{AnnotationCredentialsUpdated: written.Format(time.RFC3339)}
	s.OwnerReferences = refs
	return s
}

func liveFunction(uid types.UID, tokens ...string) *unstructured.Unstructured {
	triggers := map[string]interface{}{}
	for i, tok := range tokens {
		triggers[string(rune('a'+i))] = map[string]interface{}{"password": tok}
	}
	u := &unstructured.Unstructured{Object: map[string]interface{}{
		"apiVersion": "nuclio.io/v1beta1", "kind": "NuclioFunction",
		"metadata": map[string]interface{}{"name": "orders", "namespace": "team-a", "uid": string(uid)},
		"spec":     map[string]interface{}{"triggers": triggers},
	}}
	return u
}

func reconcileAt(t testing.TB, c client.Client, at time.Time) reconcile.Result {
	t.Helper()
	cfg := DefaultConfig()
	r := &SecretReconciler{Client: c, APIReader: c, Config: cfg, Now: func() time.Time { return at }}
	res, err := r.Reconcile(context.Background(), reconcile.Request{NamespacedName: types.NamespacedName{Namespace: "team-a", Name: "nuclio-orders-credentials"}})
	if err != nil {
		t.Fatalf("Reconcile: %v", err)
	}
	return res
}

func TestReconcilerAdoptsThenPrunes(t *testing.T) {
	values := map[string]string{"$ref:/spec/triggers/a/password": "keep", "$ref:/spec/triggers/gone/password": "drop"}
	c := newFakeClient(t, managedSecret(t, values), liveFunction("uid-1", "$ref:/spec/triggers/a/password"))

	reconcileAt(t, c, written.Add(time.Second))
	secret, got := getSecret(t, c, "nuclio-orders-credentials")
	if len(secret.OwnerReferences) != 1 {
		t.Fatalf("ownerReferences: %v", secret.OwnerReferences)
	}
	ref := secret.OwnerReferences[0]
	if ref.UID != "uid-1" || ref.Kind != "NuclioFunction" || ref.APIVersion != "nuclio.io/v1beta1" || ref.Name != "orders" ||
		ref.Controller == nil || !*ref.Controller || ref.BlockOwnerDeletion == nil || !*ref.BlockOwnerDeletion {
		t.Fatalf("ownerReference %+v", ref)
	}
	if len(got) != 2 {
		t.Fatal("adoption must not change the data")
	}

	// Within SettlePeriod of the webhook's last write nothing is pruned: a request may be in flight.
	if res := reconcileAt(t, c, written.Add(10*time.Second)); res.RequeueAfter != DefaultSettlePeriod-10*time.Second {
		t.Fatalf("requeue after %v", res.RequeueAfter)
	}
	if _, got := getSecret(t, c, "nuclio-orders-credentials"); len(got) != 2 {
		t.Fatal("pruned before SettlePeriod")
	}

	if res := reconcileAt(t, c, written.Add(DefaultSettlePeriod)); res.RequeueAfter != DefaultResyncPeriod {
		t.Fatalf("requeue after %v", res.RequeueAfter)
	}
	secret, got = getSecret(t, c, "nuclio-orders-credentials")
	if len(got) != 1 || got["$ref:/spec/triggers/a/password"] != "keep" {
		t.Fatalf("after pruning: %d values", len(got))
	}
	if _, err := masking.DecodeSecretData(secret.Data); err != nil || len(secret.Data) != 2 {
		t.Fatalf("pruned Secret keys must match content: %d keys, %v", len(secret.Data), err)
	}
}

func TestReconcilerRepointsToNewIncarnation(t *testing.T) {
	old := metav1.OwnerReference{APIVersion: "nuclio.io/v1beta1", Kind: "NuclioFunction", Name: "orders", UID: "uid-old"}
	c := newFakeClient(t, managedSecret(t, nil, old), liveFunction("uid-new"))
	reconcileAt(t, c, written.Add(time.Second))
	secret, _ := getSecret(t, c, "nuclio-orders-credentials")
	if len(secret.OwnerReferences) != 1 || secret.OwnerReferences[0].UID != "uid-new" {
		t.Fatalf("ownerReferences %v", secret.OwnerReferences)
	}
}

func TestReconcilerSweepsOrphans(t *testing.T) {
	t.Run("never created: kept during the grace period", func(t *testing.T) {
		c := newFakeClient(t, managedSecret(t, map[string]string{"$ref:/x": "v"}))
		if res := reconcileAt(t, c, written.Add(time.Minute)); res.RequeueAfter != DefaultOrphanGracePeriod-time.Minute {
			t.Fatalf("requeue after %v", res.RequeueAfter)
		}
		getSecret(t, c, "nuclio-orders-credentials")
		reconcileAt(t, c, written.Add(DefaultOrphanGracePeriod))
		assertGone(t, c)
	})
	t.Run("owner deleted: removed at once", func(t *testing.T) {
		ref := metav1.OwnerReference{APIVersion: "nuclio.io/v1beta1", Kind: "NuclioFunction", Name: "orders", UID: "uid-1"}
		c := newFakeClient(t, managedSecret(t, map[string]string{"$ref:/x": "v"}, ref))
		reconcileAt(t, c, written.Add(time.Second))
		assertGone(t, c)
	})
	t.Run("not ours: ignored", func(t *testing.T) {
		foreign := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "team-a", Name: "nuclio-orders-credentials",
			Labels: map[string]string{masking.LabelFunctionName: "orders"}}, Type: masking.FunctionSecretType}
		c := newFakeClient(t, foreign)
		reconcileAt(t, c, written.Add(24*time.Hour))
		if err := c.Get(context.Background(), client.ObjectKeyFromObject(foreign), &corev1.Secret{}); err != nil {
			t.Fatalf("a Secret without the managed-by label was touched: %v", err)
		}
	})
}

func assertGone(t testing.TB, c client.Client) {
	t.Helper()
	err := c.Get(context.Background(), client.ObjectKey{Namespace: "team-a", Name: "nuclio-orders-credentials"}, &corev1.Secret{})
	if !apierrors.IsNotFound(err) {
		t.Fatalf("Secret still there: %v", err)
	}
}

func TestLoadConfig(t *testing.T) {
	cfg, err := LoadConfig([]byte("extraSensitivePaths: ['^/spec/env\\[\\d+\\]/value$']\nallowOptOut: true\nsettlePeriod: 5s\n"))
	if err != nil {
		t.Fatal(err)
	}
	if !cfg.AllowOptOut || cfg.SettlePeriod.Duration != 5*time.Second || cfg.OrphanGracePeriod.Duration != DefaultOrphanGracePeriod ||
		cfg.ResyncPeriod.Duration != DefaultResyncPeriod || len(cfg.ExtraSensitivePaths) != 1 {
		t.Fatalf("got %+v", cfg)
	}
	for input, want := range map[string]string{
		"allowOptout: true":                   "unknown field",
		"extraSensitivePaths: ['(']":          "extraSensitivePaths",
		"extraAPIGatewaySensitivePaths: ['']": "must not be empty",
		"orphanGracePeriod: -1m":              "orphanGracePeriod: must not be negative",
		"settlePeriod: soon":                  "settlePeriod",
	} {
		if _, err := LoadConfig([]byte(input)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("LoadConfig(%q) = %v, want an error containing %q", input, err, want)
		}
	}
	m, err := NewMutator(newFakeClient(t), newFakeClient(t), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if !m.rules[masking.KindFunction].ShouldMask("/spec/env[0]/value", "v") {
		t.Error("extra path not applied")
	}
}
