package webhook

import (
	"os"
	"path/filepath"
	"testing"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	"sigs.k8s.io/yaml"
)

// TestWebhookConfiguration checks the shipped MutatingWebhookConfiguration against what the webhook
// needs: its path, both resources, CREATE and UPDATE, and the safety settings. (Its matchConditions are
// compiled and checked in pkg/masking/backstop_test.go.)
func TestWebhookConfiguration(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "..", "artifacts", "webhook", "mutating-webhook.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	cfg := &admissionregistrationv1.MutatingWebhookConfiguration{}
	if err := yaml.UnmarshalStrict(data, cfg); err != nil {
		t.Fatal(err)
	}
	if len(cfg.Webhooks) != 1 {
		t.Fatalf("want one webhook, got %d", len(cfg.Webhooks))
	}
	wh := cfg.Webhooks[0]
	svc := wh.ClientConfig.Service
	if svc == nil || svc.Name != "nuclio-webhook" || svc.Namespace != "nuclio-system" || svc.Path == nil || *svc.Path != MutatePath {
		t.Errorf("clientConfig.service = %+v, want nuclio-system/nuclio-webhook at %s", svc, MutatePath)
	}
	if wh.SideEffects == nil || *wh.SideEffects != admissionregistrationv1.SideEffectClassNoneOnDryRun {
		t.Error("sideEffects must be NoneOnDryRun: the webhook writes Secrets, except on dry runs")
	}
	if wh.FailurePolicy == nil || *wh.FailurePolicy != admissionregistrationv1.Fail {
		t.Error("failurePolicy must be Fail")
	}
	if wh.ReinvocationPolicy == nil || *wh.ReinvocationPolicy != admissionregistrationv1.IfNeededReinvocationPolicy {
		t.Error("reinvocationPolicy must be IfNeeded")
	}
	if wh.TimeoutSeconds == nil || *wh.TimeoutSeconds > 5 || *wh.TimeoutSeconds < 1 {
		t.Error("timeoutSeconds must be between 1 and 5")
	}
	if len(wh.MatchConditions) == 0 {
		t.Error("matchConditions missing")
	}
	if len(wh.Rules) != 1 {
		t.Fatalf("want one rule, got %d", len(wh.Rules))
	}
	r := wh.Rules[0]
	ops := map[admissionregistrationv1.OperationType]bool{}
	for _, op := range r.Operations {
		ops[op] = true
	}
	res := map[string]bool{}
	for _, name := range r.Resources {
		res[name] = true
	}
	if len(r.APIGroups) != 1 || r.APIGroups[0] != GroupName || !ops["CREATE"] || !ops["UPDATE"] || len(ops) != 2 ||
		!res["nucliofunctions"] || !res["nuclioapigateways"] || len(res) != 2 {
		t.Errorf("rule %+v", r)
	}
	for resource := range res {
		if _, ok := resourceKinds[resource]; !ok {
			t.Errorf("resource %q is routed to the webhook but not handled", resource)
		}
	}
}
