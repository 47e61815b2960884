// Copyright The nuclio-apiserver Authors.
// SPDX-License-Identifier: Apache-2.0

package validation_test

import (
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/utils/ptr"

	"github.com/nuclio-apiserver/nuclio-apiserver/apis/nuclio"
	"github.com/nuclio-apiserver/nuclio-apiserver/apis/nuclio/freeform"
	"github.com/nuclio-apiserver/nuclio-apiserver/apis/nuclio/validation"
)

// want is one expected error: its type and exact field path. Tests compare the complete set, so an extra
// error (a rule firing where it should not) fails as surely as a missing one.
type want struct {
	Type  field.ErrorType
	Field string
}

func got(list field.ErrorList) []want {
	out := make([]want, 0, len(list))
	for _, e := range list {
		out = append(out, want{e.Type, e.Field})
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Field != out[j].Field {
			return out[i].Field < out[j].Field
		}
		return out[i].Type < out[j].Type
	})
	return out
}

func check(t *testing.T, list field.ErrorList, expected []want) {
	t.Helper()
	sorted := append([]want{}, expected...)
	sort.Slice(sorted, func(i, j int) bool {
		if sorted[i].Field != sorted[j].Field {
			return sorted[i].Field < sorted[j].Field
		}
		return sorted[i].Type < sorted[j].Type
	})
	if diff := cmp.Diff(sorted, got(list)); diff != "" {
		t.Errorf("errors (-want +got):\n%s\nall errors: %v", diff, list)
	}
}

func invalid(f string) want      { return want{field.ErrorTypeInvalid, f} }
func required(f string) want     { return want{field.ErrorTypeRequired, f} }
func notSupported(f string) want { return want{field.ErrorTypeNotSupported, f} }
func forbidden(f string) want    { return want{field.ErrorTypeForbidden, f} }
func duplicate(f string) want    { return want{field.ErrorTypeDuplicate, f} }
func tooMany(f string) want      { return want{field.ErrorTypeTooMany, f} }

// validFunction is what a minimal function looks like after defaulting.
func validFunction() *nuclio.NuclioFunction {
	return &nuclio.NuclioFunction{
		ObjectMeta: metav1.ObjectMeta{Name: "f", Namespace: "ns", Labels: map[string]string{"nuclio.io/project-name": "default"}},
		Spec: nuclio.FunctionSpec{
			Runtime:     "python:3.9",
			Handler:     "main:handler",
			MinReplicas: ptr.To[int32](1),
			MaxReplicas: ptr.To[int32](1),
			Triggers:    map[string]nuclio.Trigger{"default-http": {Kind: "http", Name: "default-http", NumWorkers: 1}},
		},
	}
}

func trigger(kind, name string) nuclio.Trigger { return nuclio.Trigger{Kind: kind, Name: name} }

// setTrigger adds or replaces a trigger keyed by its name.
func setTrigger(f *nuclio.NuclioFunction, t nuclio.Trigger) { f.Spec.Triggers[t.Name] = t }

