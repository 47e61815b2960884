// Copyright The nuclio-apiserver Authors.
// SPDX-License-Identifier: Apache-2.0

package v1beta1

import (
	"k8s.io/apimachinery/pkg/runtime"
)

// Defaulting reproduces the part of Nuclio's enrichment that depends only on the object itself
// (nuclio/nuclio:pkg/platform/abstract/platform.go EnrichFunctionConfig, enrichTriggers,
// enrichMinMaxReplicas, enrichExplicitAckParams, enrichBatchParams; pkg/platform/kube/platform.go
// enrichAPIGatewayConfig). Enrichment that depends on a platform configuration (service type, resource
// requests, registry secrets, ingress host templates) belongs to the controller, which knows that
// configuration. Defaulters run on every decode, including objects read back from storage, so each one
// must be idempotent.

const (
	// DefaultPythonRuntime is what the bare `python` runtime means (nuclio-compat §2.2).
	DefaultPythonRuntime = "python:3.9"
	// DefaultWorkerTerminationTimeout is the stream triggers' workerTerminationTimeout.
	DefaultWorkerTerminationTimeout = "10s"
	// DefaultExplicitAckMode is the stream triggers' explicitAckMode.
	DefaultExplicitAckMode = "disable"
	// DefaultBatchSize is the batch size of an enabled batch without one.
	DefaultBatchSize = 10
	// DefaultBatchTimeout is the batch timeout of an enabled batch without one.
	DefaultBatchTimeout = "1s"
	// BatchModeEnable turns batching on.
	BatchModeEnable = "enable"
	// DefaultFunctionEventTriggerKind is a function event's triggerKind when empty.
	DefaultFunctionEventTriggerKind = TriggerKindHTTP
)

// streamTriggerKinds get explicit-ack and worker-termination defaults.
var streamTriggerKinds = map[string]bool{TriggerKindKafka: true, TriggerKindKafkaClstr: true, TriggerKindV3ioStream: true}

func addDefaultingFuncs(scheme *runtime.Scheme) error {
	return RegisterDefaults(scheme)
}

// SetDefaults_NuclioFunction applies Nuclio's object-local enrichment to a function.
func SetDefaults_NuclioFunction(obj *NuclioFunction) {
	defaultProjectLabel(&obj.Labels)
}

// SetDefaults_FunctionSpec defaults the runtime, replicas and triggers of a function spec.
func SetDefaults_FunctionSpec(spec *FunctionSpec) {
	if spec.Runtime == "python" {
		spec.Runtime = DefaultPythonRuntime
	}

	// If only one of min/max is set, copy it to the other. Nuclio copies a lone minReplicas of 0 as well and
	// then rejects maxReplicas 0; leaving max unset instead lets validation name the actual mistake
	// ("maxReplicas is required when minReplicas is 0").
	switch {
	case spec.MinReplicas == nil && spec.MaxReplicas != nil:
		v := *spec.MaxReplicas
		spec.MinReplicas = &v
	case spec.MaxReplicas == nil && spec.MinReplicas != nil && *spec.MinReplicas != 0:
		v := *spec.MinReplicas
		spec.MaxReplicas = &v
	}

	if !hasTriggerOfKind(spec.Triggers, TriggerKindHTTP) && (spec.DisableDefaultHTTPTrigger == nil || !*spec.DisableDefaultHTTPTrigger) {
		if spec.Triggers == nil {
			spec.Triggers = map[string]Trigger{}
		}
		// Only add it when the key is free: a non-http trigger named default-http is the user's to keep,
		// and validation reports the missing http trigger instead of this overwriting it.
		if _, taken := spec.Triggers[DefaultHTTPTriggerName]; !taken {
			spec.Triggers[DefaultHTTPTriggerName] = Trigger{Kind: TriggerKindHTTP, Name: DefaultHTTPTriggerName, NumWorkers: 1}
		}
	}

	for key, t := range spec.Triggers {
		defaultTrigger(key, &t)
		spec.Triggers[key] = t
	}
}

// defaultTrigger applies enrichTriggers' per-trigger rules.
func defaultTrigger(key string, t *Trigger) {
	if t.Name == "" {
		t.Name = key
	}
	if t.NumWorkers == 0 && t.MaxWorkers != 0 {
		t.NumWorkers = t.MaxWorkers
	}
	if (t.Kind == TriggerKindHTTP || t.Kind == TriggerKindV3ioStream) && t.NumWorkers == 0 {
		t.NumWorkers = 1
	}
	if streamTriggerKinds[t.Kind] {
		if t.ExplicitAckMode == "" {
			t.ExplicitAckMode = DefaultExplicitAckMode
		}
		if t.WorkerTerminationTimeout == "" {
			t.WorkerTerminationTimeout = DefaultWorkerTerminationTimeout
		}
	}
	if t.Batch != nil && t.Batch.Mode == BatchModeEnable {
		if t.Batch.BatchSize == 0 {
			t.Batch.BatchSize = DefaultBatchSize
		}
		if t.Batch.Timeout == "" {
			t.Batch.Timeout = DefaultBatchTimeout
		}
	}
}

func hasTriggerOfKind(triggers map[string]Trigger, kind string) bool {
	for _, t := range triggers {
		if t.Kind == kind {
			return true
		}
	}
	return false
}

// SetDefaults_NuclioAPIGateway defaults spec.name from metadata.name and the project label.
func SetDefaults_NuclioAPIGateway(obj *NuclioAPIGateway) {
	if obj.Spec.Name == "" {
		obj.Spec.Name = obj.Name
	}
	defaultProjectLabel(&obj.Labels)
}

// SetDefaults_NuclioFunctionEvent defaults displayName from metadata.name and triggerKind to http
// (nuclio/nuclio:pkg/platform/abstract/platform.go CreateFunctionEvent).
func SetDefaults_NuclioFunctionEvent(obj *NuclioFunctionEvent) {
	if obj.Spec.DisplayName == "" {
		obj.Spec.DisplayName = obj.Name
	}
	if obj.Spec.TriggerKind == "" {
		obj.Spec.TriggerKind = DefaultFunctionEventTriggerKind
	}
}

// defaultProjectLabel sets nuclio.io/project-name to "default" when it is missing or empty.
func defaultProjectLabel(labels *map[string]string) {
	if *labels == nil {
		*labels = map[string]string{}
	}
	if (*labels)[LabelProjectName] == "" {
		(*labels)[LabelProjectName] = DefaultProjectName
	}
}
