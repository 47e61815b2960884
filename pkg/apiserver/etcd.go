// Copyright The nuclio-apiserver Authors.
// SPDX-License-Identifier: Apache-2.0

package apiserver

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"go.etcd.io/etcd/server/v3/embed"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// EmbeddedEtcd is a single-member etcd running inside the server process, for installs that need no
// external etcd (one replica). Clients reach it only through a unix socket inside its data directory (mode
// 0700), so nothing outside the process's filesystem permissions can use the unauthenticated etcd API.
type EmbeddedEtcd struct {
	etcd *embed.Etcd
	// ClientURL is what --etcd-servers should point at, e.g. unix:///var/lib/nuclio/etcd/client.sock.
	ClientURL string
}

// StartEmbeddedEtcd starts etcd with its data in dir (created 0700 if missing) and waits until it is
// ready or the context ends. Errors: the directory cannot be created, etcd fails to start (e.g. the data
// belongs to another cluster), or readiness does not come within 60 s.
func StartEmbeddedEtcd(ctx context.Context, dir string) (*EmbeddedEtcd, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("embedded etcd: creating data directory: %w", err)
	}
	// Unix socket paths are limited to ~107 bytes; fail with a clear message rather than etcd's.
	clientSock := filepath.Join(dir, "client.sock")
	if len(clientSock) > 100 {
		return nil, fmt.Errorf("embedded etcd: data directory path %q is too long for a unix socket; use a shorter --embedded-etcd-dir", dir)
	}
	// Stale sockets from an unclean stop would make the listeners fail.
	_ = os.Remove(clientSock)

	cfg := embed.NewConfig()
	cfg.Name = "nuclio-apiserver"
	cfg.Dir = filepath.Join(dir, "data")
	// etcd takes a unix socket's path from the URL's host part. The peer URL of a single member is
	// never dialled, but etcd needs one it can parse back from its cluster configuration, which rules
	// out socket paths; an ephemeral loopback port serves.
	client := url.URL{Scheme: "unix", Host: clientSock}
	peer := url.URL{Scheme: "http", Host: "127.0.0.1:0"}
	cfg.ListenClientUrls, cfg.AdvertiseClientUrls = []url.URL{client}, []url.URL{client}
	cfg.ListenPeerUrls, cfg.AdvertisePeerUrls = []url.URL{peer}, []url.URL{peer}
	cfg.InitialCluster = cfg.InitialClusterFromName(cfg.Name)
	// No metrics listener and quiet logs: the API server has its own /metrics and logging.
	cfg.ListenMetricsUrls = nil
	cfg.LogLevel = "warn"
	cfg.ZapLoggerBuilder = embed.NewZapLoggerBuilder(zap.New(zapcore.NewCore(
		zapcore.NewJSONEncoder(zap.NewProductionEncoderConfig()), zapcore.Lock(os.Stderr), zapcore.WarnLevel)).Named("etcd"))

	e, err := embed.StartEtcd(cfg)
	if err != nil {
		return nil, fmt.Errorf("embedded etcd: %w", err)
	}
	select {
	case <-e.Server.ReadyNotify():
	case err := <-e.Err():
		e.Close()
		return nil, fmt.Errorf("embedded etcd: %w", err)
	case <-time.After(60 * time.Second):
		e.Close()
		return nil, fmt.Errorf("embedded etcd: not ready after 60s")
	case <-ctx.Done():
		e.Close()
		return nil, ctx.Err()
	}
	return &EmbeddedEtcd{etcd: e, ClientURL: "unix://" + clientSock}, nil
}

// Err reports an etcd failure after start.
func (e *EmbeddedEtcd) Err() <-chan error { return e.etcd.Err() }

// Close stops etcd, waiting for in-flight requests and flushing to disk.
func (e *EmbeddedEtcd) Close() { e.etcd.Close() }
