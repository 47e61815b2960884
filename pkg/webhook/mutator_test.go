package webhook

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	jsonpatch "gopkg.in/evanphx/json-patch.v4"
	admissionv1 "k8s.io/api/admission/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/nuclio-apiserver/nuclio-apiserver/pkg/masking"
)

// function returns a NuclioFunction with credentials in several placements; plaintexts lists them.
func function(name string) map[string]interface{} {
	return map[string]interface{}{
		"apiVersion": "nuclio.io/v1beta1", "kind": "NuclioFunction",
		"metadata": map[string]interface{}{"name": name, "namespace": "team-a",
			"labels":      map[string]interface{}{"nuclio.io/project-name": "shop"},
			"annotations": map[string]interface{}{"nuclio.io/kafka-sasl-password": "pw-annotation"}},
		"spec": map[string]interface{}{
			"runtime": "python:3.9",
			"build": map[string]interface{}{"codeEntryAttributes": map[string]interface{}{
				"headers": map[string]interface{}{"Authorization": "pw-header"}}},
			"triggers": map[string]interface{}{
				"kafka": map[string]interface{}{"kind": "kafka-cluster", "attributes": map[string]interface{}{
					"sasl": map[string]interface{}{"enable": true, "password": "pw-sasl"}}},
				"rmq": map[string]interface{}{"kind": "rabbit-mq", "url": "amqp://u:pw-rabbit@rabbit:5672"},
			},
		},
	}
}

var plaintexts = []string{"pw-annotation", "pw-header", "pw-sasl", "pw-rabbit"}

func newScheme(t testing.TB) *runtime.Scheme {
	t.Helper()
	s := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(s); err != nil {
		t.Fatal(err)
	}
	for _, gvk := range []struct{ kind, list string }{{"NuclioFunction", "NuclioFunctionList"}, {"NuclioAPIGateway", "NuclioAPIGatewayList"}} {
		s.AddKnownTypeWithName(FunctionGVK.GroupVersion().WithKind(gvk.kind), &unstructured.Unstructured{})
		s.AddKnownTypeWithName(FunctionGVK.GroupVersion().WithKind(gvk.list), &unstructured.UnstructuredList{})
	}
	return s
}

func newFakeClient(t testing.TB, objs ...client.Object) client.Client {
	t.Helper()
	return fake.NewClientBuilder().WithScheme(newScheme(t)).WithObjects(objs...).Build()
}

func newMutator(t testing.TB, c client.Client, cfg Config) *Mutator {
	t.Helper()
	m, err := NewMutator(c, c, cfg)
	if err != nil {
		t.Fatal(err)
	}
	m.now = func() time.Time { return time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC) }
	return m
}

func request(t testing.TB, op admissionv1.Operation, resource string, obj map[string]interface{}, dryRun bool) admission.Request {
	t.Helper()
	raw, err := json.Marshal(obj)
	if err != nil {
		t.Fatal(err)
	}
	md := obj["metadata"].(map[string]interface{})
	name, _ := md["name"].(string)
	return admission.Request{AdmissionRequest: admissionv1.AdmissionRequest{
		UID:       types.UID("req-1"),
		Resource:  metav1.GroupVersionResource{Group: "nuclio.io", Version: "v1beta1", Resource: resource},
		Name:      name,
		Namespace: md["namespace"].(string),
		Operation: op,
		Object:    runtime.RawExtension{Raw: raw},
		DryRun:    ptr.To(dryRun),
	}}
}

// admit runs the mutator and returns the response and the patched object (nil when denied).
func admit(t testing.TB, m *Mutator, req admission.Request) (admission.Response, map[string]interface{}) {
	t.Helper()
	resp := m.Handle(context.Background(), req)
	if !resp.Allowed {
		return resp, nil
	}
	raw := req.Object.Raw
	if len(resp.Patches) > 0 {
		b, err := json.Marshal(resp.Patches)
		if err != nil {
			t.Fatal(err)
		}
		p, err := jsonpatch.DecodePatch(b)
		if err != nil {
			t.Fatal(err)
		}
		if raw, err = p.Apply(raw); err != nil {
			t.Fatal(err)
		}
	}
	out, err := masking.DecodeObject(raw)
	if err != nil {
		t.Fatal(err)
	}
	return resp, out
}

