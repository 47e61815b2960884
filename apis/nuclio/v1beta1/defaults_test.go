// Copyright The nuclio-apiserver Authors.
// SPDX-License-Identifier: Apache-2.0

package v1beta1_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/utils/ptr"

	"github.com/nuclio-apiserver/nuclio-apiserver/apis/nuclio/install"
	"github.com/nuclio-apiserver/nuclio-apiserver/apis/nuclio/v1beta1"
)

// The tests default through a scheme built by install.Install rather than by calling SetDefaults_*
// directly: the server only ever defaults through the scheme (on decode), so a defaulter that exists but
// is not registered would pass a direct test and still never run.
func newScheme(t *testing.T) *runtime.Scheme {
	t.Helper()
	scheme := runtime.NewScheme()
	install.Install(scheme)
	return scheme
}

func fn(mutate func(f *v1beta1.NuclioFunction)) *v1beta1.NuclioFunction {
	f := &v1beta1.NuclioFunction{ObjectMeta: metav1.ObjectMeta{Name: "f", Namespace: "ns"}}
	if mutate != nil {
		mutate(f)
	}
	return f
}

// defaulted is the function a bare `fn(nil)` becomes: project label and the default http trigger.
func defaulted(mutate func(f *v1beta1.NuclioFunction)) *v1beta1.NuclioFunction {
	return fn(func(f *v1beta1.NuclioFunction) {
		f.Labels = map[string]string{v1beta1.LabelProjectName: v1beta1.DefaultProjectName}
		f.Spec.Triggers = map[string]v1beta1.Trigger{v1beta1.DefaultHTTPTriggerName: defaultHTTP()}
		if mutate != nil {
			mutate(f)
		}
	})
}

func defaultHTTP() v1beta1.Trigger {
	return v1beta1.Trigger{Kind: "http", Name: "default-http", NumWorkers: 1}
}

// noHTTP disables the default trigger so that trigger cases only show the triggers they are about.
func noHTTP(f *v1beta1.NuclioFunction) { f.Spec.DisableDefaultHTTPTrigger = ptr.To(true) }

