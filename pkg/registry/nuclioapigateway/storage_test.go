// Copyright The nuclio-apiserver Authors.
// SPDX-License-Identifier: Apache-2.0

package nuclioapigateway_test

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metainternalversion "k8s.io/apimachinery/pkg/apis/meta/internalversion"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	genericapirequest "k8s.io/apiserver/pkg/endpoints/request"
	"k8s.io/apiserver/pkg/registry/rest"

	"github.com/nuclio-apiserver/nuclio-apiserver/apis/nuclio"
	"github.com/nuclio-apiserver/nuclio-apiserver/apis/nuclio/v1beta1"
	"github.com/nuclio-apiserver/nuclio-apiserver/pkg/apiserver"
	"github.com/nuclio-apiserver/nuclio-apiserver/pkg/registry/nuclioapigateway"
	"github.com/nuclio-apiserver/nuclio-apiserver/pkg/registry/registrytest"
)

func gateway(name string, functions ...string) *nuclio.NuclioAPIGateway {
	g := &nuclio.NuclioAPIGateway{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{"nuclio.io/project-name": "default"}},
		Spec:       nuclio.APIGatewaySpec{Name: name, Host: "gw.example.com", Path: "/"},
	}
	for i, fn := range functions {
		u := nuclio.APIGatewayUpstreamSpec{Kind: "nucliofunction", NuclioFunction: &nuclio.NuclioFunctionAPIGatewaySpec{Name: fn}}
		if i == 1 {
			u.Percentage = 20
		}
		g.Spec.Upstreams = append(g.Spec.Upstreams, u)
	}
	return g
}

func TestGatewayStorage(t *testing.T) {
	getter := registrytest.NewRESTOptionsGetter(t, apiserver.Codecs.LegacyCodec(v1beta1.SchemeGroupVersion), registrytest.EtcdOptions{})
	store, status, err := nuclioapigateway.NewStorage(apiserver.Scheme, getter)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(store.Destroy)
	ctx := genericapirequest.WithNamespace(genericapirequest.NewContext(), "default")
	update := func(r rest.Updater, obj *nuclio.NuclioAPIGateway) (*nuclio.NuclioAPIGateway, error) {
		out, _, err := r.Update(ctx, obj.Name, rest.DefaultUpdatedObjectInfo(obj), rest.ValidateAllObjectFunc, rest.ValidateAllObjectUpdateFunc, false, &metav1.UpdateOptions{})
		if err != nil {
			return nil, err
		}
		return out.(*nuclio.NuclioAPIGateway), nil
	}

	t.Run("generateName", func(t *testing.T) {
		// Decoding defaults spec.name from metadata.name, but a generated name only exists after that.
		g := gateway("", "f")
		g.GenerateName, g.Spec.Name = "gw-", ""
		out, err := store.Create(ctx, g, rest.ValidateAllObjectFunc, &metav1.CreateOptions{})
		if err != nil {
			t.Fatalf("create with generateName: %v", err)
		}
		created := out.(*nuclio.NuclioAPIGateway)
		if created.Name == "" || created.Spec.Name != created.Name {
			t.Errorf("name %q, spec.name %q: want a generated name in both", created.Name, created.Spec.Name)
		}
	})

	t.Run("status subresource and generation", func(t *testing.T) {
		in := gateway("shop", "f", "f2")
		in.Status.State = "ready" // cleared on create
		out, err := store.Create(ctx, in, rest.ValidateAllObjectFunc, &metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		g := out.(*nuclio.NuclioAPIGateway)
		if g.Status.State != "" || g.Generation != 1 {
			t.Fatalf("created: state %q generation %d", g.Status.State, g.Generation)
		}

		g.Status = nuclio.APIGatewayStatus{Name: "shop", State: "error", LastError: "host taken"}
		g.Spec.Host = "sneaky.example.com"
		g, err = update(status, g)
		if err != nil {
			t.Fatal(err)
		}
		if g.Status.LastError != "host taken" || g.Spec.Host != "gw.example.com" || g.Generation != 1 {
			t.Errorf("after status update: %+v", g)
		}
		bad := g.DeepCopy()
		bad.Status.State = "provisioning"
		if _, err := update(status, bad); !apierrors.IsInvalid(err) {
			t.Errorf("unknown state: err = %v, want Invalid", err)
		}

		g.Spec.Path = "/v2"
		g.Status.State = ""
		g, err = update(store, g)
		if err != nil {
			t.Fatal(err)
		}
		if g.Generation != 2 || g.Status.State != "error" {
			t.Errorf("after spec update: generation %d state %q, want 2 and the stored error", g.Generation, g.Status.State)
		}

		moved := g.DeepCopy()
		moved.Labels["nuclio.io/project-name"] = "other"
		if _, err := update(store, moved); !apierrors.IsInvalid(err) {
			t.Errorf("project change: err = %v, want Invalid", err)
		}
	})

	t.Run("field selector and table", func(t *testing.T) {
		list, err := store.List(ctx, &metainternalversion.ListOptions{FieldSelector: fields.ParseSelectorOrDie("status.state=error")})
		if err != nil {
			t.Fatal(err)
		}
		items := list.(*nuclio.NuclioAPIGatewayList).Items
		if len(items) != 1 || items[0].Name != "shop" {
			t.Fatalf("status.state=error selected %d gateways", len(items))
		}
		table, err := store.ConvertToTable(context.Background(), list, nil)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, c := range table.ColumnDefinitions {
			names = append(names, c.Name)
		}
		if diff := cmp.Diff([]string{"Name", "Host", "Path", "Functions", "State", "Age"}, names); diff != "" {
			t.Errorf("columns (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff([]interface{}{"shop", "gw.example.com", "/v2", "f,f2(20%)", "error"}, table.Rows[0].Cells[:5]); diff != "" {
			t.Errorf("row (-want +got):\n%s", diff)
		}
		if table.ResourceVersion == "" {
			t.Error("table has no resourceVersion")
		}
	})

	if diff := cmp.Diff([]string{"nagw"}, store.ShortNames()); diff != "" {
		t.Errorf("short names: %s", diff)
	}
	if diff := cmp.Diff([]string{"nuclio"}, store.Categories()); diff != "" {
		t.Errorf("categories: %s", diff)
	}
}
