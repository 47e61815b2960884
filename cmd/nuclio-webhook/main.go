// Command nuclio-webhook is the mutating admission webhook that moves credentials out of nuclio.io
// NuclioFunction and NuclioAPIGateway objects into Secrets in Nuclio's format, plus the reconciler that
// ties those Secrets to their objects. See pkg/webhook and artifacts/webhook/mutating-webhook.yaml.
package main

import (
	"flag"
	"fmt"
	"os"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	"sigs.k8s.io/controller-runtime/pkg/metrics/filters"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	"sigs.k8s.io/controller-runtime/pkg/webhook"

	"github.com/nuclio-apiserver/nuclio-apiserver/pkg/version"
	nucliowebhook "github.com/nuclio-apiserver/nuclio-apiserver/pkg/webhook"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "nuclio-webhook:", err)
		os.Exit(1)
	}
}

func run() error {
	var (
		certDir, bindAddress, probeAddress, metricsAddress, configPath, leaderElectionNamespace string
		port                                                                                    int
		metricsSecure, leaderElect, showVersion                                                 bool
	)
	fs := flag.CommandLine // controller-runtime registers --kubeconfig here
	fs.StringVar(&certDir, "cert-dir", "",
		"Directory holding the serving certificate tls.crt and key tls.key. Changes are picked up without a restart. "+
			"Default: <tmp>/k8s-webhook-server/serving-certs.")
	fs.IntVar(&port, "port", webhook.DefaultPort, "Port the webhook serves HTTPS on (path "+nucliowebhook.MutatePath+").")
	fs.StringVar(&bindAddress, "bind-address", "", "Address the webhook listens on; empty means all addresses (use 127.0.0.1 for local runs).")
	fs.StringVar(&probeAddress, "health-probe-bind-address", ":8081", "Address of the health (/healthz) and readiness (/readyz) endpoints; \"0\" disables them.")
	fs.StringVar(&metricsAddress, "metrics-bind-address", ":8080", "Address of the Prometheus /metrics endpoint; \"0\" disables it.")
	fs.BoolVar(&metricsSecure, "metrics-secure", true,
		"Serve metrics over HTTPS, authenticated and authorised with TokenReview/SubjectAccessReview; false serves plain HTTP.")
	fs.StringVar(&configPath, "config", "",
		"YAML file with extraSensitivePaths, extraAPIGatewaySensitivePaths (regular expressions over Nuclio field paths), "+
			"allowOptOut, orphanGracePeriod, settlePeriod and resyncPeriod. Default: built-in rules, no opt-out, 10m/1m/5m.")
	fs.BoolVar(&leaderElect, "leader-elect", false,
		"Run the credentials Secret reconciler on the elected leader only. The webhook itself always serves on every replica; "+
			"the reconciler is idempotent, so leaving this off is safe.")
	fs.StringVar(&leaderElectionNamespace, "leader-election-namespace", "", "Namespace of the leader-election Lease; default: the in-cluster namespace.")
	fs.BoolVar(&showVersion, "version", false, "Print the version and exit.")
	zapOpts := zap.Options{}
	zapOpts.BindFlags(fs)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: nuclio-webhook [flags]\n\n"+
			"Mutating admission webhook that masks credentials in nuclio.io objects and stores them in Secrets.\n"+
			"--kubeconfig selects the cluster (default: in-cluster configuration).\n\nFlags:\n")
		fs.PrintDefaults()
	}
	flag.Parse()

	if showVersion {
		fmt.Println(version.String("nuclio-webhook"))
		return nil
	}
	ctrl.SetLogger(zap.New(zap.UseFlagOptions(&zapOpts)))
	log := ctrl.Log.WithName("nuclio-webhook")

	cfg := nucliowebhook.DefaultConfig()
	if configPath != "" {
		data, err := os.ReadFile(configPath)
		if err != nil {
			return fmt.Errorf("reading --config: %w", err)
		}
		if cfg, err = nucliowebhook.LoadConfig(data); err != nil {
			return err
		}
	}
	if len(cfg.ExtraSensitivePaths)+len(cfg.ExtraAPIGatewaySensitivePaths) > 0 {
		log.Info("extra sensitive paths configured: make sure the MutatingWebhookConfiguration's matchConditions cover them, " +
			"and note that the backstop ValidatingAdmissionPolicy does not check them")
	}

	scheme := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
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
		Scheme:                  scheme,
		Metrics:                 metricsOpts,
		HealthProbeBindAddress:  probeAddress,
		LeaderElection:          leaderElect,
		LeaderElectionID:        "nuclio-webhook.nuclio.io",
		LeaderElectionNamespace: leaderElectionNamespace,
		WebhookServer:           webhook.NewServer(webhook.Options{Host: bindAddress, Port: port, CertDir: certDir}),
		Cache: cache.Options{ByObject: map[client.Object]cache.ByObject{
			// Cache only the Secrets this webhook owns; everything else is read through to the API server.
			&corev1.Secret{}: {Label: nucliowebhook.ManagedSecretSelector},
		}},
	})
	if err != nil {
		return fmt.Errorf("creating the manager: %w", err)
	}
	if err := nucliowebhook.Register(mgr, cfg); err != nil {
		return err
	}
	if err := mgr.AddHealthzCheck("ping", healthz.Ping); err != nil {
		return err
	}
	if err := mgr.AddReadyzCheck("webhook", mgr.GetWebhookServer().StartedChecker()); err != nil {
		return err
	}
	log.Info("starting", "version", version.Version, "path", nucliowebhook.MutatePath, "port", port, "allowOptOut", cfg.AllowOptOut)
	return mgr.Start(ctrl.SetupSignalHandler())
}