func TestValidateNuclioFunction(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(f *nuclio.NuclioFunction)
		want   []want
	}{
		{name: "minimal function is valid"},

		// metadata
		{name: "name must be a DNS label", mutate: func(f *nuclio.NuclioFunction) { f.Name = "My_Func" }, want: []want{invalid("metadata.name")}},
		{name: "name at the length limit", mutate: func(f *nuclio.NuclioFunction) { f.Name = strings.Repeat("a", 56) }},
		{name: "name over the length limit", mutate: func(f *nuclio.NuclioFunction) { f.Name = strings.Repeat("a", 57) }, want: []want{invalid("metadata.name")}},
		{name: "reserved name", mutate: func(f *nuclio.NuclioFunction) { f.Name = "dashboard" }, want: []want{invalid("metadata.name")}},
		{name: "namespace is required", mutate: func(f *nuclio.NuclioFunction) { f.Namespace = "" }, want: []want{required("metadata.namespace")}},
		{name: "project label must name a project", mutate: func(f *nuclio.NuclioFunction) { f.Labels["nuclio.io/project-name"] = "My.Project" },
			want: []want{invalid("metadata.labels[nuclio.io/project-name]")}},

		// handler
		{name: "handler without module", mutate: func(f *nuclio.NuclioFunction) { f.Spec.Handler = "handler" }},
		{name: "handler with two colons", mutate: func(f *nuclio.NuclioFunction) { f.Spec.Handler = "a:b:c" }, want: []want{invalid("spec.handler")}},
		{name: "handler with empty module", mutate: func(f *nuclio.NuclioFunction) { f.Spec.Handler = ":handler" }, want: []want{invalid("spec.handler")}},
		{name: "handler with empty entrypoint", mutate: func(f *nuclio.NuclioFunction) { f.Spec.Handler = "main:" }, want: []want{invalid("spec.handler")}},

		// runtime
		{name: "supported runtimes", mutate: func(f *nuclio.NuclioFunction) { f.Spec.Runtime = "dotnetcore" }},
		{name: "deprecated runtime is valid (warning only)", mutate: func(f *nuclio.NuclioFunction) { f.Spec.Runtime = "python:3.8" }},
		{name: "python:3.6 is rejected", mutate: func(f *nuclio.NuclioFunction) { f.Spec.Runtime = "python:3.6" }, want: []want{invalid("spec.runtime")}},
		{name: "unknown runtime", mutate: func(f *nuclio.NuclioFunction) { f.Spec.Runtime = "cobol" }, want: []want{notSupported("spec.runtime")}},
		{name: "no runtime with a build path (runtime detected at build)", mutate: func(f *nuclio.NuclioFunction) {
			f.Spec.Runtime, f.Spec.Build.Path = "", "https://example.com/f.zip"
		}},
		{name: "pre-built image needs a runtime", mutate: func(f *nuclio.NuclioFunction) {
			f.Spec.Runtime, f.Spec.Image = "", "registry.example.com/f:1"
		}, want: []want{required("spec.runtime")}},
		{name: "inline source needs a runtime", mutate: func(f *nuclio.NuclioFunction) {
			f.Spec.Runtime, f.Spec.Build.FunctionSourceCode = "", "cHJpbnQoMSk="
		}, want: []want{required("spec.runtime")}},

		// replicas
		{name: "replicas 0 is valid", mutate: func(f *nuclio.NuclioFunction) { f.Spec.Replicas = ptr.To[int32](0) }},
		{name: "negative replicas", mutate: func(f *nuclio.NuclioFunction) { f.Spec.Replicas = ptr.To[int32](-1) }, want: []want{invalid("spec.replicas")}},
		{name: "negative minReplicas", mutate: func(f *nuclio.NuclioFunction) { f.Spec.MinReplicas = ptr.To[int32](-1) }, want: []want{invalid("spec.minReplicas")}},
		{name: "maxReplicas 0", mutate: func(f *nuclio.NuclioFunction) { f.Spec.MinReplicas, f.Spec.MaxReplicas = nil, ptr.To[int32](0) },
			want: []want{invalid("spec.maxReplicas")}},
		{name: "minReplicas 0 without maxReplicas", mutate: func(f *nuclio.NuclioFunction) { f.Spec.MinReplicas, f.Spec.MaxReplicas = ptr.To[int32](0), nil },
			want: []want{required("spec.maxReplicas")}},
		{name: "scale to zero with a bound", mutate: func(f *nuclio.NuclioFunction) {
			f.Spec.MinReplicas, f.Spec.MaxReplicas = ptr.To[int32](0), ptr.To[int32](4)
		}},
		{name: "min above max", mutate: func(f *nuclio.NuclioFunction) {
			f.Spec.MinReplicas, f.Spec.MaxReplicas = ptr.To[int32](3), ptr.To[int32](2)
		},
			want: []want{invalid("spec.minReplicas")}},
		{name: "scale to zero needs an http trigger", mutate: func(f *nuclio.NuclioFunction) {
			f.Spec.MinReplicas, f.Spec.MaxReplicas = ptr.To[int32](0), ptr.To[int32](2)
			f.Spec.DisableDefaultHTTPTrigger = ptr.To(true)
			f.Spec.Triggers = map[string]nuclio.Trigger{"tick": trigger("cron", "tick")}
		}, want: []want{invalid("spec.minReplicas")}},
		{name: "scale to zero with a user http trigger", mutate: func(f *nuclio.NuclioFunction) {
			f.Spec.MinReplicas, f.Spec.MaxReplicas = ptr.To[int32](0), ptr.To[int32](2)
			f.Spec.DisableDefaultHTTPTrigger = ptr.To(true)
			f.Spec.Triggers = map[string]nuclio.Trigger{"web": trigger("http", "web")}
		}},

		// triggers
		{name: "empty trigger key", mutate: func(f *nuclio.NuclioFunction) { f.Spec.Triggers[""] = trigger("cron", "") }, want: []want{invalid("spec.triggers")}},
		{name: "trigger name differs from key", mutate: func(f *nuclio.NuclioFunction) { f.Spec.Triggers["a"] = trigger("cron", "b") },
			want: []want{invalid("spec.triggers[a].name")}},
		{name: "trigger kind is required", mutate: func(f *nuclio.NuclioFunction) { setTrigger(f, trigger("", "a")) }, want: []want{required("spec.triggers[a].kind")}},
		{name: "numWorkers at the limit", mutate: func(f *nuclio.NuclioFunction) {
			tr := trigger("kafka-cluster", "kafka")
			tr.NumWorkers = 100000
			setTrigger(f, tr)
		}},
		{name: "numWorkers over the limit", mutate: func(f *nuclio.NuclioFunction) {
			tr := trigger("kafka-cluster", "kafka")
			tr.NumWorkers = 100001
			setTrigger(f, tr)
		}, want: []want{invalid("spec.triggers[kafka].numWorkers")}},
		{name: "negative numWorkers", mutate: func(f *nuclio.NuclioFunction) {
			tr := trigger("cron", "c")
			tr.NumWorkers = -1
			setTrigger(f, tr)
		}, want: []want{invalid("spec.triggers[c].numWorkers")}},
		{name: "unknown explicitAckMode", mutate: func(f *nuclio.NuclioFunction) {
			tr := trigger("kafka-cluster", "k")
			tr.ExplicitAckMode = "sometimes"
			setTrigger(f, tr)
		}, want: []want{notSupported("spec.triggers[k].explicitAckMode")}},
		{name: "durations of a trigger", mutate: func(f *nuclio.NuclioFunction) {
			tr := trigger("kafka-cluster", "k")
			tr.WorkerTerminationTimeout, tr.WaitExplicitAckDuringRebalanceTimeout = "10", "soon"
			setTrigger(f, tr)
		}, want: []want{invalid("spec.triggers[k].workerTerminationTimeout"), invalid("spec.triggers[k].waitExplicitAckDuringRebalanceTimeout")}},
		{name: "valid durations of a trigger", mutate: func(f *nuclio.NuclioFunction) {
			tr := trigger("kafka-cluster", "k")
			tr.WorkerTerminationTimeout, tr.WaitExplicitAckDuringRebalanceTimeout = "10s", "1m30s"
			setTrigger(f, tr)
		}},
		{name: "negative workerAvailabilityTimeoutMilliseconds", mutate: func(f *nuclio.NuclioFunction) {
			tr := trigger("cron", "c")
			tr.WorkerAvailabilityTimeoutMilliseconds = ptr.To[int32](-1)
			setTrigger(f, tr)
		}, want: []want{invalid("spec.triggers[c].workerAvailabilityTimeoutMilliseconds")}},
		{name: "a non-http trigger named default-http needs the default trigger disabled", mutate: func(f *nuclio.NuclioFunction) {
			// Defaulting keeps the user's trigger instead of overwriting it as Nuclio would, so the
			// function would silently run without the http trigger it was promised.
			f.Spec.Triggers = map[string]nuclio.Trigger{"default-http": trigger("cron", "default-http")}
		}, want: []want{invalid("spec.triggers[default-http].kind")}},
		{name: "a non-http trigger named default-http with the default trigger disabled", mutate: func(f *nuclio.NuclioFunction) {
			f.Spec.DisableDefaultHTTPTrigger = ptr.To(true)
			f.Spec.Triggers = map[string]nuclio.Trigger{"default-http": trigger("cron", "default-http")}
		}},
		{name: "a non-http trigger named default-http beside a user http trigger", mutate: func(f *nuclio.NuclioFunction) {
			f.Spec.Triggers = map[string]nuclio.Trigger{"default-http": trigger("cron", "default-http"), "web": trigger("http", "web")}
		}},
		{name: "second http trigger", mutate: func(f *nuclio.NuclioFunction) { setTrigger(f, trigger("http", "web")) },
			// keys are visited in order: default-http is the first http trigger, web the extra one
			want: []want{forbidden("spec.triggers[web].kind")}},

		// http attributes
		{name: "http attributes that the controller reads", mutate: func(f *nuclio.NuclioFunction) {
			tr := f.Spec.Triggers["default-http"]
			tr.Attributes = freeform.Object{
				"serviceType": "NodePort",
				"port":        int64(30080),
				"ingresses": map[string]interface{}{
					"main":     map[string]interface{}{"host": "f.example.com", "paths": []interface{}{"/", "/api"}},
					"wildcard": map[string]interface{}{"host": "*.example.com"},
					"template": map[string]interface{}{"hostTemplate": "@nuclio.fromDefault", "host": ""},
				},
			}
			setTrigger(f, tr)
		}},
		{name: "port as a whole float (JSON number from another decoder)", mutate: func(f *nuclio.NuclioFunction) {
			tr := f.Spec.Triggers["default-http"]
			tr.Attributes = freeform.Object{"port": float64(30080)}
			setTrigger(f, tr)
		}},
		{name: "bad http attributes", mutate: func(f *nuclio.NuclioFunction) {
			tr := f.Spec.Triggers["default-http"]
			tr.Attributes = freeform.Object{
				"serviceType": "LoadBalancer",
				"port":        int64(70000),
				"ingresses": map[string]interface{}{
					"a": "not an object",
					"b": map[string]interface{}{"host": "Bad_Host", "paths": []interface{}{"/", int64(3)}},
					"c": map[string]interface{}{"host": int64(1), "paths": "/"},
				},
			}
			setTrigger(f, tr)
		}, want: []want{
			notSupported("spec.triggers[default-http].attributes.serviceType"),
			invalid("spec.triggers[default-http].attributes.port"),
			invalid("spec.triggers[default-http].attributes.ingresses[a]"),
			invalid("spec.triggers[default-http].attributes.ingresses[b].host"),
			invalid("spec.triggers[default-http].attributes.ingresses[b].paths[1]"),
			invalid("spec.triggers[default-http].attributes.ingresses[c].host"),
			invalid("spec.triggers[default-http].attributes.ingresses[c].paths"),
		}},
		{name: "port as a string", mutate: func(f *nuclio.NuclioFunction) {
			tr := f.Spec.Triggers["default-http"]
			tr.Attributes = freeform.Object{"port": "8080", "serviceType": int64(1)}
			setTrigger(f, tr)
		}, want: []want{invalid("spec.triggers[default-http].attributes.port"), notSupported("spec.triggers[default-http].attributes.serviceType")}},
		{name: "ingresses as a list", mutate: func(f *nuclio.NuclioFunction) {
			tr := f.Spec.Triggers["default-http"]
			tr.Attributes = freeform.Object{"ingresses": []interface{}{map[string]interface{}{"host": "a.example.com"}}}
			setTrigger(f, tr)
		}, want: []want{invalid("spec.triggers[default-http].attributes.ingresses")}},

		// explicit ack and worker allocation
		{name: "explicit ack with the pool allocation annotation", mutate: func(f *nuclio.NuclioFunction) {
			f.Annotations = map[string]string{"nuclio.io/kafka-worker-allocation-mode": "pool"}
			tr := trigger("kafka-cluster", "k")
			tr.ExplicitAckMode = "enable"
			setTrigger(f, tr)
		}, want: []want{invalid("spec.triggers[k].explicitAckMode")}},
		{name: "explicitOnly with the pool allocation attribute", mutate: func(f *nuclio.NuclioFunction) {
			tr := trigger("v3ioStream", "v")
			tr.ExplicitAckMode = "explicitOnly"
			tr.Attributes = freeform.Object{"workerAllocationMode": "pool"}
			setTrigger(f, tr)
		}, want: []want{invalid("spec.triggers[v].explicitAckMode")}},
		{name: "the trigger attribute wins over the annotation", mutate: func(f *nuclio.NuclioFunction) {
			f.Annotations = map[string]string{"nuclio.io/kafka-worker-allocation-mode": "pool"}
			tr := trigger("kafka", "k")
			tr.ExplicitAckMode = "enable"
			tr.Attributes = freeform.Object{"workerAllocationMode": "static"}
			setTrigger(f, tr)
		}},
		{name: "explicit ack disabled with pool allocation", mutate: func(f *nuclio.NuclioFunction) {
			f.Annotations = map[string]string{"nuclio.io/kafka-worker-allocation-mode": "pool"}
			tr := trigger("kafka-cluster", "k")
			tr.ExplicitAckMode = "disable"
			setTrigger(f, tr)
		}},
		{name: "the v3io annotation does not apply to kafka", mutate: func(f *nuclio.NuclioFunction) {
			f.Annotations = map[string]string{"nuclio.io/v3iostream-worker-allocation-mode": "pool"}
			tr := trigger("kafka-cluster", "k")
			tr.ExplicitAckMode = "enable"
			setTrigger(f, tr)
		}},

		// v3ioStream and autoscaling
		{name: "v3ioStream needs min == max", mutate: func(f *nuclio.NuclioFunction) {
			f.Spec.MinReplicas, f.Spec.MaxReplicas = ptr.To[int32](1), ptr.To[int32](3)
			setTrigger(f, trigger("v3ioStream", "v"))
		}, want: []want{invalid("spec.maxReplicas")}},
		{name: "v3ioStream with fixed replicas", mutate: func(f *nuclio.NuclioFunction) {
			f.Spec.MinReplicas, f.Spec.MaxReplicas = ptr.To[int32](2), ptr.To[int32](2)
			setTrigger(f, trigger("v3ioStream", "v"))
		}},

		// batch
		{name: "enabled batch with defaults", mutate: func(f *nuclio.NuclioFunction) {
			tr := f.Spec.Triggers["default-http"]
			tr.Batch = &nuclio.BatchConfiguration{Mode: "enable", BatchSize: 10, Timeout: "1s"}
			setTrigger(f, tr)
		}},
		{name: "unknown batch mode", mutate: func(f *nuclio.NuclioFunction) {
			tr := f.Spec.Triggers["default-http"]
			tr.Batch = &nuclio.BatchConfiguration{Mode: "on"}
			setTrigger(f, tr)
		}, want: []want{notSupported("spec.triggers[default-http].batch.mode")}},
		{name: "enabled batch with bad size and timeout", mutate: func(f *nuclio.NuclioFunction) {
			tr := f.Spec.Triggers["default-http"]
			tr.Batch = &nuclio.BatchConfiguration{Mode: "enable", BatchSize: -1, Timeout: "1"}
			setTrigger(f, tr)
		}, want: []want{invalid("spec.triggers[default-http].batch.batchSize"), invalid("spec.triggers[default-http].batch.timeout")}},
		{name: "disabled batch is not checked", mutate: func(f *nuclio.NuclioFunction) {
			tr := f.Spec.Triggers["default-http"]
			tr.Batch = &nuclio.BatchConfiguration{Mode: "disable", BatchSize: -1, Timeout: "1"}
			setTrigger(f, tr)
		}},

		// data bindings
		{name: "empty data binding key", mutate: func(f *nuclio.NuclioFunction) {
			f.Spec.DataBindings = map[string]nuclio.DataBinding{"": {Class: "v3io"}, "db": {Class: "v3io"}}
		}, want: []want{invalid("spec.dataBindings")}},

		// image references
		{name: "valid image references", mutate: func(f *nuclio.NuclioFunction) {
			f.Spec.Image = "registry.example.com:5000/nuclio/processor-f:latest"
			f.Spec.RunRegistry = "registry.example.com:5000/"
			f.Spec.Build.Image = "nuclio/processor-f"
			f.Spec.Build.Registry = "docker.io/team/"
			f.Spec.Build.BaseImageRegistry = "quay.io"
			f.Spec.Build.BaseImage = "python:3.9-slim"
			f.Spec.Build.OnbuildImage = "quay.io/nuclio/handler-builder-python-onbuild:{{ .Label }}-{{ .Arch }}"
		}},
		{name: "malformed image references", mutate: func(f *nuclio.NuclioFunction) {
			f.Spec.Image = "Registry/Image"
			f.Spec.RunRegistry = "bad registry"
			f.Spec.Build.Image = "a:b:c"
			f.Spec.Build.Registry = "docker.io/Team/"
			f.Spec.Build.BaseImageRegistry = "x;rm -rf"
			f.Spec.Build.BaseImage = "img@sha256:short"
		}, want: []want{
			invalid("spec.image"), invalid("spec.runRegistry"), invalid("spec.build.image"),
			invalid("spec.build.registry"), invalid("spec.build.baseImageRegistry"), invalid("spec.build.baseImage"),
		}},
		{name: "onbuildImage with an unknown template key", mutate: func(f *nuclio.NuclioFunction) {
			f.Spec.Build.OnbuildImage = "quay.io/x:{{ .Version }}"
		}, want: []want{invalid("spec.build.onbuildImage")}},
		{name: "onbuildImage that renders to a bad reference", mutate: func(f *nuclio.NuclioFunction) {
			f.Spec.Build.OnbuildImage = "quay.io/X:{{ .Label }}"
		}, want: []want{invalid("spec.build.onbuildImage")}},
		{name: "onbuildImage that does not parse as a template", mutate: func(f *nuclio.NuclioFunction) {
			f.Spec.Build.OnbuildImage = "quay.io/x:{{ .Label"
		}, want: []want{invalid("spec.build.onbuildImage")}},

		// build
		{name: "valid build", mutate: func(f *nuclio.NuclioFunction) {
			f.Spec.Build = nuclio.Build{
				CodeEntryType:       "git",
				Path:                "https://github.com/nuclio/nuclio.git",
				Mode:                "alwaysBuild",
				FunctionSourceCode:  "cHJpbnQoMSk=",
				BuildTimeoutSeconds: ptr.To[int64](0),
				Directives:          map[string][]nuclio.Directive{"preCopy": {{Kind: "RUN", Value: "true"}}, "postCopy": nil},
				CodeEntryAttributes: freeform.Object{"workDir": "/src", "branch": "main", "headers": map[string]interface{}{"Authorization": "token"}},
			}
		}},
		{name: "bad build", mutate: func(f *nuclio.NuclioFunction) {
			f.Spec.Build = nuclio.Build{
				CodeEntryType:       "ftp",
				Mode:                "sometimes",
				FunctionSourceCode:  "not base64!",
				BuildTimeoutSeconds: ptr.To[int64](-1),
				Directives:          map[string][]nuclio.Directive{"midCopy": nil},
			}
		}, want: []want{
			notSupported("spec.build.codeEntryType"), notSupported("spec.build.mode"), invalid("spec.build.functionSourceCode"),
			invalid("spec.build.buildTimeoutSeconds"), notSupported("spec.build.directives[midCopy]"),
		}},
		{name: "bad code entry attributes", mutate: func(f *nuclio.NuclioFunction) {
			f.Spec.Build.CodeEntryAttributes = freeform.Object{"workDir": int64(1), "headers": map[string]interface{}{"Authorization": int64(1), "X-Ok": "v"}}
		}, want: []want{invalid("spec.build.codeEntryAttributes.workDir"), invalid("spec.build.codeEntryAttributes.headers[Authorization]")}},
		{name: "headers that are not a map", mutate: func(f *nuclio.NuclioFunction) {
			f.Spec.Build.CodeEntryAttributes = freeform.Object{"headers": []interface{}{"Authorization: x"}}
		}, want: []want{invalid("spec.build.codeEntryAttributes.headers")}},

		// volumes
		{name: "matching volume and mount", mutate: func(f *nuclio.NuclioFunction) {
			f.Spec.Volumes = []nuclio.Volume{{
				Volume:      corev1.Volume{Name: "data", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}},
				VolumeMount: corev1.VolumeMount{Name: "data", MountPath: "/data"},
			}}
		}},
		{name: "volume names", mutate: func(f *nuclio.NuclioFunction) {
			f.Spec.Volumes = []nuclio.Volume{
				{VolumeMount: corev1.VolumeMount{MountPath: "/a"}},
				{Volume: corev1.Volume{Name: "b"}, VolumeMount: corev1.VolumeMount{Name: "c", MountPath: "/b"}},
			}
		}, want: []want{required("spec.volumes[0].volume.name"), required("spec.volumes[0].volumeMount.name"), invalid("spec.volumes[1].volumeMount.name")}},
		{name: "two mounts of one volume must agree on it", mutate: func(f *nuclio.NuclioFunction) {
			f.Spec.Volumes = []nuclio.Volume{
				{Volume: corev1.Volume{Name: "v", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}}, VolumeMount: corev1.VolumeMount{Name: "v", MountPath: "/a"}},
				{Volume: corev1.Volume{Name: "v", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{}}}, VolumeMount: corev1.VolumeMount{Name: "v", MountPath: "/b"}},
				{Volume: corev1.Volume{Name: "v", VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/"}}}, VolumeMount: corev1.VolumeMount{Name: "v", MountPath: "/c"}},
			}
		}, want: []want{invalid("spec.volumes[2].volume")}},

		// sidecars and init containers
		{name: "valid sidecar and init container", mutate: func(f *nuclio.NuclioFunction) {
			f.Spec.Sidecars = []corev1.Container{{Name: "proxy", Image: "envoy", Ports: []corev1.ContainerPort{{Name: "admin", ContainerPort: 9901}}}}
			// init containers may use the processor's ports: they finish before it starts
			f.Spec.InitContainers = []corev1.Container{{Name: "init", Image: "busybox", Ports: []corev1.ContainerPort{{Name: "http", ContainerPort: 8080}}}}
		}},
		{name: "sidecar name and image", mutate: func(f *nuclio.NuclioFunction) {
			f.Spec.Sidecars = []corev1.Container{{}, {Name: "Bad_Name", Image: "x"}}
		}, want: []want{required("spec.sidecars[0].name"), required("spec.sidecars[0].image"), invalid("spec.sidecars[1].name")}},
		{name: "sidecar ports", mutate: func(f *nuclio.NuclioFunction) {
			f.Spec.Sidecars = []corev1.Container{{Name: "s", Image: "x", Ports: []corev1.ContainerPort{
				{Name: "a", ContainerPort: 8080},
				{Name: "http", ContainerPort: 9000},
				{Name: "b", ContainerPort: 9000},
				{Name: "b", ContainerPort: 0},
				{ContainerPort: 9100},
			}}}
		}, want: []want{
			forbidden("spec.sidecars[0].ports[0].containerPort"),
			forbidden("spec.sidecars[0].ports[1].name"),
			duplicate("spec.sidecars[0].ports[2].containerPort"),
			invalid("spec.sidecars[0].ports[3].containerPort"),
			duplicate("spec.sidecars[0].ports[3].name"),
			required("spec.sidecars[0].ports[4].name"),
		}},
		{name: "init container name and image", mutate: func(f *nuclio.NuclioFunction) {
			f.Spec.InitContainers = []corev1.Container{{Name: "ok"}, {Image: "x"}}
		}, want: []want{required("spec.initContainers[0].image"), required("spec.initContainers[1].name")}},

		// autoscale metrics
		{name: "valid autoscale metric", mutate: func(f *nuclio.NuclioFunction) {
			f.Spec.AutoScaleMetrics = []nuclio.AutoScaleMetric{{ScaleResource: nuclio.ScaleResource{MetricName: "cpu", Threshold: 70}, SourceType: "Resource", DisplayType: "percentage"}}
		}},
		{name: "bad autoscale metrics", mutate: func(f *nuclio.NuclioFunction) {
			f.Spec.AutoScaleMetrics = []nuclio.AutoScaleMetric{
				{},
				{ScaleResource: nuclio.ScaleResource{MetricName: "m", Threshold: 1}, SourceType: "Cluster", DisplayType: "float"},
			}
		}, want: []want{
			required("spec.autoScaleMetrics[0].metricName"), required("spec.autoScaleMetrics[0].sourceType"), invalid("spec.autoScaleMetrics[0].threshold"),
			notSupported("spec.autoScaleMetrics[1].sourceType"), notSupported("spec.autoScaleMetrics[1].displayType"),
		}},

		// scalar fields
		{name: "node selector keys are label keys", mutate: func(f *nuclio.NuclioFunction) { f.Spec.NodeSelector = map[string]string{"bad key": "v"} },
			want: []want{invalid("spec.nodeSelector")}},
		{name: "eventTimeout", mutate: func(f *nuclio.NuclioFunction) { f.Spec.EventTimeout = "30s" }},
		{name: "eventTimeout not a duration", mutate: func(f *nuclio.NuclioFunction) { f.Spec.EventTimeout = "30" }, want: []want{invalid("spec.eventTimeout")}},
		{name: "eventTimeout zero", mutate: func(f *nuclio.NuclioFunction) { f.Spec.EventTimeout = "0s" }, want: []want{invalid("spec.eventTimeout")}},
		{name: "eventTimeout negative", mutate: func(f *nuclio.NuclioFunction) { f.Spec.EventTimeout = "-1s" }, want: []want{invalid("spec.eventTimeout")}},
		{name: "serviceType NodePort", mutate: func(f *nuclio.NuclioFunction) { f.Spec.ServiceType = corev1.ServiceTypeNodePort }},
		{name: "serviceType LoadBalancer", mutate: func(f *nuclio.NuclioFunction) { f.Spec.ServiceType = corev1.ServiceTypeLoadBalancer },
			want: []want{notSupported("spec.serviceType")}},
		{name: "imagePullPolicy", mutate: func(f *nuclio.NuclioFunction) { f.Spec.ImagePullPolicy = "Sometimes" }, want: []want{notSupported("spec.imagePullPolicy")}},
		{name: "preemptionMode", mutate: func(f *nuclio.NuclioFunction) { f.Spec.PreemptionMode = "always" }, want: []want{notSupported("spec.preemptionMode")}},
		{name: "valid preemptionMode", mutate: func(f *nuclio.NuclioFunction) { f.Spec.PreemptionMode = "prevent" }},
		{name: "negative readinessTimeoutSeconds", mutate: func(f *nuclio.NuclioFunction) { f.Spec.ReadinessTimeoutSeconds = -1 },
			want: []want{invalid("spec.readinessTimeoutSeconds")}},
		{name: "targetCPU 100", mutate: func(f *nuclio.NuclioFunction) { f.Spec.TargetCPU = 100 }},
		{name: "targetCPU over 100", mutate: func(f *nuclio.NuclioFunction) { f.Spec.TargetCPU = 101 }, want: []want{invalid("spec.targetCPU")}},
		{name: "negative targetCPU", mutate: func(f *nuclio.NuclioFunction) { f.Spec.TargetCPU = -1 }, want: []want{invalid("spec.targetCPU")}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := validFunction()
			if tc.mutate != nil {
				tc.mutate(f)
			}
			check(t, validation.ValidateNuclioFunction(f), tc.want)

			// An update runs the same spec rules (Nuclio validates every deploy in full).
			old := validFunction()
			old.Name, old.Namespace, old.ResourceVersion = f.Name, f.Namespace, "1"
			f.ResourceVersion = "1"
			var updateWant []want
			for _, w := range tc.want {
				// metadata.name and metadata.namespace are not re-validated on update, only compared.
				if w.Field != "metadata.name" && w.Field != "metadata.namespace" {
					updateWant = append(updateWant, w)
				}
			}
			check(t, validation.ValidateNuclioFunctionUpdate(f, old), updateWant)
		})
	}
}