func getSecret(t testing.TB, c client.Client, name string) (*corev1.Secret, map[string]string) {
	t.Helper()
	s := &corev1.Secret{}
	if err := c.Get(context.Background(), client.ObjectKey{Namespace: "team-a", Name: name}, s); err != nil {
		t.Fatalf("getting Secret %s: %v", name, err)
	}
	values, err := masking.DecodeContent(s.Data[masking.SecretContentKey])
	if err != nil {
		t.Fatal(err)
	}
	return s, values
}

func secretCount(t testing.TB, c client.Client) int {
	t.Helper()
	l := &corev1.SecretList{}
	if err := c.List(context.Background(), l); err != nil {
		t.Fatal(err)
	}
	return len(l.Items)
}

func assertNoPlaintext(t testing.TB, what string, v interface{}) {
	t.Helper()
	b, _ := json.Marshal(v)
	for _, p := range plaintexts {
		if strings.Contains(string(b), p) {
			t.Errorf("%s contains a plaintext credential", what)
		}
	}
}

func TestCreateMasksAndStoresSecret(t *testing.T) {
	c := newFakeClient(t)
	m := newMutator(t, c, DefaultConfig())
	before := testutil.ToFloat64(maskedFields.WithLabelValues("nucliofunctions"))
	resp, out := admit(t, m, request(t, admissionv1.Create, "nucliofunctions", function("orders"), false))
	if out == nil {
		t.Fatalf("denied: %v", resp.Result)
	}
	assertNoPlaintext(t, "admitted object", out)
	if got := testutil.ToFloat64(maskedFields.WithLabelValues("nucliofunctions")) - before; got != 4 {
		t.Errorf("masked-field counter grew by %v, want 4", got)
	}
	secret, values := getSecret(t, c, "nuclio-orders-credentials")
	if secret.Type != masking.FunctionSecretType || secret.Labels[masking.LabelFunctionName] != "orders" ||
		secret.Labels[masking.LabelProjectName] != "shop" || secret.Labels[masking.LabelManagedBy] != masking.ManagedByValue {
		t.Fatalf("secret type %q labels %v", secret.Type, secret.Labels)
	}
	if secret.Annotations[AnnotationCredentialsUpdated] != "2026-01-02T03:04:05Z" {
		t.Errorf("write time annotation %q", secret.Annotations[AnnotationCredentialsUpdated])
	}
	restored := masking.Restore(out, values)
	if got, want := canonicalJSON(t, restored), canonicalJSON(t, function("orders")); got != want {
		t.Fatalf("restoring from the Secret does not give back the original:\n got %s\nwant %s", got, want)
	}
}

func TestDryRunWritesNothing(t *testing.T) {
	c := newFakeClient(t)
	resp, out := admit(t, newMutator(t, c, DefaultConfig()), request(t, admissionv1.Create, "nucliofunctions", function("orders"), true))
	if out == nil {
		t.Fatalf("denied: %v", resp.Result)
	}
	assertNoPlaintext(t, "dry-run response", out)
	if n := secretCount(t, c); n != 0 {
		t.Fatalf("dry run wrote %d Secrets", n)
	}
}

func TestUpdateSemantics(t *testing.T) {
	c := newFakeClient(t)
	m := newMutator(t, c, DefaultConfig())
	_, created := admit(t, m, request(t, admissionv1.Create, "nucliofunctions", function("orders"), false))

	// Re-submit the masked object with one new plaintext and one field removed.
	updated := created
	spec := updated["spec"].(map[string]interface{})
	spec["triggers"].(map[string]interface{})["kafka"].(map[string]interface{})["attributes"].(map[string]interface{})["sasl"].(map[string]interface{})["password"] = "pw-sasl-rotated"
	delete(spec, "build")
	m.now = func() time.Time { return time.Date(2026, 1, 2, 4, 0, 0, 0, time.UTC) }
	resp, out := admit(t, m, request(t, admissionv1.Update, "nucliofunctions", updated, false))
	if out == nil {
		t.Fatalf("denied: %v", resp.Result)
	}
	secret, values := getSecret(t, c, "nuclio-orders-credentials")
	if values["$ref:/spec/triggers/kafka/attributes/sasl/password"] != "pw-sasl-rotated" {
		t.Error("new plaintext did not replace the stored value")
	}
	if values["$ref:/spec/triggers/rmq/url"] != "amqp://u:pw-rabbit@rabbit:5672" {
		t.Error("re-submitted token lost its stored value")
	}
	// Removal is left to the reconciler (after SettlePeriod), signalled by a fresh write time.
	if _, ok := values["$ref:/spec/build/codeentryattributes/headers/authorization"]; !ok {
		t.Error("the webhook must not remove keys itself: the update may still fail after admission")
	}
	if secret.Annotations[AnnotationCredentialsUpdated] != "2026-01-02T04:00:00Z" {
		t.Errorf("write time not refreshed: %q", secret.Annotations[AnnotationCredentialsUpdated])
	}
	if strings.Contains(canonicalJSON(t, out), "pw-sasl-rotated") {
		t.Error("rotated value left in the object")
	}
}

