// Copyright The nuclio-apiserver Authors.
// SPDX-License-Identifier: Apache-2.0

package nucliofunction

import (
	"context"
	"fmt"

	autoscalingv1 "k8s.io/api/autoscaling/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/managedfields"
	"k8s.io/apimachinery/pkg/util/validation/field"
	genericapirequest "k8s.io/apiserver/pkg/endpoints/request"
	"k8s.io/apiserver/pkg/registry/generic"
	genericregistry "k8s.io/apiserver/pkg/registry/generic/registry"
	"k8s.io/apiserver/pkg/registry/rest"
	"k8s.io/client-go/kubernetes"
	scalescheme "k8s.io/client-go/scale/scheme"
	"sigs.k8s.io/structured-merge-diff/v6/fieldpath"

	"github.com/nuclio-apiserver/nuclio-apiserver/apis/nuclio"
	"github.com/nuclio-apiserver/nuclio-apiserver/apis/nuclio/v1beta1"
	"github.com/nuclio-apiserver/nuclio-apiserver/pkg/registry"
)

// Storage is every REST endpoint of nucliofunctions, keyed as the API group's storage map expects.
type Storage struct {
	Function *registry.REST
	Status   *registry.StatusREST
	Scale    *ScaleREST
	Invoke   *InvokeREST
	Log      *LogREST
}

// NewStorage builds the etcd-backed stores of nucliofunctions (short name nfn) and its status and scale
// subresources, and the invoke and log subresources, which reach the function's Service and pods through
// kube (the core API of the cluster). typer is the server's scheme; optsGetter supplies storage (etcd,
// watch cache, encryption) options.
func NewStorage(typer runtime.ObjectTyper, optsGetter generic.RESTOptionsGetter, kube kubernetes.Interface) (*Storage, error) {
	strategy := NewStrategy(typer)
	main, err := registry.NewREST(registry.StoreSpec[*nuclio.NuclioFunction]{
		New:        func() runtime.Object { return &nuclio.NuclioFunction{} },
		NewList:    func() runtime.Object { return &nuclio.NuclioFunctionList{} },
		Plural:     "nucliofunctions",
		Singular:   "nucliofunction",
		ShortNames: []string{"nfn"},
		GetAttrs:   GetAttrs,
		Table:      tableConvertor,
	}, strategy, optsGetter)
	if err != nil {
		return nil, err
	}
	return &Storage{
		Function: main,
		Status:   registry.NewStatusREST(main.Store, registry.NewStatusStrategy(strategy)),
		Scale:    &ScaleREST{store: main.Store},
		Invoke:   NewInvokeREST(main.Store, kube),
		Log:      NewLogREST(main.Store, kube),
	}, nil
}

// ScaleREST is the nucliofunctions/scale endpoint: autoscaling/v1 Scale over spec.replicas, so that
// `kubectl scale nucliofunction` and HorizontalPodAutoscalers work.
type ScaleREST struct {
	store *genericregistry.Store
}

var (
	_ rest.Patcher                  = &ScaleREST{}
	_ rest.GroupVersionKindProvider = &ScaleREST{}
	_ rest.TableConvertor           = &ScaleREST{}

	// replicasPath maps spec.replicas of each served version to the Scale's, for field ownership.
	replicasPath        = managedfields.ResourcePathMappings{v1beta1.SchemeGroupVersion.String(): fieldpath.MakePathOrDie("spec", "replicas")}
	scaleTableConvertor = rest.NewDefaultTableConvertor(nuclio.Resource("nucliofunctions/scale"))
)

// GroupVersionKind says the subresource speaks autoscaling/v1 Scale whatever version the parent is.
func (*ScaleREST) GroupVersionKind(schema.GroupVersion) schema.GroupVersionKind {
	return autoscalingv1.SchemeGroupVersion.WithKind("Scale")
}

// New returns an empty (internal) Scale.
func (*ScaleREST) New() runtime.Object { return &scalescheme.Scale{} }

// Destroy does nothing: the store belongs to the main resource.
func (*ScaleREST) Destroy() {}

// GetResetFields is empty: a Scale has no status that a scale write could reset.
func (*ScaleREST) GetResetFields() map[fieldpath.APIVersion]*fieldpath.Set { return nil }

// ConvertToTable prints a Scale with the default columns.
func (*ScaleREST) ConvertToTable(ctx context.Context, object runtime.Object, tableOptions runtime.Object) (*metav1.Table, error) {
	return scaleTableConvertor.ConvertToTable(ctx, object, tableOptions)
}

// Get returns the function's Scale.
func (r *ScaleREST) Get(ctx context.Context, name string, options *metav1.GetOptions) (runtime.Object, error) {
	obj, err := r.store.Get(ctx, name, options)
	if err != nil {
		return nil, err
	}
	return ScaleFromFunction(obj.(*nuclio.NuclioFunction)), nil
}