func TestValidateNuclioFunctionUpdateImmutableMetadata(t *testing.T) {
	old := validFunction()
	old.ResourceVersion = "1"
	f := old.DeepCopy()
	f.Name = "g"
	check(t, validation.ValidateNuclioFunctionUpdate(f, old), []want{invalid("metadata.name")})
}

func TestFunctionWarnings(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(f *nuclio.NuclioFunction)
		want   []string
	}{
		{name: "no warnings"},
		{name: "python 3.7", mutate: func(f *nuclio.NuclioFunction) { f.Spec.Runtime = "python:3.7" },
			want: []string{"spec.runtime: python:3.7 is deprecated by Nuclio; use python:3.9 or newer"}},
		{name: "python 3.8", mutate: func(f *nuclio.NuclioFunction) { f.Spec.Runtime = "python:3.8" },
			want: []string{"spec.runtime: python:3.8 is deprecated by Nuclio; use python:3.9 or newer"}},
		{name: "github code entry", mutate: func(f *nuclio.NuclioFunction) { f.Spec.Build.CodeEntryType = "github" },
			want: []string{"spec.build.codeEntryType: the github code entry type is deprecated (removal planned in Nuclio 1.16); use git"}},
		{name: "maxWorkers, in key order", mutate: func(f *nuclio.NuclioFunction) {
			for _, k := range []string{"b", "a"} {
				tr := trigger("cron", k)
				tr.MaxWorkers = 2
				setTrigger(f, tr)
			}
		}, want: []string{
			"spec.triggers[a].maxWorkers: maxWorkers is deprecated; use numWorkers",
			"spec.triggers[b].maxWorkers: maxWorkers is deprecated; use numWorkers",
		}},
		{name: "legacy serviceType", mutate: func(f *nuclio.NuclioFunction) { f.Spec.ServiceType = corev1.ServiceTypeClusterIP },
			want: []string{"spec.serviceType: deprecated; set attributes.serviceType on the http trigger"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := validFunction()
			if tc.mutate != nil {
				tc.mutate(f)
			}
			if diff := cmp.Diff(tc.want, validation.FunctionWarnings(f)); diff != "" {
				t.Errorf("warnings (-want +got):\n%s", diff)
			}
			// A warning is never also an error.
			check(t, validation.ValidateNuclioFunction(f), nil)
		})
	}
}