func TestRefusals(t *testing.T) {
	foreign := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "team-a", Name: "nuclio-orders-credentials"},
		Type: corev1.SecretTypeOpaque, Data: map[string][]byte{"password": []byte("pw-foreign")}}
	withToken := function("orders")
	withToken["spec"].(map[string]interface{})["triggers"].(map[string]interface{})["rmq"].(map[string]interface{})["url"] = "$ref:/spec/triggers/rmq/url"
	optOut := function("orders")
	optOut["spec"].(map[string]interface{})["disableSensitiveFieldsMasking"] = true
	generated := function("")
	cases := []struct {
		name     string
		objs     []client.Object
		obj      map[string]interface{}
		cfg      Config
		wantCode int32
		want     string
	}{
		{"foreign Secret with our name", []client.Object{foreign}, function("orders"), DefaultConfig(), http.StatusConflict, "not managed by nuclio-webhook"},
		{"token without stored value", nil, withToken, DefaultConfig(), http.StatusUnprocessableEntity, `spec.triggers.rmq.url: Invalid value: reference "$ref:/spec/triggers/rmq/url" has no stored value`},
		{"opt-out not allowed", nil, optOut, DefaultConfig(), http.StatusUnprocessableEntity, "spec.disableSensitiveFieldsMasking: Forbidden: opting out"},
		{"generateName", nil, generated, DefaultConfig(), http.StatusUnprocessableEntity, "metadata.name: Required value"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := newFakeClient(t, tc.objs...)
			resp, out := admit(t, newMutator(t, c, tc.cfg), request(t, admissionv1.Create, "nucliofunctions", tc.obj, false))
			if out != nil || resp.Result == nil {
				t.Fatal("admitted")
			}
			if resp.Result.Code != tc.wantCode || !strings.Contains(resp.Result.Message, tc.want) {
				t.Fatalf("got %d %q, want %d containing %q", resp.Result.Code, resp.Result.Message, tc.wantCode, tc.want)
			}
			assertNoPlaintext(t, "denial", resp.Result)
			if strings.Contains(resp.Result.Message, "pw-foreign") {
				t.Error("denial leaks the foreign Secret")
			}
			if n := secretCount(t, c); n != len(tc.objs) {
				t.Fatalf("%d Secrets after a refusal", n)
			}
		})
	}
	// The foreign Secret is left exactly as it was.
	c := newFakeClient(t, foreign.DeepCopy())
	admit(t, newMutator(t, c, DefaultConfig()), request(t, admissionv1.Create, "nucliofunctions", function("orders"), false))
	got := &corev1.Secret{}
	if err := c.Get(context.Background(), client.ObjectKeyFromObject(foreign), got); err != nil || string(got.Data["password"]) != "pw-foreign" || len(got.Data) != 1 || got.Labels != nil {
		t.Fatalf("foreign Secret changed: %v", err)
	}
}

func TestOptOutAllowed(t *testing.T) {
	cfg := DefaultConfig()
	cfg.AllowOptOut = true
	c := newFakeClient(t)
	obj := function("orders")
	obj["spec"].(map[string]interface{})["disableSensitiveFieldsMasking"] = true
	resp, out := admit(t, newMutator(t, c, cfg), request(t, admissionv1.Create, "nucliofunctions", obj, false))
	if out == nil || len(resp.Patches) != 0 || len(resp.Warnings) != 1 {
		t.Fatalf("want an unchanged object with a warning, got %+v", resp)
	}
	if secretCount(t, c) != 0 {
		t.Fatal("opt-out wrote a Secret")
	}
	obj["spec"].(map[string]interface{})["triggers"].(map[string]interface{})["rmq"].(map[string]interface{})["url"] = "$ref:/spec/triggers/rmq/url"
	if resp, out := admit(t, newMutator(t, c, cfg), request(t, admissionv1.Create, "nucliofunctions", obj, false)); out != nil {
		t.Fatalf("opt-out with unrestorable tokens admitted: %+v", resp)
	}
}

