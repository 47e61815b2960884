// Copyright The nuclio-apiserver Authors.
// SPDX-License-Identifier: Apache-2.0

package policy

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"sort"
	"testing"
	"time"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/apiserver/pkg/admission"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/authorization/authorizer"
	"sigs.k8s.io/yaml"
)

// sensitiveFieldsPath is the plaintext backstop policy; it has no parameters, so Load (which wants a
// ConfigMap) does not apply.
const sensitiveFieldsPath = "../../artifacts/policies/sensitive-fields.yaml"

// loadPolicyOnly returns the ValidatingAdmissionPolicy of a manifest.
func loadPolicyOnly(tb testing.TB, path string) *admissionregistrationv1.ValidatingAdmissionPolicy {
	tb.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	reader := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(raw)))
	for {
		doc, err := reader.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			tb.Fatal(err)
		}
		var meta metav1.TypeMeta
		if err := yaml.Unmarshal(doc, &meta); err != nil {
			tb.Fatal(err)
		}
		if meta.Kind == "ValidatingAdmissionPolicy" {
			p := &admissionregistrationv1.ValidatingAdmissionPolicy{}
			if err := yaml.UnmarshalStrict(doc, p); err != nil {
				tb.Fatal(err)
			}
			return p
		}
	}
	tb.Fatalf("%s: no ValidatingAdmissionPolicy", path)
	return nil
}

// benchFunction is a typical function as the policies see it: Nuclio's python helloworld with inline
// source, http/cron/kafka triggers, and — when masked is set — the trigger credentials as the
// "$ref:" tokens nuclio-webhook leaves (the policies run after the webhook). url sets spec.build.path,
// the case the build-source rules inspect most closely.
func benchFunction(masked bool, url string) map[string]interface{} {
	kafka := map[string]interface{}{
		"brokers": []interface{}{"kafka-0.kafka.example.com:9092"}, "topics": []interface{}{"orders"},
		"consumerGroup": "helloworld",
	}
	triggers := map[string]interface{}{
		"http":   map[string]interface{}{"kind": "http", "numWorkers": int64(4), "attributes": map[string]interface{}{"serviceType": "ClusterIP"}},
		"cron":   map[string]interface{}{"kind": "cron", "attributes": map[string]interface{}{"interval": "30s"}},
		"orders": map[string]interface{}{"kind": "kafka-cluster", "numWorkers": int64(2), "attributes": kafka},
	}
	if masked {
		kafka["sasl"] = map[string]interface{}{"enable": true, "user": "orders",
			"password": "$ref:/spec/triggers/orders/attributes/sasl/password"}
		triggers["events"] = map[string]interface{}{"kind": "mqtt", "url": "tcp://mqtt.example.com:1883",
			"username": "helloworld", "password": "$ref:/spec/triggers/events/password"}
	}
	build := map[string]interface{}{"functionSourceCode": "ZGVmIGhhbmRsZXIoY29udGV4dCwgZXZlbnQpOgogICAgcmV0dXJuICJoZWxsbyIK",
		"commands": []interface{}{"pip install requests==2.32.3"}}
	if url != "" {
		build = map[string]interface{}{"path": url, "codeEntryType": "archive",
			"codeEntryAttributes": map[string]interface{}{"workDir": "/helloworld"}}
	}
	return map[string]interface{}{
		"apiVersion": "nuclio.io/v1beta1",
		"kind":       "NuclioFunction",
		"metadata": map[string]interface{}{"name": "helloworld", "namespace": testNamespace,
			"labels": map[string]interface{}{"nuclio.io/project-name": "default"}},
		"spec": map[string]interface{}{
			"runtime": "python:3.9", "handler": "helloworld:handler", "minReplicas": int64(1), "maxReplicas": int64(1),
			"build": build, "triggers": triggers,
			"env": []interface{}{map[string]interface{}{"name": "LOG_LEVEL", "value": "info"}},
		},
	}
}

// BenchmarkPolicyEvaluation measures one evaluation of each shipped ValidatingAdmissionPolicy on a
// typical, admitted function, with the validator the ValidatingAdmissionPolicy plugin builds and its
// runtime cost budget. It reports the p50 and p99 latency of single evaluations (test/bench puts them
// in docs/benchmarks.md); it asserts only that the function is admitted, never a time.
func BenchmarkPolicyEvaluation(b *testing.B) {
	bundle, err := Load(manifestPath)
	if err != nil {
		b.Fatal(err)
	}
	buildSources, err := NewEvaluator(bundle.Policy)
	if err != nil {
		b.Fatal(err)
	}
	sensitive, err := NewEvaluator(loadPolicyOnly(b, sensitiveFieldsPath))
	if err != nil {
		b.Fatal(err)
	}
	u := &user.DefaultInfo{Name: "alice", Groups: []string{"system:authenticated"}}
	allow := authorizer.AuthorizerFunc(func(context.Context, authorizer.Attributes) (authorizer.Decision, string, error) {
		return authorizer.DecisionAllow, "", nil
	})
	for _, bc := range []struct {
		name   string
		ev     *Evaluator
		obj    map[string]interface{}
		params bool
	}{
		{"build-sources/source-code", buildSources, benchFunction(false, ""), true},
		{"build-sources/url", buildSources, benchFunction(false, "https://github.com/nuclio/nuclio/archive/refs/tags/1.14.0.zip"), true},
		{"sensitive-fields/plain", sensitive, benchFunction(false, ""), false},
		{"sensitive-fields/masked-credentials", sensitive, benchFunction(true, ""), false},
	} {
		b.Run(bc.name, func(b *testing.B) {
			req := Request{Operation: admission.Create, Object: runtime.DeepCopyJSON(bc.obj), User: u, Authorizer: allow}
			if bc.params {
				req.Params = bundle.Params
			}
			var samples []time.Duration
			b.ReportAllocs()
			for b.Loop() {
				start := time.Now()
				d, err := bc.ev.Evaluate(context.Background(), req)
				samples = append(samples, time.Since(start))
				if err != nil {
					b.Fatal(err)
				}
				if d.Denied {
					b.Fatalf("a typical function was denied: %q %q", d.Messages, d.EvalErrors)
				}
			}
			sort.Slice(samples, func(i, j int) bool { return samples[i] < samples[j] })
			b.ReportMetric(float64(samples[len(samples)/2].Nanoseconds()), "p50-ns")
			b.ReportMetric(float64(samples[len(samples)*99/100].Nanoseconds()), "p99-ns")
		})
	}
}