func TestValidateNuclioFunctionStatusUpdate(t *testing.T) {
	cond := func(typ string) metav1.Condition {
		return metav1.Condition{Type: typ, Status: metav1.ConditionTrue, Reason: "Done", LastTransitionTime: metav1.Unix(1, 0)}
	}
	tests := []struct {
		name   string
		mutate func(f *nuclio.NuclioFunction)
		want   []want
	}{
		{name: "full valid status", mutate: func(f *nuclio.NuclioFunction) {
			f.Status = nuclio.FunctionStatus{
				State: "ready", Replicas: 2, ReadyReplicas: 1, HTTPPort: 30080, ObservedGeneration: 3,
				ScaleToZero: &nuclio.ScaleToZeroStatus{LastScaleEvent: "scaleFromZeroCompleted"},
				Conditions:  []metav1.Condition{cond("Built"), cond("Deployed"), cond("Ready")},
			}
		}},
		{name: "negative counters", mutate: func(f *nuclio.NuclioFunction) {
			f.Status = nuclio.FunctionStatus{Replicas: -1, ReadyReplicas: -1, HTTPPort: -1, ObservedGeneration: -1}
		}, want: []want{invalid("status.replicas"), invalid("status.readyReplicas"), invalid("status.httpPort"), invalid("status.observedGeneration")}},
		{name: "unknown scale event", mutate: func(f *nuclio.NuclioFunction) {
			f.Status.ScaleToZero = &nuclio.ScaleToZeroStatus{LastScaleEvent: "scaledSideways"}
		}, want: []want{notSupported("status.scaleToZero.lastScaleEvent")}},
		{name: "bad and duplicate conditions", mutate: func(f *nuclio.NuclioFunction) {
			bad := cond("Ready")
			bad.Status = "Maybe"
			f.Status.Conditions = []metav1.Condition{cond("Built"), cond("Built"), bad}
		}, want: []want{duplicate("status.conditions[1]"), notSupported("status.conditions[2].status")}},
		{name: "status writes cannot rename", mutate: func(f *nuclio.NuclioFunction) { f.Name = "other" }, want: []want{invalid("metadata.name")}},
		{name: "status writes do not re-validate the spec", mutate: func(f *nuclio.NuclioFunction) { f.Spec.Runtime = "cobol" }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			old := validFunction()
			old.ResourceVersion = "1"
			f := old.DeepCopy()
			tc.mutate(f)
			check(t, validation.ValidateNuclioFunctionStatusUpdate(f, old), tc.want)
		})
	}
}