func TestFunctionDefaults(t *testing.T) {
	tests := []struct {
		name string
		in   *v1beta1.NuclioFunction
		want *v1beta1.NuclioFunction
	}{
		{
			name: "bare function gets the project label and the default http trigger",
			in:   fn(nil),
			want: defaulted(nil),
		},
		{
			name: "other labels are kept beside the project label",
			in:   fn(func(f *v1beta1.NuclioFunction) { f.Labels = map[string]string{"team": "a"} }),
			want: defaulted(func(f *v1beta1.NuclioFunction) { f.Labels["team"] = "a" }),
		},
		{
			name: "empty project label counts as missing",
			in:   fn(func(f *v1beta1.NuclioFunction) { f.Labels = map[string]string{v1beta1.LabelProjectName: ""} }),
			want: defaulted(nil),
		},
		{
			name: "explicit project is kept",
			in:   fn(func(f *v1beta1.NuclioFunction) { f.Labels = map[string]string{v1beta1.LabelProjectName: "p1"} }),
			want: defaulted(func(f *v1beta1.NuclioFunction) { f.Labels[v1beta1.LabelProjectName] = "p1" }),
		},
		{
			name: "python means python:3.9",
			in:   fn(func(f *v1beta1.NuclioFunction) { f.Spec.Runtime = "python" }),
			want: defaulted(func(f *v1beta1.NuclioFunction) { f.Spec.Runtime = "python:3.9" }),
		},
		{
			name: "versioned python is kept",
			in:   fn(func(f *v1beta1.NuclioFunction) { f.Spec.Runtime = "python:3.11" }),
			want: defaulted(func(f *v1beta1.NuclioFunction) { f.Spec.Runtime = "python:3.11" }),
		},
		{
			name: "other runtimes are kept",
			in:   fn(func(f *v1beta1.NuclioFunction) { f.Spec.Runtime = "golang" }),
			want: defaulted(func(f *v1beta1.NuclioFunction) { f.Spec.Runtime = "golang" }),
		},
		{
			name: "disableDefaultHTTPTrigger false still adds the trigger",
			in:   fn(func(f *v1beta1.NuclioFunction) { f.Spec.DisableDefaultHTTPTrigger = ptr.To(false) }),
			want: defaulted(func(f *v1beta1.NuclioFunction) { f.Spec.DisableDefaultHTTPTrigger = ptr.To(false) }),
		},
		{
			name: "disableDefaultHTTPTrigger true adds nothing",
			in:   fn(noHTTP),
			want: defaulted(func(f *v1beta1.NuclioFunction) { noHTTP(f); f.Spec.Triggers = nil }),
		},
		{
			name: "a user http trigger replaces default-http and gets name and one worker",
			in: fn(func(f *v1beta1.NuclioFunction) {
				f.Spec.Triggers = map[string]v1beta1.Trigger{"web": {Kind: "http"}}
			}),
			want: defaulted(func(f *v1beta1.NuclioFunction) {
				f.Spec.Triggers = map[string]v1beta1.Trigger{"web": {Kind: "http", Name: "web", NumWorkers: 1}}
			}),
		},
		{
			name: "default-http is added beside non-http triggers",
			in: fn(func(f *v1beta1.NuclioFunction) {
				f.Spec.Triggers = map[string]v1beta1.Trigger{"tick": {Kind: "cron"}}
			}),
			want: defaulted(func(f *v1beta1.NuclioFunction) {
				f.Spec.Triggers["tick"] = v1beta1.Trigger{Kind: "cron", Name: "tick"}
			}),
		},
		{
			// Nuclio would overwrite it; we keep the user's trigger and let validation report the clash.
			name: "a user's non-http trigger named default-http is not overwritten",
			in: fn(func(f *v1beta1.NuclioFunction) {
				f.Spec.Triggers = map[string]v1beta1.Trigger{"default-http": {Kind: "cron", Attributes: map[string]interface{}{"interval": "1m"}}}
			}),
			want: defaulted(func(f *v1beta1.NuclioFunction) {
				f.Spec.Triggers = map[string]v1beta1.Trigger{"default-http": {Kind: "cron", Name: "default-http", Attributes: map[string]interface{}{"interval": "1m"}}}
			}),
		},
		{
			name: "a trigger name that differs from its key is left for validation",
			in: fn(func(f *v1beta1.NuclioFunction) {
				noHTTP(f)
				f.Spec.Triggers = map[string]v1beta1.Trigger{"a": {Kind: "cron", Name: "b"}}
			}),
			want: defaulted(func(f *v1beta1.NuclioFunction) {
				noHTTP(f)
				f.Spec.Triggers = map[string]v1beta1.Trigger{"a": {Kind: "cron", Name: "b"}}
			}),
		},
		{
			name: "numWorkers from maxWorkers, before the http one-worker default",
			in: fn(func(f *v1beta1.NuclioFunction) {
				f.Spec.Triggers = map[string]v1beta1.Trigger{
					"web":  {Kind: "http", MaxWorkers: 4},
					"tick": {Kind: "cron", MaxWorkers: 2},
				}
			}),
			want: defaulted(func(f *v1beta1.NuclioFunction) {
				f.Spec.Triggers = map[string]v1beta1.Trigger{
					"web":  {Kind: "http", Name: "web", MaxWorkers: 4, NumWorkers: 4},
					"tick": {Kind: "cron", Name: "tick", MaxWorkers: 2, NumWorkers: 2},
				}
			}),
		},
		{
			name: "numWorkers wins over maxWorkers",
			in: fn(func(f *v1beta1.NuclioFunction) {
				noHTTP(f)
				f.Spec.Triggers = map[string]v1beta1.Trigger{"tick": {Kind: "cron", MaxWorkers: 2, NumWorkers: 7}}
			}),
			want: defaulted(func(f *v1beta1.NuclioFunction) {
				noHTTP(f)
				f.Spec.Triggers = map[string]v1beta1.Trigger{"tick": {Kind: "cron", Name: "tick", MaxWorkers: 2, NumWorkers: 7}}
			}),
		},
		{
			name: "http and v3ioStream get one worker, other kinds none",
			in: fn(func(f *v1beta1.NuclioFunction) {
				f.Spec.Triggers = map[string]v1beta1.Trigger{
					"web":    {Kind: "http"},
					"stream": {Kind: "v3ioStream"},
					"tick":   {Kind: "cron"},
					"busy":   {Kind: "http-like", NumWorkers: 0},
				}
			}),
			want: defaulted(func(f *v1beta1.NuclioFunction) {
				f.Spec.Triggers = map[string]v1beta1.Trigger{
					"web":    {Kind: "http", Name: "web", NumWorkers: 1},
					"stream": {Kind: "v3ioStream", Name: "stream", NumWorkers: 1, ExplicitAckMode: "disable", WorkerTerminationTimeout: "10s"},
					"tick":   {Kind: "cron", Name: "tick"},
					"busy":   {Kind: "http-like", Name: "busy"},
				}
			}),
		},
		{
			name: "stream kinds get explicitAckMode disable and workerTerminationTimeout 10s",
			in: fn(func(f *v1beta1.NuclioFunction) {
				noHTTP(f)
				f.Spec.Triggers = map[string]v1beta1.Trigger{
					"k":  {Kind: "kafka"},
					"kc": {Kind: "kafka-cluster"},
					"v":  {Kind: "v3ioStream", NumWorkers: 3},
					"n":  {Kind: "nats"},
				}
			}),
			want: defaulted(func(f *v1beta1.NuclioFunction) {
				noHTTP(f)
				f.Spec.Triggers = map[string]v1beta1.Trigger{
					"k":  {Kind: "kafka", Name: "k", ExplicitAckMode: "disable", WorkerTerminationTimeout: "10s"},
					"kc": {Kind: "kafka-cluster", Name: "kc", ExplicitAckMode: "disable", WorkerTerminationTimeout: "10s"},
					"v":  {Kind: "v3ioStream", Name: "v", NumWorkers: 3, ExplicitAckMode: "disable", WorkerTerminationTimeout: "10s"},
					"n":  {Kind: "nats", Name: "n"},
				}
			}),
		},
		{
			name: "stream kinds keep explicit settings",
			in: fn(func(f *v1beta1.NuclioFunction) {
				noHTTP(f)
				f.Spec.Triggers = map[string]v1beta1.Trigger{"kc": {Kind: "kafka-cluster", ExplicitAckMode: "enable", WorkerTerminationTimeout: "30s"}}
			}),
			want: defaulted(func(f *v1beta1.NuclioFunction) {
				noHTTP(f)
				f.Spec.Triggers = map[string]v1beta1.Trigger{"kc": {Kind: "kafka-cluster", Name: "kc", ExplicitAckMode: "enable", WorkerTerminationTimeout: "30s"}}
			}),
		},
		{
			name: "enabled batch gets size 10 and timeout 1s; other batches are untouched",
			in: fn(func(f *v1beta1.NuclioFunction) {
				f.Spec.Triggers = map[string]v1beta1.Trigger{
					"web":   {Kind: "http", Batch: &v1beta1.BatchConfiguration{Mode: "enable"}},
					"own":   {Kind: "cron", Batch: &v1beta1.BatchConfiguration{Mode: "enable", BatchSize: 3, Timeout: "5s"}},
					"off":   {Kind: "cron", Batch: &v1beta1.BatchConfiguration{Mode: "disable"}},
					"unset": {Kind: "cron", Batch: &v1beta1.BatchConfiguration{}},
					"none":  {Kind: "cron"},
				}
			}),
			want: defaulted(func(f *v1beta1.NuclioFunction) {
				f.Spec.Triggers = map[string]v1beta1.Trigger{
					"web":   {Kind: "http", Name: "web", NumWorkers: 1, Batch: &v1beta1.BatchConfiguration{Mode: "enable", BatchSize: 10, Timeout: "1s"}},
					"own":   {Kind: "cron", Name: "own", Batch: &v1beta1.BatchConfiguration{Mode: "enable", BatchSize: 3, Timeout: "5s"}},
					"off":   {Kind: "cron", Name: "off", Batch: &v1beta1.BatchConfiguration{Mode: "disable"}},
					"unset": {Kind: "cron", Name: "unset", Batch: &v1beta1.BatchConfiguration{}},
					"none":  {Kind: "cron", Name: "none"},
				}
			}),
		},
		{
			name: "lone maxReplicas is copied to minReplicas",
			in:   fn(func(f *v1beta1.NuclioFunction) { f.Spec.MaxReplicas = ptr.To[int32](3) }),
			want: defaulted(func(f *v1beta1.NuclioFunction) {
				f.Spec.MinReplicas, f.Spec.MaxReplicas = ptr.To[int32](3), ptr.To[int32](3)
			}),
		},
		{
			name: "lone minReplicas is copied to maxReplicas",
			in:   fn(func(f *v1beta1.NuclioFunction) { f.Spec.MinReplicas = ptr.To[int32](2) }),
			want: defaulted(func(f *v1beta1.NuclioFunction) {
				f.Spec.MinReplicas, f.Spec.MaxReplicas = ptr.To[int32](2), ptr.To[int32](2)
			}),
		},
		{
			// Copying 0 would turn "scale to zero with no upper bound" into "maxReplicas 0", and validation
			// would then blame a field the user never wrote; see SetDefaults_FunctionSpec.
			name: "lone minReplicas 0 is not copied",
			in:   fn(func(f *v1beta1.NuclioFunction) { f.Spec.MinReplicas = ptr.To[int32](0) }),
			want: defaulted(func(f *v1beta1.NuclioFunction) { f.Spec.MinReplicas = ptr.To[int32](0) }),
		},
		{
			name: "lone maxReplicas 0 is copied (validation rejects it)",
			in:   fn(func(f *v1beta1.NuclioFunction) { f.Spec.MaxReplicas = ptr.To[int32](0) }),
			want: defaulted(func(f *v1beta1.NuclioFunction) {
				f.Spec.MinReplicas, f.Spec.MaxReplicas = ptr.To[int32](0), ptr.To[int32](0)
			}),
		},
		{
			name: "both replicas bounds are kept",
			in: fn(func(f *v1beta1.NuclioFunction) {
				f.Spec.MinReplicas, f.Spec.MaxReplicas = ptr.To[int32](0), ptr.To[int32](5)
			}),
			want: defaulted(func(f *v1beta1.NuclioFunction) {
				f.Spec.MinReplicas, f.Spec.MaxReplicas = ptr.To[int32](0), ptr.To[int32](5)
			}),
		},
	}
	scheme := newScheme(t)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := tc.in.DeepCopy()
			scheme.Default(got)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Fatalf("defaults (-want +got):\n%s", diff)
			}
			again := got.DeepCopy()
			scheme.Default(again)
			if diff := cmp.Diff(got, again); diff != "" {
				t.Errorf("defaulting is not idempotent (-once +twice):\n%s", diff)
			}
		})
	}
}

