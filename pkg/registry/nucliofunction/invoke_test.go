// Copyright The nuclio-apiserver Authors.
// SPDX-License-Identifier: Apache-2.0

package nucliofunction

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	genericapirequest "k8s.io/apiserver/pkg/endpoints/request"
	kubefake "k8s.io/client-go/kubernetes/fake"
	"k8s.io/utils/ptr"

	"github.com/nuclio-apiserver/nuclio-apiserver/apis/nuclio"
)

// fakeGetter returns one function.
type fakeGetter struct{ fn *nuclio.NuclioFunction }

func (g fakeGetter) Get(_ context.Context, name string, _ *metav1.GetOptions) (runtime.Object, error) {
	if g.fn == nil || g.fn.Name != name {
		return nil, apierrors.NewNotFound(nuclio.Resource("nucliofunctions"), name)
	}
	return g.fn, nil
}

type recordingResponder struct{ err error }

func (r *recordingResponder) Object(int, runtime.Object) {}
func (r *recordingResponder) Error(err error)            { r.err = err }

// TestInvokeProxiesToTheService runs a stand-in processor on loopback. The transport's dialer sends the
// Service address (ClusterIP:8080) to it and fails the test for any other address.
func TestInvokeProxiesToTheService(t *testing.T) {
	var got *http.Request
	var body string
	processor := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r
		b, _ := io.ReadAll(r.Body)
		body = string(b)
		w.Header().Set("X-Function", "yes")
		w.WriteHeader(http.StatusTeapot)
		_, _ = io.WriteString(w, "Hello, from nuclio :]")
	}))
	defer processor.Close()

	kube := kubefake.NewClientset(&corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "nuclio-hello", Namespace: "team-a"},
		Spec:       corev1.ServiceSpec{ClusterIP: "127.96.0.10"},
	})
	fn := &nuclio.NuclioFunction{ObjectMeta: metav1.ObjectMeta{Name: "hello", Namespace: "team-a"}}
	r := NewInvokeREST(fakeGetter{fn}, kube)
	r.transport = &http.Transport{Proxy: nil, DialContext: func(ctx context.Context, network, address string) (net.Conn, error) {
		if address != "127.96.0.10:8080" {
			t.Errorf("dialled %s, want the Service's 127.96.0.10:8080", address)
			return nil, io.EOF
		}
		return (&net.Dialer{}).DialContext(ctx, network, processor.Listener.Addr().String())
	}}

	ctx := genericapirequest.WithNamespace(context.Background(), "team-a")
	responder := &recordingResponder{}
	h, err := r.Connect(ctx, "hello", &nuclio.FunctionInvokeOptions{Path: "/greet"}, responder)
	if err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequest(http.MethodPost, "/apis/nuclio.io/v1beta1/namespaces/team-a/nucliofunctions/hello/invoke/greet?path=greet&name=world", strings.NewReader("ping"))
	req.Header.Set("Authorization", "Bearer kube-token")
	req.Header.Set("X-Remote-User", "alice")
	req.Header.Set("Impersonate-User", "root")
	req.Header.Set("X-Custom", "kept")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)

	if responder.err != nil {
		t.Fatal(responder.err)
	}
	if rec.Code != http.StatusTeapot || rec.Body.String() != "Hello, from nuclio :]" || rec.Header().Get("X-Function") != "yes" {
		t.Errorf("response %d %q %v", rec.Code, rec.Body.String(), rec.Header())
	}
	if got == nil {
		t.Fatal("the processor was not called")
	}
	if got.Method != http.MethodPost || got.URL.Path != "/greet" || got.URL.Query().Get("name") != "world" || got.URL.Query().Has("path") || body != "ping" {
		t.Errorf("forwarded %s %s body %q", got.Method, got.URL, body)
	}
	for _, h := range []string{"Authorization", "X-Remote-User", "Impersonate-User"} {
		if got.Header.Get(h) != "" {
			t.Errorf("header %s reached the function", h)
		}
	}
	if got.Header.Get("X-Custom") != "kept" || got.Header.Get("X-Nuclio-Target") != "hello" {
		t.Errorf("headers %v", got.Header)
	}
}

func TestInvokeErrors(t *testing.T) {
	ctx := genericapirequest.WithNamespace(context.Background(), "team-a")
	fn := &nuclio.NuclioFunction{ObjectMeta: metav1.ObjectMeta{Name: "hello", Namespace: "team-a"}, Status: nuclio.FunctionStatus{State: "building"}}
	r := NewInvokeREST(fakeGetter{fn}, kubefake.NewClientset())
	if _, err := r.Connect(ctx, "missing", &nuclio.FunctionInvokeOptions{}, &recordingResponder{}); !apierrors.IsNotFound(err) {
		t.Errorf("missing function: %v", err)
	}
	_, err := r.Connect(ctx, "hello", &nuclio.FunctionInvokeOptions{}, &recordingResponder{})
	if !apierrors.IsServiceUnavailable(err) || !strings.Contains(err.Error(), "building") {
		t.Errorf("function without a Service: %v", err)
	}
	if _, err := r.Connect(ctx, "hello", &nuclio.FunctionInvokeOptions{TimeoutSeconds: ptr.To[int64](0)}, &recordingResponder{}); !apierrors.IsBadRequest(err) {
		t.Errorf("timeoutSeconds 0: %v", err)
	}
}

func TestLogPicksThePod(t *testing.T) {
	now := metav1.Now()
	older := metav1.NewTime(now.Add(-60e9))
	pod := func(name string, created metav1.Time, component string) *corev1.Pod {
		labels := map[string]string{"nuclio.io/function-name": "hello"}
		if component != "" {
			labels[LabelComponent] = component
		}
		return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "team-a", Labels: labels, CreationTimestamp: created},
			Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "kaniko"}}}}
	}
	kube := kubefake.NewClientset(pod("old", older, ""), pod("new", now, ""), pod("build", now, ComponentBuilder))
	fn := &nuclio.NuclioFunction{ObjectMeta: metav1.ObjectMeta{Name: "hello", Namespace: "team-a"}}
	r := NewLogREST(fakeGetter{fn}, kube)
	ctx := context.Background()
	for _, tc := range []struct {
		opts           nuclio.FunctionLogOptions
		pod, container string
	}{
		{nuclio.FunctionLogOptions{}, "new", "nuclio"},
		{nuclio.FunctionLogOptions{Pod: "old"}, "old", "nuclio"},
		{nuclio.FunctionLogOptions{Build: true}, "build", "kaniko"},
	} {
		p, c, err := r.pickPod(ctx, "team-a", "hello", &tc.opts)
		if err != nil || p.Name != tc.pod || c != tc.container {
			t.Errorf("%+v: got %v/%s, %v; want %s/%s", tc.opts, p, c, err, tc.pod, tc.container)
		}
	}
	if _, _, err := r.pickPod(ctx, "team-a", "hello", &nuclio.FunctionLogOptions{Pod: "build"}); !apierrors.IsBadRequest(err) {
		t.Errorf("a build pod as processor pod: %v", err)
	}
	if _, _, err := r.pickPod(ctx, "team-a", "other", &nuclio.FunctionLogOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("a function without pods: %v", err)
	}
	if _, err := r.Get(genericapirequest.WithNamespace(ctx, "team-a"), "hello", &nuclio.FunctionLogOptions{TailLines: ptr.To[int64](-1)}); !apierrors.IsBadRequest(err) {
		t.Errorf("negative tailLines: %v", err)
	}
}