func TestValidateNuclioProject(t *testing.T) {
	valid := func() *nuclio.NuclioProject {
		return &nuclio.NuclioProject{ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "ns", ResourceVersion: "1"},
			Spec: nuclio.ProjectSpec{Description: "d", Owner: "me", DefaultFunctionNodeSelector: map[string]string{"pool": "gpu"}}}
	}
	tests := []struct {
		name   string
		mutate func(p *nuclio.NuclioProject)
		want   []want
	}{
		{name: "valid project"},
		{name: "name must be a DNS label", mutate: func(p *nuclio.NuclioProject) { p.Name = "a.b" }, want: []want{invalid("metadata.name")}},
		{name: "node selector", mutate: func(p *nuclio.NuclioProject) {
			p.Spec.DefaultFunctionNodeSelector = map[string]string{"k": "bad value!"}
		},
			want: []want{invalid("spec.defaultFunctionNodeSelector")}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := valid()
			if tc.mutate != nil {
				tc.mutate(p)
			}
			check(t, validation.ValidateNuclioProject(p), tc.want)
			if tc.want == nil || tc.want[0].Field != "metadata.name" {
				old := p.DeepCopy()
				check(t, validation.ValidateNuclioProjectUpdate(p, old), tc.want)
			}
		})
	}

	t.Run("status update", func(t *testing.T) {
		old := valid()
		p := old.DeepCopy()
		p.Status.ObservedGeneration = -1
		p.Status.Conditions = []metav1.Condition{{Type: "Ready", Status: metav1.ConditionTrue}}
		check(t, validation.ValidateNuclioProjectStatusUpdate(p, old), []want{
			invalid("status.observedGeneration"), required("status.conditions[0].lastTransitionTime"), required("status.conditions[0].reason"),
		})
	})
}

