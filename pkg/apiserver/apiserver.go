// Copyright The nuclio-apiserver Authors.
// SPDX-License-Identifier: Apache-2.0

// Package apiserver assembles the nuclio.io aggregated API server: the scheme, the REST storage of
// every kind and subresource, and the generic server that serves them (Config → Complete → New, the
// k8s.io/apiserver pattern).
package apiserver

import (
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/apiserver/pkg/registry/generic"
	"k8s.io/apiserver/pkg/registry/rest"
	genericapiserver "k8s.io/apiserver/pkg/server"
	"k8s.io/client-go/kubernetes"
	restclient "k8s.io/client-go/rest"
	scalescheme "k8s.io/client-go/scale/scheme"
	scaleautoscalingv1 "k8s.io/client-go/scale/scheme/autoscalingv1"

	"github.com/nuclio-apiserver/nuclio-apiserver/apis/nuclio"
	"github.com/nuclio-apiserver/nuclio-apiserver/apis/nuclio/install"
	"github.com/nuclio-apiserver/nuclio-apiserver/apis/nuclio/v1beta1"
	"github.com/nuclio-apiserver/nuclio-apiserver/pkg/registry/nuclioapigateway"
	"github.com/nuclio-apiserver/nuclio-apiserver/pkg/registry/nucliofunction"
	"github.com/nuclio-apiserver/nuclio-apiserver/pkg/registry/nucliofunctionevent"
	"github.com/nuclio-apiserver/nuclio-apiserver/pkg/registry/nuclioproject"
)

var (
	// Scheme knows nuclio.io (internal and v1beta1), the autoscaling Scale of the scale subresource, and
	// the meta types every API server serves.
	Scheme = runtime.NewScheme()
	// Codecs encodes and decodes with Scheme.
	Codecs = serializer.NewCodecFactory(Scheme)
)

func init() {
	install.Install(Scheme)
	// The scale subresource stores an internal Scale and speaks autoscaling/v1 (the pair
	// client-go's scale converter and apiextensions-apiserver use).
	utilruntime.Must(scalescheme.AddToScheme(Scheme))
	utilruntime.Must(scaleautoscalingv1.AddToScheme(Scheme))

	// Unversioned meta types, as every API server registers them.
	metav1.AddToGroupVersion(Scheme, schema.GroupVersion{Version: "v1"})
	unversioned := schema.GroupVersion{Group: "", Version: "v1"}
	Scheme.AddUnversionedTypes(unversioned,
		&metav1.Status{},
		&metav1.APIVersions{},
		&metav1.APIGroupList{},
		&metav1.APIGroup{},
		&metav1.APIResourceList{},
	)
}

// Config is the configuration of the nuclio.io server: the generic server's recommended config.
type Config struct {
	GenericConfig *genericapiserver.RecommendedConfig
}

// CompletedConfig is a Config with defaults filled in; New builds a server from it.
type CompletedConfig struct {
	generic genericapiserver.CompletedConfig
	// kubeConfig reaches the cluster's core API (--kubeconfig or in-cluster).
	kubeConfig *restclient.Config
}

// Complete fills in defaults of the generic config.
func (c *Config) Complete() CompletedConfig {
	return CompletedConfig{generic: c.GenericConfig.Complete(), kubeConfig: c.GenericConfig.ClientConfig}
}

// Server is a running-ready nuclio.io API server.
type Server struct {
	GenericAPIServer *genericapiserver.GenericAPIServer
}

// New builds the server and installs the nuclio.io API group with its storage:
// nucliofunctions (+status, scale), nuclioprojects (+status), nucliofunctionevents,
// nuclioapigateways (+status).
func (c CompletedConfig) New() (*Server, error) {
	gs, err := c.generic.New("nuclio-apiserver", genericapiserver.NewEmptyDelegate())
	if err != nil {
		return nil, err
	}

	kube, err := kubernetes.NewForConfig(c.kubeConfig)
	if err != nil {
		return nil, fmt.Errorf("core API client: %w", err)
	}
	storage, err := NewStorage(c.generic.RESTOptionsGetter, kube)
	if err != nil {
		return nil, err
	}
	info := genericapiserver.NewDefaultAPIGroupInfo(nuclio.GroupName, Scheme, runtime.NewParameterCodec(Scheme), Codecs)
	info.NegotiatedSerializer = withoutProtobuf{Codecs}
	info.VersionedResourcesStorageMap[v1beta1.SchemeGroupVersion.Version] = storage
	if err := gs.InstallAPIGroup(&info); err != nil {
		return nil, err
	}
	return &Server{GenericAPIServer: gs}, nil
}

// NewStorage returns the REST storage of every nuclio.io resource and subresource, keyed by
// "<resource>[/<subresource>]" as genericapiserver.APIGroupInfo expects.
// kube reaches the core API (function Services and pods, for invoke and log).
func NewStorage(optsGetter generic.RESTOptionsGetter, kube kubernetes.Interface) (map[string]rest.Storage, error) {
	fn, err := nucliofunction.NewStorage(Scheme, optsGetter, kube)
	if err != nil {
		return nil, err
	}
	project, projectStatus, err := nuclioproject.NewStorage(Scheme, optsGetter)
	if err != nil {
		return nil, err
	}
	event, err := nucliofunctionevent.NewStorage(Scheme, optsGetter)
	if err != nil {
		return nil, err
	}
	gateway, gatewayStatus, err := nuclioapigateway.NewStorage(Scheme, optsGetter)
	if err != nil {
		return nil, err
	}
	return map[string]rest.Storage{
		"nucliofunctions":          fn.Function,
		"nucliofunctions/status":   fn.Status,
		"nucliofunctions/scale":    fn.Scale,
		"nucliofunctions/invoke":   fn.Invoke,
		"nucliofunctions/log":      fn.Log,
		"nuclioprojects":           project,
		"nuclioprojects/status":    projectStatus,
		"nucliofunctionevents":     event,
		"nuclioapigateways":        gateway,
		"nuclioapigateways/status": gatewayStatus,
	}, nil
}

// withoutProtobuf hides protobuf from content negotiation. The nuclio.io types have no generated
// protobuf marshalling, yet a plain CodecFactory advertises protobuf for every type: a client that
// prefers it (kube-controller-manager's namespace and garbage collectors do, for deletecollection) would
// get an encoding error instead of falling back to JSON. Meta types still negotiate protobuf elsewhere.
type withoutProtobuf struct {
	runtime.NegotiatedSerializer
}

// SupportedMediaTypes lists JSON, YAML and CBOR only.
func (s withoutProtobuf) SupportedMediaTypes() []runtime.SerializerInfo {
	var out []runtime.SerializerInfo
	for _, info := range s.NegotiatedSerializer.SupportedMediaTypes() {
		if info.MediaType != runtime.ContentTypeProtobuf {
			out = append(out, info)
		}
	}
	return out
}