func TestCreateOfExistingObjectLeavesItsSecret(t *testing.T) {
	live := &unstructured.Unstructured{Object: function("orders")}
	existing, err := masking.NewSecret(masking.KindFunction, "team-a", "orders", "shop", map[string]string{"$ref:/spec/triggers/rmq/url": "amqp://live"})
	if err != nil {
		t.Fatal(err)
	}
	c := newFakeClient(t, live, existing)
	resp, out := admit(t, newMutator(t, c, DefaultConfig()), request(t, admissionv1.Create, "nucliofunctions", function("orders"), false))
	if out == nil {
		t.Fatalf("denied: %v", resp.Result)
	}
	assertNoPlaintext(t, "response", out)
	if _, values := getSecret(t, c, existing.Name); len(values) != 1 || values["$ref:/spec/triggers/rmq/url"] != "amqp://live" {
		t.Fatal("a create that will fail with AlreadyExists overwrote the live object's Secret")
	}
}

func TestCreateReplacesSecretOfDeletedIncarnation(t *testing.T) {
	stale, err := masking.NewSecret(masking.KindFunction, "team-a", "orders", "shop", map[string]string{"$ref:/old": "old"})
	if err != nil {
		t.Fatal(err)
	}
	stale.OwnerReferences = []metav1.OwnerReference{{APIVersion: "nuclio.io/v1beta1", Kind: "NuclioFunction", Name: "orders", UID: "old-uid"}}
	c := newFakeClient(t, stale)
	if resp, out := admit(t, newMutator(t, c, DefaultConfig()), request(t, admissionv1.Create, "nucliofunctions", function("orders"), false)); out == nil {
		t.Fatalf("denied: %v", resp.Result)
	}
	secret, values := getSecret(t, c, stale.Name)
	if len(secret.OwnerReferences) != 0 || len(values) != 4 {
		t.Fatalf("want a fresh unowned Secret with 4 values, got refs %v and %d values", secret.OwnerReferences, len(values))
	}
}

func TestAPIGateway(t *testing.T) {
	c := newFakeClient(t)
	gw := map[string]interface{}{
		"apiVersion": "nuclio.io/v1beta1", "kind": "NuclioAPIGateway",
		"metadata": map[string]interface{}{"name": "shop", "namespace": "team-a"},
		"spec": map[string]interface{}{"authenticationMode": "basicAuth",
			"authentication": map[string]interface{}{"basicAuth": map[string]interface{}{"username": "admin", "password": "pw-header"}}},
	}
	resp, out := admit(t, newMutator(t, c, DefaultConfig()), request(t, admissionv1.Create, "nuclioapigateways", gw, false))
	if out == nil {
		t.Fatalf("denied: %v", resp.Result)
	}
	assertNoPlaintext(t, "gateway", out)
	secret, values := getSecret(t, c, "nuclio-apigateway-shop-credentials")
	if secret.Type != masking.APIGatewaySecretType || secret.Labels[masking.LabelAPIGatewayName] != "shop" ||
		values["$ref:/spec/authentication/basicauth/password"] != "pw-header" {
		t.Fatalf("type %q labels %v values %d", secret.Type, secret.Labels, len(values))
	}
}

func TestIgnoresWhatItDoesNotHandle(t *testing.T) {
	c := newFakeClient(t)
	m := newMutator(t, c, DefaultConfig())
	for _, req := range []admission.Request{
		request(t, admissionv1.Delete, "nucliofunctions", function("orders"), false),
		request(t, admissionv1.Create, "nuclioprojects", function("orders"), false),
	} {
		if resp := m.Handle(context.Background(), req); !resp.Allowed || len(resp.Patches) != 0 {
			t.Fatalf("%s %s: %+v", req.Operation, req.Resource.Resource, resp)
		}
	}
	plain := function("hello")
	delete(plain["metadata"].(map[string]interface{}), "annotations")
	plain["spec"] = map[string]interface{}{"runtime": "python:3.9"}
	if resp, _ := admit(t, m, request(t, admissionv1.Create, "nucliofunctions", plain, false)); !resp.Allowed || len(resp.Patches) != 0 {
		t.Fatalf("plain object: %+v", resp)
	}
	if secretCount(t, c) != 0 {
		t.Fatal("a plain object got a Secret")
	}
}

