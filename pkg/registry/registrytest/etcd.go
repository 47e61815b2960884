// Copyright The nuclio-apiserver Authors.
// SPDX-License-Identifier: Apache-2.0

// Package registrytest runs the registries' storage tests against a real, in-process etcd.
package registrytest

import (
	"net"
	"net/url"
	"testing"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apiserver/pkg/registry/generic"
	etcd3testing "k8s.io/apiserver/pkg/storage/etcd3/testing"
	"k8s.io/apiserver/pkg/storage/etcd3/testserver"
	"k8s.io/apiserver/pkg/storage/storagebackend"
)

// EtcdOptions tunes the test etcd.
type EtcdOptions struct {
	// MaxRequestBytes is etcd's --max-request-bytes; 0 keeps etcd's default (1.5 MiB).
	MaxRequestBytes uint
}

// NewRESTOptionsGetter starts an etcd for the test (stopped by t.Cleanup) and returns REST options that
// store objects with codec under /registry/<group>/<resource>, as the server's storage factory does, but
// without a watch cache, so every read and watch goes to etcd.
//
// It is etcd3testing.NewUnsecuredEtcd3TestClientServer with two changes. Its listeners use 127.0.0.1
// instead of "localhost": tests may only dial 127.0.0.0/8, and localhost can resolve to ::1. And it can
// lower --max-request-bytes, so that the object-size test needs a 128 KiB object instead of a 2 MiB one.
// (testserver.NewTestConfig picks the two free ports by briefly listening on :0; nothing is dialled.)
func NewRESTOptionsGetter(t testing.TB, codec runtime.Codec, opts EtcdOptions) generic.RESTOptionsGetter {
	t.Helper()
	cfg := testserver.NewTestConfig(t)
	for _, urls := range [][]url.URL{cfg.ListenClientUrls, cfg.AdvertiseClientUrls, cfg.ListenPeerUrls, cfg.AdvertisePeerUrls} {
		for i := range urls {
			urls[i].Host = net.JoinHostPort("127.0.0.1", urls[i].Port())
		}
	}
	cfg.InitialCluster = cfg.InitialClusterFromName(cfg.Name)
	if opts.MaxRequestBytes != 0 {
		cfg.MaxRequestBytes = opts.MaxRequestBytes
	}
	client := testserver.RunEtcd(t, cfg)
	t.Cleanup(func() { _ = client.Close() })

	config := storagebackend.NewDefaultConfig(etcd3testing.PathPrefix(), codec)
	config.Transport.ServerList = client.Endpoints()
	config.CompactionInterval = 0 // no background compaction during a test
	return restOptionsGetter{config: config}
}

type restOptionsGetter struct {
	config *storagebackend.Config
}

func (g restOptionsGetter) GetRESTOptions(resource schema.GroupResource, _ runtime.Object) (generic.RESTOptions, error) {
	return generic.RESTOptions{
		StorageConfig:           g.config.ForResource(resource),
		Decorator:               generic.UndecoratedStorage,
		DeleteCollectionWorkers: 1,
		ResourcePrefix:          resource.Group + "/" + resource.Resource,
	}, nil
}
