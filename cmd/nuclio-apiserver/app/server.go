// Copyright The nuclio-apiserver Authors.
// SPDX-License-Identifier: Apache-2.0

// Package app is the nuclio-apiserver command: flags, configuration and the run loop.
package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utilerrors "k8s.io/apimachinery/pkg/util/errors"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apiserver/pkg/authentication/authenticatorfactory"
	"k8s.io/apiserver/pkg/endpoints/openapi"
	genericapiserver "k8s.io/apiserver/pkg/server"
	genericfilters "k8s.io/apiserver/pkg/server/filters"
	"k8s.io/apiserver/pkg/server/healthz"
	genericoptions "k8s.io/apiserver/pkg/server/options"
	"k8s.io/apiserver/pkg/util/compatibility"
	basecompatibility "k8s.io/component-base/compatibility"
	"k8s.io/klog/v2"
	netutils "k8s.io/utils/net"

	"github.com/nuclio-apiserver/nuclio-apiserver/apis/nuclio/v1beta1"
	"github.com/nuclio-apiserver/nuclio-apiserver/pkg/apiserver"
	nuclioopenapi "github.com/nuclio-apiserver/nuclio-apiserver/pkg/openapi"
	"github.com/nuclio-apiserver/nuclio-apiserver/pkg/version"
)

// DefaultEtcdPathPrefix is the default --etcd-prefix; keys are <prefix>/<group>/<resource>/<ns>/<name>.
const DefaultEtcdPathPrefix = "/registry/nuclio.io"

// DefaultEmbeddedEtcdDir is where the embedded etcd keeps its data when --etcd-servers is not given.
const DefaultEmbeddedEtcdDir = "/var/lib/nuclio-apiserver/etcd"

// Options are the command-line options of nuclio-apiserver: k8s.io/apiserver's recommended options
// (etcd, serving, delegated authn/authz, audit, admission, APF, ...) plus ours.
type Options struct {
	Recommended *genericoptions.RecommendedOptions
	// ServerRun are the generic server's run options (request timeouts, in-flight limits, shutdown).
	ServerRun *genericoptions.ServerRunOptions
	// ComponentGlobalsRegistry carries the Kubernetes emulation version and feature gates.
	ComponentGlobalsRegistry basecompatibility.ComponentGlobalsRegistry

	// EmbeddedEtcdDir is the data directory of the embedded etcd, used when --etcd-servers is empty.
	EmbeddedEtcdDir string
	// AlternateDNS are extra names for the self-signed serving certificate generated when no
	// --tls-cert-file is given.
	AlternateDNS []string
	// ShowVersion prints the version and exits.
	ShowVersion bool

	Out, ErrOut io.Writer
}

// NewOptions returns options with the defaults of a nuclio.io server: etcd prefix /registry/nuclio.io,
// storage in v1beta1, the Kubernetes component registry.
func NewOptions(out, errOut io.Writer) *Options {
	o := &Options{
		Recommended: genericoptions.NewRecommendedOptions(DefaultEtcdPathPrefix,
			apiserver.Codecs.LegacyCodec(v1beta1.SchemeGroupVersion)),
		ServerRun:                genericoptions.NewServerRunOptions(),
		ComponentGlobalsRegistry: compatibility.DefaultComponentGlobalsRegistry,
		EmbeddedEtcdDir:          DefaultEmbeddedEtcdDir,
		AlternateDNS:             []string{"nuclio-apiserver.nuclio-system.svc"},
		Out:                      out,
		ErrOut:                   errOut,
	}
	// kube-apiserver holds watches on us open for its clients; without a termination grace period an
	// orderly shutdown would wait for them until it is killed.
	o.ServerRun.ShutdownWatchTerminationGracePeriod = 5 * time.Second
	o.Recommended.Etcd.StorageConfig.EncodeVersioner = runtime.NewMultiGroupVersioner(v1beta1.SchemeGroupVersion,
		schema.GroupKind{Group: v1beta1.GroupName})
	return o
}

// NewCommand returns the nuclio-apiserver command.
func NewCommand(ctx context.Context, o *Options) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "nuclio-apiserver",
		Short: "Serve Nuclio's nuclio.io/v1beta1 API as a Kubernetes aggregated API server",
		Long: `nuclio-apiserver serves NuclioFunction, NuclioProject, NuclioFunctionEvent and NuclioAPIGateway
(group nuclio.io, version v1beta1) behind kube-apiserver, with kube-apiserver's authentication,
RBAC, audit, admission webhooks and policies, dry-run and server-side apply.

Storage is etcd: --etcd-servers for an external cluster, otherwise an embedded single-member etcd
in --embedded-etcd-dir.`,
		SilenceUsage: true,
		PersistentPreRunE: func(*cobra.Command, []string) error {
			return o.ComponentGlobalsRegistry.Set()
		},
		RunE: func(c *cobra.Command, _ []string) error {
			if o.ShowVersion {
				fmt.Fprintln(o.Out, version.String("nuclio-apiserver"))
				return nil
			}
			return o.Run(c.Context())
		},
	}
	cmd.SetContext(ctx)

	flags := cmd.Flags()
	o.Recommended.AddFlags(flags)
	o.ServerRun.AddUniversalFlags(flags)
	flags.StringVar(&o.EmbeddedEtcdDir, "embedded-etcd-dir", o.EmbeddedEtcdDir,
		"Data directory of the embedded etcd started when --etcd-servers is empty (one replica only; use an external etcd for HA). Clients connect through a unix socket inside it.")
	flags.StringSliceVar(&o.AlternateDNS, "self-signed-cert-alternate-dns", o.AlternateDNS,
		"Extra DNS names of the self-signed serving certificate generated when --tls-cert-file is not given.")
	flags.BoolVar(&o.ShowVersion, "version", false, "Print the version and exit.")
	return cmd
}