// Update sets spec.replicas from a Scale. Admission sees the Scale, as for built-in scale subresources.
func (r *ScaleREST) Update(ctx context.Context, name string, objInfo rest.UpdatedObjectInfo, createValidation rest.ValidateObjectFunc, updateValidation rest.ValidateObjectUpdateFunc, _ bool, options *metav1.UpdateOptions) (runtime.Object, bool, error) {
	obj, _, err := r.store.Update(ctx, name,
		&scaleUpdatedObjectInfo{name: name, reqObjInfo: objInfo},
		toScaleCreateValidation(createValidation),
		toScaleUpdateValidation(updateValidation),
		false, options)
	if err != nil {
		return nil, false, err
	}
	return ScaleFromFunction(obj.(*nuclio.NuclioFunction)), false, nil
}

func toScaleCreateValidation(f rest.ValidateObjectFunc) rest.ValidateObjectFunc {
	return func(ctx context.Context, obj runtime.Object) error {
		return f(ctx, ScaleFromFunction(obj.(*nuclio.NuclioFunction)))
	}
}

func toScaleUpdateValidation(f rest.ValidateObjectUpdateFunc) rest.ValidateObjectUpdateFunc {
	return func(ctx context.Context, obj, old runtime.Object) error {
		return f(ctx, ScaleFromFunction(obj.(*nuclio.NuclioFunction)), ScaleFromFunction(old.(*nuclio.NuclioFunction)))
	}
}

// ScaleFromFunction maps a function to its Scale: spec.replicas (or, when the function autoscales
// between min and max, the current status.replicas), status.replicas, and the processor pods' selector.
func ScaleFromFunction(fn *nuclio.NuclioFunction) *scalescheme.Scale {
	desired := fn.Status.Replicas
	if fn.Spec.Replicas != nil {
		desired = *fn.Spec.Replicas
	}
	return &scalescheme.Scale{
		ObjectMeta: metav1.ObjectMeta{
			Name:              fn.Name,
			Namespace:         fn.Namespace,
			UID:               fn.UID,
			ResourceVersion:   fn.ResourceVersion,
			CreationTimestamp: fn.CreationTimestamp,
		},
		Spec: scalescheme.ScaleSpec{Replicas: desired},
		Status: scalescheme.ScaleStatus{
			Replicas: fn.Status.Replicas,
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{v1beta1.LabelFunctionName: fn.Name}},
		},
	}
}

// scaleUpdatedObjectInfo turns the client's Scale into an updated function.
type scaleUpdatedObjectInfo struct {
	name       string
	reqObjInfo rest.UpdatedObjectInfo
}

func (i *scaleUpdatedObjectInfo) Preconditions() *metav1.Preconditions {
	return i.reqObjInfo.Preconditions()
}

func (i *scaleUpdatedObjectInfo) UpdatedObject(ctx context.Context, oldObj runtime.Object) (runtime.Object, error) {
	fn := oldObj.DeepCopyObject().(*nuclio.NuclioFunction)

	// Field ownership of spec.replicas moves between the Scale and the function (server-side apply).
	groupVersion := v1beta1.SchemeGroupVersion
	if info, ok := genericapirequest.RequestInfoFrom(ctx); ok {
		if gv := (schema.GroupVersion{Group: info.APIGroup, Version: info.APIVersion}); replicasPath[gv.String()] != nil {
			groupVersion = gv
		}
	}
	managed := managedfields.NewScaleHandler(fn.ManagedFields, groupVersion, replicasPath)

	oldScale := ScaleFromFunction(fn)
	var err error
	if oldScale.ManagedFields, err = managed.ToSubresource(); err != nil {
		return nil, err
	}
	obj, err := i.reqObjInfo.UpdatedObject(ctx, oldScale)
	if err != nil {
		return nil, err
	}
	if obj == nil {
		return nil, apierrors.NewBadRequest("nil update passed to Scale")
	}
	scale, ok := obj.(*scalescheme.Scale)
	if !ok {
		return nil, apierrors.NewBadRequest(fmt.Sprintf("expected a Scale, got %T", obj))
	}
	if scale.Spec.Replicas < 0 {
		return nil, apierrors.NewInvalid(schema.GroupKind{Group: autoscalingv1.GroupName, Kind: "Scale"}, i.name, field.ErrorList{
			field.Invalid(field.NewPath("spec", "replicas"), scale.Spec.Replicas, "must be greater than or equal to 0"),
		})
	}
	if scale.Name != "" && scale.Name != i.name {
		return nil, apierrors.NewBadRequest(fmt.Sprintf("the Scale's name %q does not match the function %q", scale.Name, i.name))
	}

	replicas := scale.Spec.Replicas
	fn.Spec.Replicas = &replicas
	// A Scale carrying a resourceVersion is an optimistic-concurrency precondition on the function.
	if scale.ResourceVersion != "" {
		fn.ResourceVersion = scale.ResourceVersion
	}
	if fn.ManagedFields, err = managed.ToParent(scale.ManagedFields); err != nil {
		return nil, err
	}
	return fn, nil
}