func TestValidateNuclioFunctionEvent(t *testing.T) {
	valid := func() *nuclio.NuclioFunctionEvent {
		return &nuclio.NuclioFunctionEvent{
			ObjectMeta: metav1.ObjectMeta{Name: "ev.1", Namespace: "ns", ResourceVersion: "1", Labels: map[string]string{"nuclio.io/function-name": "f"}},
			Spec:       nuclio.FunctionEventSpec{DisplayName: "hi", TriggerKind: "http", Body: "{}"},
		}
	}
	tests := []struct {
		name   string
		mutate func(e *nuclio.NuclioFunctionEvent)
		want   []want
	}{
		{name: "valid event (names may be subdomains, e.g. dashboard UUIDs)"},
		{name: "function label is required", mutate: func(e *nuclio.NuclioFunctionEvent) { delete(e.Labels, "nuclio.io/function-name") },
			want: []want{required("metadata.labels[nuclio.io/function-name]")}},
		{name: "function label must be a function name", mutate: func(e *nuclio.NuclioFunctionEvent) { e.Labels["nuclio.io/function-name"] = "scaler" },
			want: []want{invalid("metadata.labels[nuclio.io/function-name]")}},
		{name: "project label must be a project name", mutate: func(e *nuclio.NuclioFunctionEvent) { e.Labels["nuclio.io/project-name"] = "P" },
			want: []want{invalid("metadata.labels[nuclio.io/project-name]")}},
		{name: "name must be a subdomain", mutate: func(e *nuclio.NuclioFunctionEvent) { e.Name = "Ev" }, want: []want{invalid("metadata.name")}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := valid()
			if tc.mutate != nil {
				tc.mutate(e)
			}
			check(t, validation.ValidateNuclioFunctionEvent(e), tc.want)
			if tc.want == nil || tc.want[0].Field != "metadata.name" {
				check(t, validation.ValidateNuclioFunctionEventUpdate(e, e.DeepCopy()), tc.want)
			}
		})
	}
}