// Nuclio's enrichment makes minReplicas and maxReplicas the same pointer; a later change to one must not
// move the other (the scale subresource and kubectl edit change them independently).
func TestReplicasCopyDoesNotAlias(t *testing.T) {
	scheme := newScheme(t)
	for _, setMax := range []bool{true, false} {
		f := fn(func(f *v1beta1.NuclioFunction) {
			if setMax {
				f.Spec.MaxReplicas = ptr.To[int32](3)
			} else {
				f.Spec.MinReplicas = ptr.To[int32](3)
			}
		})
		scheme.Default(f)
		if f.Spec.MinReplicas == f.Spec.MaxReplicas {
			t.Errorf("setMax=%v: minReplicas and maxReplicas share one pointer", setMax)
		}
	}
}

func TestAPIGatewayDefaults(t *testing.T) {
	gw := func(mutate func(g *v1beta1.NuclioAPIGateway)) *v1beta1.NuclioAPIGateway {
		g := &v1beta1.NuclioAPIGateway{ObjectMeta: metav1.ObjectMeta{Name: "gw", Namespace: "ns"}}
		if mutate != nil {
			mutate(g)
		}
		return g
	}
	tests := []struct {
		name     string
		in, want *v1beta1.NuclioAPIGateway
	}{
		{
			name: "spec.name and project label from metadata",
			in:   gw(nil),
			want: gw(func(g *v1beta1.NuclioAPIGateway) {
				g.Spec.Name = "gw"
				g.Labels = map[string]string{v1beta1.LabelProjectName: "default"}
			}),
		},
		{
			name: "explicit spec.name and project are kept",
			in: gw(func(g *v1beta1.NuclioAPIGateway) {
				g.Spec.Name = "other"
				g.Labels = map[string]string{v1beta1.LabelProjectName: "p"}
			}),
			want: gw(func(g *v1beta1.NuclioAPIGateway) {
				g.Spec.Name = "other"
				g.Labels = map[string]string{v1beta1.LabelProjectName: "p"}
			}),
		},
	}
	scheme := newScheme(t)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := tc.in.DeepCopy()
			scheme.Default(got)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Fatalf("defaults (-want +got):\n%s", diff)
			}
			again := got.DeepCopy()
			scheme.Default(again)
			if !apiequality.Semantic.DeepEqual(got, again) {
				t.Errorf("defaulting is not idempotent: %s", cmp.Diff(got, again))
			}
		})
	}
}

