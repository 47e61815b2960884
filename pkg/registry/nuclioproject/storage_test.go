// Copyright The nuclio-apiserver Authors.
// SPDX-License-Identifier: Apache-2.0

package nuclioproject_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	genericapirequest "k8s.io/apiserver/pkg/endpoints/request"
	genericregistrytest "k8s.io/apiserver/pkg/registry/generic/testing"
	"k8s.io/apiserver/pkg/registry/rest"

	"github.com/nuclio-apiserver/nuclio-apiserver/apis/nuclio"
	"github.com/nuclio-apiserver/nuclio-apiserver/apis/nuclio/v1beta1"
	"github.com/nuclio-apiserver/nuclio-apiserver/pkg/apiserver"
	"github.com/nuclio-apiserver/nuclio-apiserver/pkg/registry/nuclioproject"
	"github.com/nuclio-apiserver/nuclio-apiserver/pkg/registry/registrytest"
)

func validProject() *nuclio.NuclioProject {
	return &nuclio.NuclioProject{
		ObjectMeta: metav1.ObjectMeta{Name: "foo", Generation: 1, Labels: map[string]string{"team": "a"}},
		Spec:       nuclio.ProjectSpec{Description: "shop", Owner: "alice"},
	}
}

func TestProjectStorage(t *testing.T) {
	getter := registrytest.NewRESTOptionsGetter(t, apiserver.Codecs.LegacyCodec(v1beta1.SchemeGroupVersion), registrytest.EtcdOptions{})
	store, status, err := nuclioproject.NewStorage(apiserver.Scheme, getter)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(store.Destroy)

	invalid := validProject()
	invalid.Spec.DefaultFunctionNodeSelector = map[string]string{"bad key": "v"}
	t.Run("create", func(t *testing.T) {
		genericregistrytest.New(t, store.Store).Namer(namer("create")).TestCreate(validProject(), invalid)
	})
	t.Run("update", func(t *testing.T) {
		genericregistrytest.New(t, store.Store).TestUpdate(validProject(),
			func(obj runtime.Object) runtime.Object {
				obj.(*nuclio.NuclioProject).Spec.Owner = "bob"
				return obj
			},
			func(obj runtime.Object) runtime.Object {
				obj.(*nuclio.NuclioProject).Spec.DefaultFunctionNodeSelector = map[string]string{"k": "bad value!"}
				return obj
			})
	})
	t.Run("delete", func(t *testing.T) {
		genericregistrytest.New(t, store.Store).Namer(namer("delete")).TestDelete(validProject())
	})
	t.Run("get", func(t *testing.T) {
		genericregistrytest.New(t, store.Store).Namer(namer("get")).TestGet(validProject())
	})
	t.Run("list", func(t *testing.T) {
		genericregistrytest.New(t, store.Store).Namer(namer("list")).TestList(validProject())
	})
	t.Run("watch", func(t *testing.T) {
		genericregistrytest.New(t, store.Store).TestWatch(validProject(),
			[]labels.Set{{"team": "a"}}, []labels.Set{{"team": "b"}},
			[]fields.Set{{"metadata.name": "foo"}}, []fields.Set{{"metadata.name": "bar"}})
	})

	t.Run("status subresource", func(t *testing.T) {
		ctx := genericapirequest.WithNamespace(genericapirequest.NewContext(), "default")
		p := validProject()
		p.Name = "status"
		if _, err := store.Create(ctx, p, rest.ValidateAllObjectFunc, &metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		now := metav1.Unix(1700000000, 0)
		p.Status = nuclio.ProjectStatus{AdminStatus: "online", OperationalStatus: "online", UpdatedAt: &now, ObservedGeneration: 1}
		p.Spec.Owner = "mallory"
		out, _, err := status.Update(ctx, "status", rest.DefaultUpdatedObjectInfo(p), rest.ValidateAllObjectFunc, rest.ValidateAllObjectUpdateFunc, false, &metav1.UpdateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		got := out.(*nuclio.NuclioProject)
		if got.Spec.Owner != "alice" || got.Status.AdminStatus != "online" || !got.Status.UpdatedAt.Equal(&now) {
			t.Errorf("after status update: %+v", got)
		}
	})

	t.Run("table", func(t *testing.T) {
		table, err := store.ConvertToTable(context.Background(), validProject(), &metav1.TableOptions{})
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, c := range table.ColumnDefinitions {
			names = append(names, c.Name)
		}
		if diff := cmp.Diff([]string{"Name", "Description", "Owner", "Age"}, names); diff != "" {
			t.Errorf("columns (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff([]interface{}{"foo", "shop", "alice"}, table.Rows[0].Cells[:3]); diff != "" {
			t.Errorf("row (-want +got):\n%s", diff)
		}
	})
}

func namer(prefix string) func(int) string {
	return func(i int) string { return fmt.Sprintf("%s-%d", prefix, i) }
}
