// Copyright The nuclio-apiserver Authors.
// SPDX-License-Identifier: Apache-2.0

package install

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/runtime"
	kjson "k8s.io/apimachinery/pkg/runtime/serializer/json"

	"github.com/nuclio-apiserver/nuclio-apiserver/apis/nuclio"
	"github.com/nuclio-apiserver/nuclio-apiserver/apis/nuclio/v1beta1"
)

// These documents are written in the exact shape Nuclio 1.14's Go client sends (nuclio-compat §1.1-3):
// fields without omitempty present even when empty (eventTimeout "", trigger class ""), the snake_case
// names (total_tasks, max_task_allocation, last_error), and free-form maps with nested objects, lists
// and numbers. Nothing here is defaulted: the test is about the wire, not enrichment.
const nuclioFunctionJSON = `{
  "apiVersion": "nuclio.io/v1beta1",
  "kind": "NuclioFunction",
  "metadata": {"name": "orders", "namespace": "nuclio", "labels": {"nuclio.io/project-name": "shop"},
    "annotations": {"nuclio.io/kafka-worker-allocation-mode": "static"}},
  "spec": {
    "description": "consumes orders",
    "handler": "main:handler",
    "runtime": "python:3.11",
    "env": [{"name": "LEVEL", "value": "debug"}],
    "resources": {"requests": {"cpu": "25m", "memory": "1Mi"}},
    "image": "registry.example.com/nuclio/processor-orders:latest",
    "imageHash": "1712345678901234567",
    "minReplicas": 1,
    "maxReplicas": 4,
    "targetCPU": 75,
    "triggers": {
      "orders": {
        "class": "",
        "kind": "kafka-cluster",
        "name": "orders",
        "numWorkers": 4,
        "workerTerminationTimeout": "10s",
        "workerAvailabilityTimeoutMilliseconds": 10000,
        "explicitAckMode": "disable",
        "total_tasks": 12,
        "max_task_allocation": 3,
        "partitions": [{"id": "0", "checkpoint": "42"}],
        "attributes": {
          "brokers": ["kafka-0:9092", "kafka-1:9092"],
          "topics": ["orders"],
          "consumerGroup": "g",
          "initialOffset": "earliest",
          "sasl": {"enable": true, "user": "u", "mechanism": "PLAIN", "oauth": {"scopes": ["a", "b"]}},
          "maxWaitHandlerDuringRebalance": 5,
          "heartbeatRatio": 0.25,
          "fetchDefault": 1048576,
          "tls": null
        }
      },
      "default-http": {
        "class": "",
        "kind": "http",
        "name": "default-http",
        "numWorkers": 1,
        "annotations": {"nginx.ingress.kubernetes.io/proxy-body-size": "8m"},
        "attributes": {
          "serviceType": "NodePort",
          "port": 30080,
          "ingresses": {"main": {"host": "orders.example.com", "paths": ["/"], "pathType": "Prefix"}}
        },
        "batch": {"mode": "enable", "batchSize": 10, "timeout": "1s"}
      }
    },
    "dataBindings": {"db": {"name": "db", "class": "v3io", "kind": "", "url": "http://v3io:8081", "attributes": {"containerID": 7}}},
    "volumes": [{"volume": {"name": "cfg", "configMap": {"name": "orders-cfg"}}, "volumeMount": {"name": "cfg", "mountPath": "/etc/cfg"}}],
    "version": -1,
    "alias": "latest",
    "build": {
      "path": "https://github.com/example/orders.git",
      "registry": "registry.example.com/nuclio",
      "noCache": true,
      "commands": ["pip install kafka-python"],
      "directives": {"preCopy": [{"kind": "RUN", "value": "apt-get update"}]},
      "codeEntryType": "git",
      "codeEntryAttributes": {"branch": "main", "workDir": "/src", "headers": {"Authorization": "$ref:/spec/build/codeentryattributes/headers/authorization"}, "depth": 1},
      "timestamp": 1712345678,
      "buildTimeoutSeconds": 1800,
      "args": {"PIP_INDEX": "https://pypi.example.com"},
      "runtimeAttributes": {"repositories": ["https://repo.example.com"]}
    },
    "runtimeAttributes": {"jvmOptions": ["-Xmx512m"], "nested": {"deep": {"n": 1.5}}},
    "loggerSinks": [{"level": "debug", "sink": "stdout"}],
    "platform": {"attributes": {"restartPolicy": {"name": "always", "maximumRetryCount": 3}, "mountMode": "volume"}},
    "readinessTimeoutSeconds": 120,
    "imagePullPolicy": "IfNotPresent",
    "securityContext": {"runAsUser": 1000},
    "serviceAccount": "orders",
    "scaleToZero": {"scaleResources": [{"metricName": "nuclio_processor_handled_events_total", "windowSize": "5m", "threshold": 0}]},
    "disableDefaultHTTPTrigger": false,
    "nodeSelector": {"pool": "cpu"},
    "priorityClassName": "nuclio-medium",
    "autoScaleMetrics": [{"metricName": "cpu", "windowSize": "1m", "threshold": 70, "sourceType": "Resource", "displayType": "percentage"}],
    "eventTimeout": "",
    "preemptionMode": "prevent"
  },
  "status": {
    "state": "ready",
    "logs": [
      {"level": "info", "time": "2024-04-05T10:11:12.000Z", "name": "deployer", "message": "Deploying", "more": "functionName=orders || numWorkers=4"},
      {"level": "debug", "time": 1712345678.5, "ctx": null, "retries": 2}
    ],
    "scaleToZero": {"lastScaleEvent": "scaleFromZeroCompleted", "lastScaleEventTime": "2024-04-05T10:11:12Z"},
    "httpPort": 30080,
    "containerImage": "registry.example.com/nuclio/processor-orders:latest",
    "internalInvocationUrls": ["nuclio-orders.nuclio.svc.cluster.local:8080"],
    "externalInvocationUrls": ["orders.example.com/"],
    "enrichedNodeSelector": {"pool": "cpu"}
  }
}`

