package webhook

import (
	"github.com/prometheus/client_golang/prometheus"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
)

// Metrics, registered with controller-runtime's registry and served on the manager's metrics endpoint.
// Labels never carry object names or values.
var (
	// admissionDuration observes the time Mutator.Handle spends on one request, including Secret I/O.
	admissionDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: "nuclio",
		Subsystem: "webhook",
		Name:      "admission_duration_seconds",
		Help:      "Time to admit one request, in seconds, by resource, operation, outcome (allowed, denied, error) and whether it carried credentials.",
		Buckets:   []float64{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5},
	}, []string{"resource", "operation", "outcome", "credentials"})

	// maskedFields counts values replaced by reference tokens.
	maskedFields = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "nuclio",
		Subsystem: "webhook",
		Name:      "masked_fields_total",
		Help:      "Number of field values moved into Secrets and replaced by $ref: tokens, by resource.",
	}, []string{"resource"})

	// secretActions counts writes to credentials Secrets by the webhook and the reconciler.
	secretActions = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "nuclio",
		Subsystem: "webhook",
		Name:      "secret_actions_total",
		Help:      "Writes to credentials Secrets, by action: create, update, replace, adopt, prune, sweep.",
	}, []string{"action"})
)

func init() {
	metrics.Registry.MustRegister(admissionDuration, maskedFields, secretActions)
}
