package webhook

import (
	"fmt"

	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/webhook"
)

// Register serves a Mutator at MutatePath on mgr's webhook server and adds a SecretReconciler to mgr.
// The Mutator reads through mgr.GetAPIReader(); give mgr's cache ManagedSecretSelector for Secrets.
// It returns an error if cfg is invalid.
func Register(mgr ctrl.Manager, cfg Config) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	mutator, err := NewMutator(mgr.GetAPIReader(), mgr.GetClient(), cfg)
	if err != nil {
		return err
	}
	mgr.GetWebhookServer().Register(MutatePath, &webhook.Admission{Handler: mutator})
	r := &SecretReconciler{Client: mgr.GetClient(), APIReader: mgr.GetAPIReader(), Config: cfg}
	if err := r.SetupWithManager(mgr); err != nil {
		return fmt.Errorf("setting up the credentials Secret reconciler: %w", err)
	}
	return nil
}