func TestFunctionEventDefaults(t *testing.T) {
	ev := func(mutate func(e *v1beta1.NuclioFunctionEvent)) *v1beta1.NuclioFunctionEvent {
		e := &v1beta1.NuclioFunctionEvent{ObjectMeta: metav1.ObjectMeta{Name: "ev", Namespace: "ns"}}
		if mutate != nil {
			mutate(e)
		}
		return e
	}
	tests := []struct {
		name     string
		in, want *v1beta1.NuclioFunctionEvent
	}{
		{
			// No project label: Nuclio infers an event's project from its function, which defaulting
			// cannot see.
			name: "displayName from metadata.name, triggerKind http",
			in:   ev(nil),
			want: ev(func(e *v1beta1.NuclioFunctionEvent) { e.Spec.DisplayName, e.Spec.TriggerKind = "ev", "http" }),
		},
		{
			name: "explicit values are kept",
			in:   ev(func(e *v1beta1.NuclioFunctionEvent) { e.Spec.DisplayName, e.Spec.TriggerKind = "Say hi", "cron" }),
			want: ev(func(e *v1beta1.NuclioFunctionEvent) { e.Spec.DisplayName, e.Spec.TriggerKind = "Say hi", "cron" }),
		},
	}
	scheme := newScheme(t)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := tc.in.DeepCopy()
			scheme.Default(got)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Fatalf("defaults (-want +got):\n%s", diff)
			}
			again := got.DeepCopy()
			scheme.Default(again)
			if diff := cmp.Diff(got, again); diff != "" {
				t.Errorf("defaulting is not idempotent (-once +twice):\n%s", diff)
			}
		})
	}
}

