// Copyright The nuclio-apiserver Authors.
// SPDX-License-Identifier: Apache-2.0

// Command nuclio-controller builds NuclioFunctions with Kaniko and runs the Nuclio processor, enforces
// project deletion strategies, ties function events to their functions and turns API gateways into
// Ingresses. See pkg/controller, artifacts/controller/rbac.yaml and artifacts/controller/config.yaml.
package main

import (
	"flag"
	"fmt"
	"os"
	"time"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	"sigs.k8s.io/controller-runtime/pkg/metrics/filters"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/nuclio-apiserver/nuclio-apiserver/apis/nuclio/v1beta1"
	"github.com/nuclio-apiserver/nuclio-apiserver/pkg/controller"
	"github.com/nuclio-apiserver/nuclio-apiserver/pkg/controller/config"
	"github.com/nuclio-apiserver/nuclio-apiserver/pkg/version"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "nuclio-controller:", err)
		os.Exit(1)
	}
}

func run() error {
	var (
		configPath, namespace, probeAddress, metricsAddress, leaderElectionNamespace string
		metricsSecure, leaderElect, showVersion                                      bool
		gracefulShutdown                                                             time.Duration
		workers                                                                      = controller.DefaultWorkers
	)
	fs := flag.CommandLine // controller-runtime registers --kubeconfig here
	fs.StringVar(&configPath, "config", "",
		"YAML configuration file (registries, Kaniko, fetcher and defaults; see artifacts/controller/config.yaml). "+
			"Default: built-in defaults, which leave functions without spec.build.registry unable to build.")
	fs.StringVar(&namespace, "namespace", "",
		"Watch only this namespace (Nuclio's namespaced mode); overrides the config file's namespace. Empty: all namespaces.")
	fs.StringVar(&probeAddress, "health-probe-bind-address", ":8081", "Address of the health (/healthz) and readiness (/readyz) endpoints; \"0\" disables them.")
	fs.StringVar(&metricsAddress, "metrics-bind-address", ":8080", "Address of the Prometheus /metrics endpoint; \"0\" disables it.")
	fs.BoolVar(&metricsSecure, "metrics-secure", true,
		"Serve metrics over HTTPS, authenticated and authorised with TokenReview/SubjectAccessReview; false serves plain HTTP.")
	fs.BoolVar(&leaderElect, "leader-elect", false, "Elect a leader (Lease nuclio-controller.nuclio.io) so that only one replica reconciles.")
	fs.StringVar(&leaderElectionNamespace, "leader-election-namespace", "", "Namespace of the leader-election Lease; default: the in-cluster namespace.")
	fs.DurationVar(&gracefulShutdown, "graceful-shutdown-timeout", 30*time.Second, "How long running reconciles may take to finish on SIGTERM.")
	fs.IntVar(&workers.Functions, "function-workers", workers.Functions, "Concurrent function reconciles.")
	fs.IntVar(&workers.Projects, "project-workers", workers.Projects, "Concurrent project reconciles.")
	fs.IntVar(&workers.FunctionEvents, "function-event-workers", workers.FunctionEvents, "Concurrent function event reconciles.")
	fs.IntVar(&workers.APIGateways, "apigateway-workers", workers.APIGateways, "Concurrent API gateway reconciles.")
	fs.BoolVar(&showVersion, "version", false, "Print the version and exit.")
	zapOpts := zap.Options{}
	zapOpts.BindFlags(fs)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: nuclio-controller [flags]\n\n"+
			"Builds nuclio.io NuclioFunctions with Kaniko and runs the Nuclio processor; reconciles projects,\n"+
			"function events and API gateways. --kubeconfig selects the cluster (default: in-cluster configuration).\n\nFlags:\n")
		fs.PrintDefaults()
	}
	flag.Parse()
	if showVersion {
		fmt.Println(version.String("nuclio-controller"))
		return nil
	}
	for name, n := range map[string]int{"function-workers": workers.Functions, "project-workers": workers.Projects,
		"function-event-workers": workers.FunctionEvents, "apigateway-workers": workers.APIGateways} {
		if n < 1 {
			return fmt.Errorf("--%s must be at least 1", name)
		}
	}
	ctrl.SetLogger(zap.New(zap.UseFlagOptions(&zapOpts)))
	log := ctrl.Log.WithName("nuclio-controller")

	cfg := config.Default()
	if configPath != "" {
		data, err := os.ReadFile(configPath)
		if err != nil {
			return fmt.Errorf("reading --config: %w", err)
		}
		if cfg, err = config.Load(data); err != nil {
			return err
		}
	}
	if namespace != "" {
		cfg.Namespace = namespace
		if err := cfg.Validate(); err != nil {
			return fmt.Errorf("--namespace: %w", err)
		}
	}
	if cfg.Registry == "" {
		log.Info("no default push registry configured (registry): only functions with spec.build.registry can be built")
	}

	scheme := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		return err
	}
	if err := v1beta1.AddToScheme(scheme); err != nil {
		return err
	}
	restConfig, err := ctrl.GetConfig()
	if err != nil {
		return fmt.Errorf("loading the cluster configuration: %w", err)
	}
	metricsOpts := metricsserver.Options{BindAddress: metricsAddress, SecureServing: metricsSecure}
	if metricsSecure {
		metricsOpts.FilterProvider = filters.WithAuthenticationAndAuthorization
	}
	mgr, err := ctrl.NewManager(restConfig, ctrl.Options{
		Scheme:                        scheme,
		Metrics:                       metricsOpts,
		HealthProbeBindAddress:        probeAddress,
		LeaderElection:                leaderElect,
		LeaderElectionID:              "nuclio-controller.nuclio.io",
		LeaderElectionNamespace:       leaderElectionNamespace,
		LeaderElectionReleaseOnCancel: true,
		GracefulShutdownTimeout:       &gracefulShutdown,
		Cache:                         controller.CacheOptions(cfg),
	})
	if err != nil {
		return fmt.Errorf("creating the manager: %w", err)
	}
	clientset, err := kubernetes.NewForConfig(restConfig)
	if err != nil {
		return fmt.Errorf("creating a clientset for pod logs: %w", err)
	}
	if err := controller.Setup(mgr, cfg, workers, controller.NewPodLogReader(clientset)); err != nil {
		return err
	}
	if err := mgr.AddHealthzCheck("ping", healthz.Ping); err != nil {
		return err
	}
	if err := mgr.AddReadyzCheck("ping", healthz.Ping); err != nil {
		return err
	}
	watched := cfg.Namespace
	if watched == "" {
		watched = "(all)"
	}
	log.Info("starting", "version", version.Version, "namespace", watched, "registry", cfg.Registry,
		"kanikoImage", cfg.KanikoImage, "fetcherImage", cfg.FetcherImage, "leaderElection", leaderElect)
	return mgr.Start(ctrl.SetupSignalHandler())
}
