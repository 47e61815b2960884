// Copyright The nuclio-apiserver Authors.
// SPDX-License-Identifier: Apache-2.0

package nucliofunctionevent_test

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	genericapirequest "k8s.io/apiserver/pkg/endpoints/request"
	"k8s.io/apiserver/pkg/registry/rest"

	"github.com/nuclio-apiserver/nuclio-apiserver/apis/nuclio"
	"github.com/nuclio-apiserver/nuclio-apiserver/apis/nuclio/v1beta1"
	"github.com/nuclio-apiserver/nuclio-apiserver/pkg/apiserver"
	"github.com/nuclio-apiserver/nuclio-apiserver/pkg/registry/nucliofunctionevent"
	"github.com/nuclio-apiserver/nuclio-apiserver/pkg/registry/registrytest"
)

// Function events have no status: the whole object is spec, so generation moves on any spec change.
func TestFunctionEventStorage(t *testing.T) {
	getter := registrytest.NewRESTOptionsGetter(t, apiserver.Codecs.LegacyCodec(v1beta1.SchemeGroupVersion), registrytest.EtcdOptions{})
	store, err := nucliofunctionevent.NewStorage(apiserver.Scheme, getter)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(store.Destroy)
	ctx := genericapirequest.WithNamespace(genericapirequest.NewContext(), "default")

	// The dashboard creates events with generated (UUID) names; displayName then defaults on read.
	in := &nuclio.NuclioFunctionEvent{
		ObjectMeta: metav1.ObjectMeta{GenerateName: "ev-", Labels: map[string]string{"nuclio.io/function-name": "f"}},
		Spec:       nuclio.FunctionEventSpec{TriggerKind: "http", Body: "hi"},
	}
	out, err := store.Create(ctx, in, rest.ValidateAllObjectFunc, &metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ev := out.(*nuclio.NuclioFunctionEvent)
	if ev.Generation != 1 || ev.Spec.DisplayName != ev.Name {
		t.Errorf("created: generation %d, displayName %q, name %q", ev.Generation, ev.Spec.DisplayName, ev.Name)
	}

	update := func(e *nuclio.NuclioFunctionEvent) (*nuclio.NuclioFunctionEvent, error) {
		out, _, err := store.Update(ctx, e.Name, rest.DefaultUpdatedObjectInfo(e), rest.ValidateAllObjectFunc, rest.ValidateAllObjectUpdateFunc, false, &metav1.UpdateOptions{})
		if err != nil {
			return nil, err
		}
		return out.(*nuclio.NuclioFunctionEvent), nil
	}
	ev.Labels["team"] = "a"
	if ev, err = update(ev); err != nil || ev.Generation != 1 {
		t.Fatalf("labels-only update: generation %v, err %v; want 1", ev, err)
	}
	ev.Spec.Body = "bye"
	if ev, err = update(ev); err != nil || ev.Generation != 2 {
		t.Fatalf("spec update: %v, err %v; want generation 2", ev, err)
	}

	table, err := store.ConvertToTable(context.Background(), ev, nil)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]interface{}{ev.Name, "f", ev.Name, "http"}, table.Rows[0].Cells[:4]); diff != "" {
		t.Errorf("row (-want +got):\n%s", diff)
	}

	delete(ev.Labels, "nuclio.io/function-name")
	if _, err := update(ev); !apierrors.IsInvalid(err) {
		t.Errorf("removing the function label: err = %v, want Invalid", err)
	}
}