func TestValidateNuclioAPIGateway(t *testing.T) {
	upstream := func(fn string, pct int32) nuclio.APIGatewayUpstreamSpec {
		return nuclio.APIGatewayUpstreamSpec{Kind: "nucliofunction", NuclioFunction: &nuclio.NuclioFunctionAPIGatewaySpec{Name: fn}, Percentage: pct}
	}
	valid := func() *nuclio.NuclioAPIGateway {
		return &nuclio.NuclioAPIGateway{
			ObjectMeta: metav1.ObjectMeta{Name: "gw", Namespace: "ns", ResourceVersion: "1", Labels: map[string]string{"nuclio.io/project-name": "default"}},
			Spec: nuclio.APIGatewaySpec{
				Name: "gw", Host: "gw.example.com", Path: "/api/v1", AuthenticationMode: "none",
				Upstreams: []nuclio.APIGatewayUpstreamSpec{upstream("f", 0)},
			},
		}
	}
	tests := []struct {
		name   string
		mutate func(g *nuclio.NuclioAPIGateway)
		want   []want
	}{
		{name: "valid gateway"},
		{name: "canary split", mutate: func(g *nuclio.NuclioAPIGateway) {
			g.Spec.Upstreams = append(g.Spec.Upstreams, upstream("f2", 20))
		}},
		{name: "wildcard host and no path", mutate: func(g *nuclio.NuclioAPIGateway) { g.Spec.Host, g.Spec.Path = "*.example.com", "" }},
		{name: "name at the length limit", mutate: func(g *nuclio.NuclioAPIGateway) { g.Name = strings.Repeat("g", 45); g.Spec.Name = g.Name }},
		{name: "name over the length limit", mutate: func(g *nuclio.NuclioAPIGateway) { g.Name = strings.Repeat("g", 46); g.Spec.Name = g.Name },
			want: []want{invalid("metadata.name")}},
		{name: "reserved name", mutate: func(g *nuclio.NuclioAPIGateway) { g.Name, g.Spec.Name = "controller", "controller" },
			want: []want{invalid("metadata.name")}},
		{name: "empty spec.name (generateName: the name comes after defaulting)", mutate: func(g *nuclio.NuclioAPIGateway) { g.Spec.Name = "" }},
		{name: "spec.name must equal metadata.name", mutate: func(g *nuclio.NuclioAPIGateway) { g.Spec.Name = "other" }, want: []want{invalid("spec.name")}},
		{name: "host is required", mutate: func(g *nuclio.NuclioAPIGateway) { g.Spec.Host = "" }, want: []want{required("spec.host")}},
		{name: "host must be a DNS name", mutate: func(g *nuclio.NuclioAPIGateway) { g.Spec.Host = "http://gw.example.com" }, want: []want{invalid("spec.host")}},
		{name: "relative path", mutate: func(g *nuclio.NuclioAPIGateway) { g.Spec.Path = "api" }, want: []want{invalid("spec.path")}},
		{name: "path with a query", mutate: func(g *nuclio.NuclioAPIGateway) { g.Spec.Path = "/api?x=1" }, want: []want{invalid("spec.path")}},
		{name: "unknown authentication mode", mutate: func(g *nuclio.NuclioAPIGateway) { g.Spec.AuthenticationMode = "kerberos" },
			want: []want{notSupported("spec.authenticationMode")}},
		{name: "basicAuth", mutate: func(g *nuclio.NuclioAPIGateway) {
			g.Spec.AuthenticationMode = "basicAuth"
			g.Spec.Authentication = &nuclio.APIGatewayAuthenticationSpec{BasicAuth: &nuclio.BasicAuth{Username: "u", Password: "p"}}
		}},
		{name: "basicAuth without credentials", mutate: func(g *nuclio.NuclioAPIGateway) { g.Spec.AuthenticationMode = "basicAuth" },
			want: []want{required("spec.authentication.basicAuth")}},
		{name: "basicAuth without username", mutate: func(g *nuclio.NuclioAPIGateway) {
			g.Spec.AuthenticationMode = "basicAuth"
			g.Spec.Authentication = &nuclio.APIGatewayAuthenticationSpec{BasicAuth: &nuclio.BasicAuth{Password: "p"}}
		}, want: []want{required("spec.authentication.basicAuth.username")}},
		{name: "oauth2", mutate: func(g *nuclio.NuclioAPIGateway) {
			g.Spec.AuthenticationMode = "oauth2"
			g.Spec.Authentication = &nuclio.APIGatewayAuthenticationSpec{DexAuth: &nuclio.DexAuth{Oauth2ProxyURL: "https://proxy.example.com"}}
		}},
		{name: "oauth2 without proxy", mutate: func(g *nuclio.NuclioAPIGateway) {
			g.Spec.AuthenticationMode = "oauth2"
			g.Spec.Authentication = &nuclio.APIGatewayAuthenticationSpec{DexAuth: &nuclio.DexAuth{}}
		}, want: []want{required("spec.authentication.dexAuth.oauth2ProxyUrl")}},
		{name: "no upstreams", mutate: func(g *nuclio.NuclioAPIGateway) { g.Spec.Upstreams = nil }, want: []want{required("spec.upstreams")}},
		{name: "three upstreams", mutate: func(g *nuclio.NuclioAPIGateway) {
			g.Spec.Upstreams = append(g.Spec.Upstreams, upstream("b", 10), upstream("c", 10))
		}, want: []want{tooMany("spec.upstreams")}},
		{name: "bad upstream", mutate: func(g *nuclio.NuclioAPIGateway) {
			g.Spec.Upstreams = []nuclio.APIGatewayUpstreamSpec{
				{Kind: "service", Port: 70000, Percentage: 101, ExtraLabels: map[string]string{"bad key": "v"}, ExtraAnnotations: map[string]string{"bad key": "v"}},
			}
		}, want: []want{
			notSupported("spec.upstreams[0].kind"), required("spec.upstreams[0].nucliofunction.name"), invalid("spec.upstreams[0].port"),
			invalid("spec.upstreams[0].percentage"), invalid("spec.upstreams[0].extraLabels"), invalid("spec.upstreams[0].extraAnnotations"),
		}},
		{name: "canary without a percentage", mutate: func(g *nuclio.NuclioAPIGateway) {
			g.Spec.Upstreams = append(g.Spec.Upstreams, upstream("f2", 0))
		}, want: []want{required("spec.upstreams[1].percentage")}},
		{name: "project label", mutate: func(g *nuclio.NuclioAPIGateway) { g.Labels["nuclio.io/project-name"] = "P" },
			want: []want{invalid("metadata.labels[nuclio.io/project-name]")}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			g := valid()
			if tc.mutate != nil {
				tc.mutate(g)
			}
			check(t, validation.ValidateNuclioAPIGateway(g), tc.want)
		})
	}

	t.Run("update cannot move the gateway to another project", func(t *testing.T) {
		old := valid()
		g := old.DeepCopy()
		g.Labels["nuclio.io/project-name"] = "other"
		check(t, validation.ValidateNuclioAPIGatewayUpdate(g, old), []want{forbidden("metadata.labels[nuclio.io/project-name]")})
		g.Labels["nuclio.io/project-name"] = "default"
		g.Spec.Host = "new.example.com"
		check(t, validation.ValidateNuclioAPIGatewayUpdate(g, old), nil)
	})

	t.Run("status update", func(t *testing.T) {
		for _, tc := range []struct {
			state string
			want  []want
		}{
			{"", nil}, {"waitingForProvisioning", nil}, {"ready", nil}, {"error", nil},
			{"provisioning", []want{notSupported("status.state")}},
		} {
			old := valid()
			g := old.DeepCopy()
			g.Status.State = tc.state
			g.Status.LastError = "boom"
			check(t, validation.ValidateNuclioAPIGatewayStatusUpdate(g, old), tc.want)
		}
	})
}

// TestFunctionSourceCodeSizeLimit: inline source over 1 MiB is refused by validation, naming the field,
// before it can reach etcd's request limit (where it would fail with an opaque storage error).
func TestFunctionSourceCodeSizeLimit(t *testing.T) {
	fn := &nuclio.NuclioFunction{
		ObjectMeta: metav1.ObjectMeta{Name: "big", Namespace: "ns"},
		Spec:       nuclio.FunctionSpec{Runtime: "python:3.9", Handler: "main:handler"},
	}
	fn.Spec.Build.FunctionSourceCode = strings.Repeat("QUFB", validation.MaxFunctionSourceCodeBytes/4)
	if errs := validation.ValidateNuclioFunction(fn); len(errs) != 0 {
		t.Errorf("exactly at the limit: %v", errs)
	}
	fn.Spec.Build.FunctionSourceCode += "QUFB"
	errs := validation.ValidateNuclioFunction(fn)
	if len(errs) != 1 || errs[0].Type != field.ErrorTypeTooLong || errs[0].Field != "spec.build.functionSourceCode" {
		t.Fatalf("over the limit: %v", errs)
	}
	if strings.Contains(errs.ToAggregate().Error(), "QUFB") {
		t.Error("the error echoes the source")
	}
}