// Validate checks the options.
func (o *Options) Validate() error {
	errs := o.Recommended.Validate()
	errs = append(errs, o.ServerRun.Validate()...)
	errs = append(errs, o.ComponentGlobalsRegistry.Validate()...)
	return utilerrors.NewAggregate(errs)
}

// Config builds the server configuration from validated options.
func (o *Options) Config() (*apiserver.Config, error) {
	if err := o.Recommended.SecureServing.MaybeDefaultWithSelfSignedCerts("localhost", o.AlternateDNS,
		[]net.IP{netutils.ParseIPSloppy("127.0.0.1")}); err != nil {
		return nil, fmt.Errorf("creating self-signed certificates: %w", err)
	}

	c := genericapiserver.NewRecommendedConfig(apiserver.Codecs)
	// Streams of nucliofunctions/log are long-running (no request timeout), as pods/log is in
	// kube-apiserver, which classifies the same subresource name as long-running before proxying to us.
	c.LongRunningFunc = genericfilters.BasicLongRunningRequestCheck(sets.NewString("watch", "proxy"), sets.NewString("log"))
	namer := openapi.NewDefinitionNamer(apiserver.Scheme)
	c.OpenAPIConfig = genericapiserver.DefaultOpenAPIConfig(nuclioopenapi.GetOpenAPIDefinitions, namer)
	c.OpenAPIConfig.Info.Title = "nuclio-apiserver"
	c.OpenAPIConfig.Info.Version = version.Version
	c.OpenAPIV3Config = genericapiserver.DefaultOpenAPIV3Config(nuclioopenapi.GetOpenAPIDefinitions, namer)
	c.OpenAPIV3Config.Info.Title = "nuclio-apiserver"
	c.OpenAPIV3Config.Info.Version = version.Version

	// Sets the Kubernetes effective version and feature gates from the component registry.
	if err := o.ServerRun.ApplyTo(&c.Config); err != nil {
		return nil, err
	}
	if err := o.Recommended.ApplyTo(c); err != nil {
		return nil, err
	}
	c.AddReadyzChecks(frontProxyCACheck(c.Authentication.RequestHeaderConfig))
	return &apiserver.Config{GenericConfig: c}, nil
}

// frontProxyCACheck is a readiness check that fails until the front-proxy CA has been loaded (from
// kube-system/extension-apiserver-authentication, asynchronously after start). Until then the client
// certificate kube-apiserver proxies with cannot be verified, so every proxied request would be served
// as system:anonymous and refused; not-ready keeps a restarting replica out of rotation instead.
func frontProxyCACheck(rh *authenticatorfactory.RequestHeaderConfig) healthz.HealthChecker {
	return healthz.NamedCheck("front-proxy-ca", func(*http.Request) error {
		if rh == nil || rh.CAContentProvider == nil {
			return nil // request-header authentication is off (--authentication-skip-lookup without a CA)
		}
		if len(rh.CAContentProvider.CurrentCABundleContent()) == 0 {
			return errors.New("the front-proxy (request-header) CA is not loaded yet")
		}
		return nil
	})
}

// Run starts the embedded etcd when needed, then serves until ctx ends, then stops etcd.
func (o *Options) Run(ctx context.Context) error {
	if len(o.Recommended.Etcd.StorageConfig.Transport.ServerList) == 0 {
		etcd, err := apiserver.StartEmbeddedEtcd(ctx, o.EmbeddedEtcdDir)
		if err != nil {
			return err
		}
		// Stop etcd only after the API server has drained, so no request loses its storage mid-flight.
		defer etcd.Close()
		klog.InfoS("Started embedded etcd", "dir", o.EmbeddedEtcdDir, "url", etcd.ClientURL)
		o.Recommended.Etcd.StorageConfig.Transport.ServerList = []string{etcd.ClientURL}
		var cancel context.CancelFunc
		ctx, cancel = context.WithCancel(ctx)
		defer cancel()
		go func() {
			if err, ok := <-etcd.Err(); ok && err != nil {
				klog.ErrorS(err, "Embedded etcd failed; shutting down")
				cancel()
			}
		}()
	}

	if err := o.Validate(); err != nil {
		return err
	}
	config, err := o.Config()
	if err != nil {
		return err
	}
	server, err := config.Complete().New()
	if err != nil {
		return err
	}
	return server.GenericAPIServer.PrepareRun().RunWithContext(ctx)
}
