// Copyright The nuclio-apiserver Authors.
// SPDX-License-Identifier: Apache-2.0

package main

import (
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/yaml"
)

const (
	// crdGroup is the group Nuclio's CRD is installed under, so that it does not collide with the
	// aggregated nuclio.io group served by nuclio-apiserver.
	crdGroup = "nucliocrd.io"
	// nuclioGroup is nuclio-apiserver's group.
	nuclioGroup = "nuclio.io"
	// apiVersionName is the version both groups serve.
	apiVersionName = "v1beta1"
	// resourceName is the plural both groups use.
	resourceName = "nucliofunctions"

	// payloadPlain is the fixture with triggers and no credentials: the masking webhook's match
	// conditions skip it, the policies still run.
	payloadPlain = "plain"
	// payloadCredentials adds trigger passwords: nuclio-webhook masks them and writes a Secret.
	payloadCredentials = "credentials"
)

// crdManifest is Nuclio's NuclioFunction CRD (nuclio/nuclio hack/k8s/helm/nuclio/templates/crd/
// function.yaml) under the group nucliocrd.io: no schema beyond spec and status preserving unknown
// fields, no status subresource, so a main-resource write persists status as in Nuclio.
const crdManifest = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: nucliofunctions.nucliocrd.io
spec:
  group: nucliocrd.io
  names:
    kind: NuclioFunction
    listKind: NuclioFunctionList
    plural: nucliofunctions
    singular: nucliofunction
    shortNames: [nufn]
    categories: [all]
  scope: Namespaced
  versions:
  - name: v1beta1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            x-kubernetes-preserve-unknown-fields: true
          status:
            type: object
            x-kubernetes-preserve-unknown-fields: true
`

// crdName is the CRD object's name.
const crdName = resourceName + "." + crdGroup

// gvr returns the nucliofunctions resource of group.
func gvr(group string) schema.GroupVersionResource {
	return schema.GroupVersionResource{Group: group, Version: apiVersionName, Resource: resourceName}
}

// Fixtures are the function objects every variant writes, identical but for apiVersion.
type Fixtures struct {
	// spec per payload; copied into every object.
	specs map[string]map[string]interface{}
	// Source names the Nuclio example the objects are built from.
	Source string
}

// fixtureDir is the Nuclio example used for every object.
const fixtureDir = "test/testdata/nuclio/python/helloworld"

// fixtureProject is the functions' project (label nuclio.io/project-name); nuclio-controller needs
// the NuclioProject to exist.
const fixtureProject = "bench"

// LoadFixtures reads Nuclio's python helloworld example (function.yaml and its source, inlined as
// build.functionSourceCode as `nuctl deploy` does) and adds the triggers a production function
// typically carries: http, cron and kafka. The credentials payload adds a Kafka SASL password and an
// MQTT trigger with a password, which nuclio-webhook masks into a Secret.
func LoadFixtures(repoRoot string) (*Fixtures, error) {
	dir := filepath.Join(repoRoot, fixtureDir)
	raw, err := os.ReadFile(filepath.Join(dir, "function.yaml"))
	if err != nil {
		return nil, err
	}
	var fn map[string]interface{}
	if err := yaml.Unmarshal(raw, &fn); err != nil {
		return nil, fmt.Errorf("%s: %w", dir, err)
	}
	src, err := os.ReadFile(filepath.Join(dir, "helloworld.py"))
	if err != nil {
		return nil, err
	}
	spec, ok := fn["spec"].(map[string]interface{})
	if !ok {
		return nil, fmt.Errorf("%s/function.yaml has no spec", dir)
	}
	spec["build"] = map[string]interface{}{
		"functionSourceCode": base64.StdEncoding.EncodeToString(src),
		"commands":           []interface{}{"pip install requests==2.32.3"},
	}
	spec["env"] = []interface{}{
		map[string]interface{}{"name": "LOG_LEVEL", "value": "info"},
		map[string]interface{}{"name": "TARGET_TOPIC", "value": "orders-processed"},
	}
	spec["resources"] = map[string]interface{}{
		"requests": map[string]interface{}{"cpu": "25m", "memory": "64Mi"},
		"limits":   map[string]interface{}{"cpu": "500m", "memory": "256Mi"},
	}
	spec["triggers"] = map[string]interface{}{
		"http": map[string]interface{}{
			"kind": "http", "numWorkers": int64(4),
			"attributes": map[string]interface{}{"serviceType": "ClusterIP"},
		},
		"cron": map[string]interface{}{
			"kind":       "cron",
			"attributes": map[string]interface{}{"interval": "30s", "event": map[string]interface{}{"body": "tick"}},
		},
		"orders": map[string]interface{}{
			"kind": "kafka-cluster", "numWorkers": int64(2),
			"attributes": map[string]interface{}{
				"brokers": []interface{}{"kafka-0.kafka.example.com:9092", "kafka-1.kafka.example.com:9092"},
				"topics":  []interface{}{"orders"}, "consumerGroup": "helloworld", "initialOffset": "earliest",
			},
		},
	}
	withCreds := runtime.DeepCopyJSON(spec)
	triggers := withCreds["triggers"].(map[string]interface{})
	triggers["orders"].(map[string]interface{})["attributes"].(map[string]interface{})["sasl"] =
		map[string]interface{}{"enable": true, "user": "orders-consumer", "password": "bench-kafka-password-1"}
	triggers["events"] = map[string]interface{}{
		"kind": "mqtt", "url": "tcp://mqtt.example.com:1883", "username": "helloworld",
		"password": "bench-mqtt-password-2",
		"attributes": map[string]interface{}{"subscriptions": []interface{}{
			map[string]interface{}{"topic": "devices/+/events", "qos": int64(1)},
		}},
	}
	return &Fixtures{
		specs:  map[string]map[string]interface{}{payloadPlain: spec, payloadCredentials: withCreds},
		Source: fixtureDir + " (python helloworld) + http, cron and kafka triggers",
	}, nil
}

// Function returns a new object named name in namespace for group with the given payload.
func (f *Fixtures) Function(group, namespace, name, payload string) *unstructured.Unstructured {
	return &unstructured.Unstructured{Object: map[string]interface{}{
		"apiVersion": group + "/" + apiVersionName,
		"kind":       "NuclioFunction",
		"metadata": map[string]interface{}{
			"name": name, "namespace": namespace,
			"labels": map[string]interface{}{"nuclio.io/project-name": fixtureProject, "app": "helloworld"},
		},
		"spec": runtime.DeepCopyJSON(f.specs[payload]),
	}}
}

// Size returns the JSON size in bytes of a payload's object, for the report.
func (f *Fixtures) Size(payload string) int {
	b, _ := f.Function(crdGroup, "ns", "name", payload).MarshalJSON()
	return len(b)
}
