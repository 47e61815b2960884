// Copyright The nuclio-apiserver Authors.
// SPDX-License-Identifier: Apache-2.0

package registry

import (
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apiserver/pkg/registry/generic"
	genericregistry "k8s.io/apiserver/pkg/registry/generic/registry"
	"k8s.io/apiserver/pkg/registry/rest"
	"k8s.io/apiserver/pkg/storage"

	"github.com/nuclio-apiserver/nuclio-apiserver/apis/nuclio"
)

// Category is the kubectl category of every nuclio.io kind (`kubectl get nuclio`).
const Category = "nuclio"

// StoreSpec describes the etcd store of one kind.
type StoreSpec[T Object] struct {
	// New and NewList return empty internal objects of the kind and its list.
	New, NewList func() runtime.Object
	// Plural and Singular are the resource names, e.g. nucliofunctions and nucliofunction.
	Plural, Singular string
	// ShortNames are kubectl's aliases, e.g. nfn.
	ShortNames []string
	// GetAttrs returns the labels and selectable fields of an object.
	GetAttrs storage.AttrFunc
	// Table prints objects for kubectl get.
	Table rest.TableConvertor
}

// REST is the main endpoint of a kind: the generic etcd store plus kubectl's short names and the
// nuclio category.
type REST struct {
	*genericregistry.Store
	shortNames []string
}

var (
	_ rest.ShortNamesProvider = &REST{}
	_ rest.CategoriesProvider = &REST{}
)

// ShortNames are the kind's kubectl aliases.
func (r *REST) ShortNames() []string { return r.shortNames }

// Categories puts the kind in `kubectl get nuclio`.
func (r *REST) Categories() []string { return []string{Category} }

// NewREST builds and completes the store of a kind with its strategy (create, update, delete and, for
// kinds with status, the server-side-apply reset fields). Errors come from storage configuration.
func NewREST[T Object](spec StoreSpec[T], strategy *Strategy[T], optsGetter generic.RESTOptionsGetter) (*REST, error) {
	store := &genericregistry.Store{
		NewFunc:     spec.New,
		NewListFunc: spec.NewList,
		PredicateFunc: func(label labels.Selector, field fields.Selector) storage.SelectionPredicate {
			return storage.SelectionPredicate{Label: label, Field: field, GetAttrs: spec.GetAttrs}
		},
		DefaultQualifiedResource:  nuclio.Resource(spec.Plural),
		SingularQualifiedResource: nuclio.Resource(spec.Singular),

		CreateStrategy:      strategy,
		UpdateStrategy:      strategy,
		DeleteStrategy:      strategy,
		ResetFieldsStrategy: strategy,

		TableConvertor: spec.Table,
	}
	if err := store.CompleteWithOptions(&generic.StoreOptions{RESTOptions: optsGetter, AttrFunc: spec.GetAttrs}); err != nil {
		return nil, err
	}
	return &REST{Store: store, shortNames: spec.ShortNames}, nil
}