const nuclioAPIGatewayJSON = `{
  "apiVersion": "nuclio.io/v1beta1",
  "kind": "NuclioAPIGateway",
  "metadata": {"name": "shop", "namespace": "nuclio", "labels": {"nuclio.io/project-name": "shop"}},
  "spec": {
    "host": "shop.example.com",
    "name": "shop",
    "path": "/orders",
    "authenticationMode": "basicAuth",
    "authentication": {"basicAuth": {"username": "u", "password": "$ref:/spec/authentication/basicauth/password"}},
    "upstreams": [
      {"kind": "nucliofunction", "nucliofunction": {"name": "orders"}},
      {"kind": "nucliofunction", "nucliofunction": {"name": "orders-v2"}, "percentage": 10, "rewriteTarget": "/", "extraAnnotations": {"a": "b"}}
    ]
  },
  "status": {"name": "shop", "last_error": "ingress host is taken", "state": "error"}
}`

const nuclioFunctionEventJSON = `{
  "apiVersion": "nuclio.io/v1beta1",
  "kind": "NuclioFunctionEvent",
  "metadata": {"name": "3f2a6c1e-0000-4000-8000-000000000001", "namespace": "nuclio", "labels": {"nuclio.io/function-name": "orders"}},
  "spec": {"displayName": "new order", "triggerKind": "http", "body": "{\"id\": 1}",
    "attributes": {"method": "POST", "path": "/", "headers": {"Content-Type": "application/json", "X-Count": 2}}}
}`

// strictDecode decodes JSON into its v1beta1 type the way the server reads a request with
// fieldValidation=Strict (kubectl's default): an unknown or duplicate field is an error, so a Nuclio
// field we do not model (or spell differently) fails here instead of being silently dropped.
func strictDecode(t *testing.T, scheme *runtime.Scheme, data string) runtime.Object {
	t.Helper()
	s := kjson.NewSerializerWithOptions(kjson.DefaultMetaFactory, scheme, scheme, kjson.SerializerOptions{Strict: true})
	obj, _, err := s.Decode([]byte(data), nil, nil)
	if err != nil {
		t.Fatalf("strict decode: %v", err)
	}
	return obj
}