func canonicalJSON(t testing.TB, v interface{}) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// BenchmarkAdmission measures Handle with an in-memory API (so it measures the webhook's own work, not
// the network) and reports the p50 and p99 latency of single requests, with and without credentials.
func BenchmarkAdmission(b *testing.B) {
	plain := function("hello")
	delete(plain["metadata"].(map[string]interface{}), "annotations")
	plain["spec"] = map[string]interface{}{"runtime": "python:3.9", "triggers": map[string]interface{}{
		"http": map[string]interface{}{"kind": "http", "attributes": map[string]interface{}{"serviceType": "ClusterIP"}}}}
	for _, bc := range []struct {
		name string
		obj  map[string]interface{}
	}{{"credentials", function("orders")}, {"no-credentials", plain}} {
		b.Run(bc.name, func(b *testing.B) {
			c := newFakeClient(b)
			m := newMutator(b, c, DefaultConfig())
			req := request(b, admissionv1.Create, "nucliofunctions", bc.obj, false)
			var samples []time.Duration
			b.ReportAllocs()
			for b.Loop() {
				start := time.Now()
				if resp := m.Handle(context.Background(), req); !resp.Allowed {
					b.Fatalf("denied: %v", resp.Result)
				}
				samples = append(samples, time.Since(start))
			}
			sort.Slice(samples, func(i, j int) bool { return samples[i] < samples[j] })
			b.ReportMetric(float64(samples[len(samples)/2].Nanoseconds()), "p50-ns")
			b.ReportMetric(float64(samples[len(samples)*99/100].Nanoseconds()), "p99-ns")
		})
	}
}

// TestInternalErrorsAreOpaque: a failing Secret write is reported as a 500 without the error's text,
// which could quote anything.
func TestInternalErrorsAreOpaque(t *testing.T) {
	c := fake.NewClientBuilder().WithScheme(newScheme(t)).WithInterceptorFuncs(interceptor.Funcs{
		Create: func(context.Context, client.WithWatch, client.Object, ...client.CreateOption) error {
			return errors.New("storage said pw-sasl")
		},
	}).Build()
	resp, out := admit(t, newMutator(t, c, DefaultConfig()), request(t, admissionv1.Create, "nucliofunctions", function("orders"), false))
	if out != nil || resp.Result == nil || resp.Result.Code != http.StatusInternalServerError {
		t.Fatalf("want a 500, got %+v", resp)
	}
	assertNoPlaintext(t, "error response", resp.Result)
}

// TestHeaderValueInjectionIsRefused: header values are masked, so the build-source policy never sees
// them; the webhook refuses control characters before masking, naming the header.
func TestHeaderValueInjectionIsRefused(t *testing.T) {
	for name, value := range map[string]string{"crlf": "a\r\nHost: 169.254.169.254", "nul": "a\x00b", "lf": "a\nb"} {
		errs := validateHeaderValues(map[string]interface{}{"spec": map[string]interface{}{"build": map[string]interface{}{
			"codeEntryAttributes": map[string]interface{}{"headers": map[string]interface{}{"X-Custom": value, "Accept": "application/zip"}},
		}}})
		if len(errs) != 1 || errs[0].Field != "spec.build.codeEntryAttributes.headers[X-Custom]" {
			t.Errorf("%s: %v", name, errs)
		}
		if strings.Contains(errs.ToAggregate().Error(), value) {
			t.Errorf("%s: the refusal echoes the value", name)
		}
	}
	ok := map[string]interface{}{"spec": map[string]interface{}{"build": map[string]interface{}{
		"codeEntryAttributes": map[string]interface{}{"headers": map[string]interface{}{"Authorization": "Bearer\ttoken"}},
	}}}
	if errs := validateHeaderValues(ok); len(errs) != 0 {
		t.Errorf("a tab is allowed in a field value: %v", errs)
	}
}