// TestProjectHasNoDefaults pins that projects are stored as written (Nuclio enriches nothing on them
// server-side; owner comes from the dashboard session, which we do not have).
func TestProjectHasNoDefaults(t *testing.T) {
	scheme := newScheme(t)
	p := &v1beta1.NuclioProject{ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "ns"}}
	got := p.DeepCopy()
	scheme.Default(got)
	if diff := cmp.Diff(p, got); diff != "" {
		t.Errorf("project was defaulted (-want +got):\n%s", diff)
	}
}

// Lists are defaulted item by item (a List request body, or a list read back from storage).
func TestListDefaults(t *testing.T) {
	scheme := newScheme(t)
	list := &v1beta1.NuclioFunctionList{Items: []v1beta1.NuclioFunction{*fn(nil), *fn(func(f *v1beta1.NuclioFunction) { f.Spec.Runtime = "python" })}}
	scheme.Default(list)
	want := []*v1beta1.NuclioFunction{defaulted(nil), defaulted(func(f *v1beta1.NuclioFunction) { f.Spec.Runtime = "python:3.9" })}
	for i := range want {
		if diff := cmp.Diff(want[i], &list.Items[i]); diff != "" {
			t.Errorf("item %d (-want +got):\n%s", i, diff)
		}
	}
}

// TestDefaultsOnDecode checks the path the server really takes: decoding a request body applies the
// registered defaulters, so a client that omits a field gets Nuclio's value.
func TestDefaultsOnDecode(t *testing.T) {
	scheme := newScheme(t)
	codecs := serializer.NewCodecFactory(scheme)
	body := []byte(`{"apiVersion":"nuclio.io/v1beta1","kind":"NuclioFunction","metadata":{"name":"f","namespace":"ns"},
		"spec":{"runtime":"python","maxReplicas":2,"triggers":{"q":{"kind":"kafka-cluster","maxWorkers":3}}}}`)
	obj, _, err := codecs.UniversalDecoder(v1beta1.SchemeGroupVersion).Decode(body, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	got, ok := obj.(*v1beta1.NuclioFunction)
	if !ok {
		t.Fatalf("decoded %T, want *v1beta1.NuclioFunction", obj)
	}
	got.TypeMeta = metav1.TypeMeta{}
	want := defaulted(func(f *v1beta1.NuclioFunction) {
		f.Spec.Runtime = "python:3.9"
		f.Spec.MinReplicas, f.Spec.MaxReplicas = ptr.To[int32](2), ptr.To[int32](2)
		f.Spec.Triggers["q"] = v1beta1.Trigger{Kind: "kafka-cluster", Name: "q", MaxWorkers: 3, NumWorkers: 3, ExplicitAckMode: "disable", WorkerTerminationTimeout: "10s"}
	})
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("decoded function (-want +got):\n%s", diff)
	}
}