func encode(t *testing.T, scheme *runtime.Scheme, obj runtime.Object) []byte {
	t.Helper()
	s := kjson.NewSerializerWithOptions(kjson.DefaultMetaFactory, scheme, scheme, kjson.SerializerOptions{})
	var buf bytes.Buffer
	if err := s.Encode(obj, &buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func asMap(t *testing.T, data []byte) map[string]interface{} {
	t.Helper()
	var m map[string]interface{}
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// TestNuclioWireShape decodes Nuclio-shaped JSON, checks that values land in the typed fields (and in
// the internal version), and re-encodes to the same JSON document: same names, same empty-but-present
// fields, same free-form content and numbers.
func TestNuclioWireShape(t *testing.T) {
	scheme := newScheme()
	tests := []struct {
		name  string
		data  string
		check func(t *testing.T, obj runtime.Object)
	}{
		{name: "NuclioFunction", data: nuclioFunctionJSON, check: checkFunction},
		{name: "NuclioAPIGateway", data: nuclioAPIGatewayJSON, check: func(t *testing.T, obj runtime.Object) {
			g := obj.(*v1beta1.NuclioAPIGateway)
			if g.Status.LastError != "ingress host is taken" || g.Status.State != "error" {
				t.Errorf("status = %+v", g.Status)
			}
			if len(g.Spec.Upstreams) != 2 || g.Spec.Upstreams[1].NuclioFunction.Name != "orders-v2" || g.Spec.Upstreams[1].Percentage != 10 {
				t.Errorf("upstreams = %+v", g.Spec.Upstreams)
			}
			if g.Spec.Authentication.BasicAuth.Password != "$ref:/spec/authentication/basicauth/password" {
				t.Errorf("basicAuth = %+v", g.Spec.Authentication.BasicAuth)
			}
		}},
		{name: "NuclioFunctionEvent", data: nuclioFunctionEventJSON, check: func(t *testing.T, obj runtime.Object) {
			e := obj.(*v1beta1.NuclioFunctionEvent)
			headers, ok := e.Spec.Attributes.Map("headers")
			if !ok || headers["X-Count"] != int64(2) || headers["Content-Type"] != "application/json" {
				t.Errorf("attributes.headers = %#v", e.Spec.Attributes["headers"])
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			obj := strictDecode(t, scheme, tc.data)
			tc.check(t, obj)

			// The same values must survive the internal version (what validation and storage see).
			internal, err := scheme.ConvertToVersion(obj.DeepCopyObject(), nuclio.SchemeGroupVersion)
			if err != nil {
				t.Fatal(err)
			}
			back, err := scheme.ConvertToVersion(internal, v1beta1.SchemeGroupVersion)
			if err != nil {
				t.Fatal(err)
			}
			if !apiequality.Semantic.DeepEqual(obj, back) {
				t.Errorf("v1beta1 → internal → v1beta1 changed the object:\n%s", cmp.Diff(obj, back))
			}

			want, got := asMap(t, []byte(tc.data)), asMap(t, encode(t, scheme, back))
			// ObjectMeta always writes creationTimestamp, null when unset; Nuclio's client does the same.
			if md, ok := got["metadata"].(map[string]interface{}); ok && md["creationTimestamp"] == nil {
				delete(md, "creationTimestamp")
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("re-encoded JSON differs (-sent +re-encoded):\n%s", diff)
			}
		})
	}
}

func checkFunction(t *testing.T, obj runtime.Object) {
	f := obj.(*v1beta1.NuclioFunction)
	kafka := f.Spec.Triggers["orders"]
	if kafka.TotalTasks != 12 || kafka.MaxTaskAllocation != 3 || kafka.NumWorkers != 4 || kafka.Class != "" || kafka.Kind != "kafka-cluster" {
		t.Errorf("kafka trigger = %+v", kafka)
	}
	if kafka.WorkerAvailabilityTimeoutMilliseconds == nil || *kafka.WorkerAvailabilityTimeoutMilliseconds != 10000 {
		t.Errorf("workerAvailabilityTimeoutMilliseconds = %v", kafka.WorkerAvailabilityTimeoutMilliseconds)
	}
	if len(kafka.Partitions) != 1 || kafka.Partitions[0].Checkpoint == nil || *kafka.Partitions[0].Checkpoint != "42" {
		t.Errorf("partitions = %+v", kafka.Partitions)
	}
	// Free-form numbers: integers are int64, fractions float64, as the Kubernetes JSON decoder gives them.
	wantAttrs := map[string]interface{}{
		"brokers":                       []interface{}{"kafka-0:9092", "kafka-1:9092"},
		"topics":                        []interface{}{"orders"},
		"consumerGroup":                 "g",
		"initialOffset":                 "earliest",
		"sasl":                          map[string]interface{}{"enable": true, "user": "u", "mechanism": "PLAIN", "oauth": map[string]interface{}{"scopes": []interface{}{"a", "b"}}},
		"maxWaitHandlerDuringRebalance": int64(5),
		"heartbeatRatio":                0.25,
		"fetchDefault":                  int64(1048576),
		"tls":                           nil,
	}
	if diff := cmp.Diff(wantAttrs, map[string]interface{}(kafka.Attributes)); diff != "" {
		t.Errorf("kafka attributes (-want +got):\n%s", diff)
	}
	http := f.Spec.Triggers["default-http"]
	if http.Attributes["port"] != int64(30080) || http.Batch == nil || http.Batch.BatchSize != 10 || http.Annotations["nginx.ingress.kubernetes.io/proxy-body-size"] != "8m" {
		t.Errorf("http trigger = %+v", http)
	}
	if ing, ok := http.Attributes.Map("ingresses"); !ok || ing["main"].(map[string]interface{})["pathType"] != "Prefix" {
		t.Errorf("http ingresses = %#v", http.Attributes["ingresses"])
	}
	if f.Spec.EventTimeout != "" || f.Spec.Version != -1 || f.Spec.Alias != "latest" {
		t.Errorf("eventTimeout/version/alias = %q/%d/%q", f.Spec.EventTimeout, f.Spec.Version, f.Spec.Alias)
	}
	b := f.Spec.Build
	if b.CodeEntryAttributes["depth"] != int64(1) || b.CodeEntryAttributes["workDir"] != "/src" || b.Timestamp != 1712345678 ||
		b.BuildTimeoutSeconds == nil || *b.BuildTimeoutSeconds != 1800 || len(b.Directives["preCopy"]) != 1 || !b.NoCache {
		t.Errorf("build = %+v", b)
	}
	if h, _ := b.CodeEntryAttributes.Map("headers"); h["Authorization"] != "$ref:/spec/build/codeentryattributes/headers/authorization" {
		t.Errorf("codeEntryAttributes.headers = %#v", b.CodeEntryAttributes["headers"])
	}
	if nested, _ := f.Spec.RuntimeAttributes.Map("nested"); nested["deep"].(map[string]interface{})["n"] != 1.5 {
		t.Errorf("runtimeAttributes = %#v", f.Spec.RuntimeAttributes)
	}
	if rp, _ := f.Spec.Platform.Attributes.Map("restartPolicy"); rp["maximumRetryCount"] != int64(3) {
		t.Errorf("platform.attributes = %#v", f.Spec.Platform.Attributes)
	}
	if f.Spec.DataBindings["db"].Attributes["containerID"] != int64(7) || f.Spec.DataBindings["db"].Class != "v3io" {
		t.Errorf("dataBindings = %+v", f.Spec.DataBindings)
	}
	if sr := f.Spec.ScaleToZero; sr == nil || len(sr.ScaleResources) != 1 || sr.ScaleResources[0].WindowSize != "5m" {
		t.Errorf("scaleToZero = %+v", sr)
	}
	if f.Spec.DisableDefaultHTTPTrigger == nil || *f.Spec.DisableDefaultHTTPTrigger {
		t.Errorf("disableDefaultHTTPTrigger = %v, want explicit false", f.Spec.DisableDefaultHTTPTrigger)
	}
	if f.Spec.Resources.Requests.Cpu().String() != "25m" || f.Spec.SecurityContext == nil || *f.Spec.SecurityContext.RunAsUser != 1000 {
		t.Errorf("resources/securityContext = %+v / %+v", f.Spec.Resources, f.Spec.SecurityContext)
	}

	s := f.Status
	if s.State != "ready" || s.HTTPPort != 30080 || len(s.Logs) != 2 || s.ScaleToZero == nil || s.ScaleToZero.LastScaleEventTime == nil {
		t.Fatalf("status = %+v", s)
	}
	if s.Logs[0]["more"] != "functionName=orders || numWorkers=4" || s.Logs[1]["time"] != 1712345678.5 || s.Logs[1]["retries"] != int64(2) {
		t.Errorf("status.logs = %#v", s.Logs)
	}
	if s.InternalInvocationURLs[0] != "nuclio-orders.nuclio.svc.cluster.local:8080" || s.EnrichedNodeSelector["pool"] != "cpu" {
		t.Errorf("status urls/nodeSelector = %+v", s)
	}
}
