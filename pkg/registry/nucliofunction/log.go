// Copyright The nuclio-apiserver Authors.
// SPDX-License-Identifier: Apache-2.0

package nucliofunction

import (
	"context"
	"fmt"
	"io"
	"sort"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/selection"
	genericapirequest "k8s.io/apiserver/pkg/endpoints/request"
	"k8s.io/apiserver/pkg/registry/rest"
	"k8s.io/client-go/kubernetes"

	"github.com/nuclio-apiserver/nuclio-apiserver/apis/nuclio"
	"github.com/nuclio-apiserver/nuclio-apiserver/apis/nuclio/v1beta1"
)

const (
	// LabelComponent marks build pods (value ComponentBuilder); processor pods do not carry it.
	LabelComponent = "nuclio.io/component"
	// ComponentBuilder is LabelComponent's value on build pods.
	ComponentBuilder = "builder"
	// ProcessorContainer is the function container of processor pods (nuclio/nuclio:pkg/platform/kube/client/function.go).
	ProcessorContainer = "nuclio"
)

// LogREST is the nucliofunctions/log subresource: it streams the processor's log (the newest pod, or
// the one named by ?pod=) or, with ?build=true, the newest build pod's log, through the core API's
// pods/log. It is named `log` so that kube-apiserver treats it as long-running and `follow` streams are
// not cut at its request timeout.
type LogREST struct {
	store rest.Getter
	pods  kubernetes.Interface
}

var (
	_ rest.GetterWithOptions = &LogREST{}
	_ rest.StorageMetadata   = &LogREST{}
)

// NewLogREST returns the log endpoint.
func NewLogREST(store rest.Getter, pods kubernetes.Interface) *LogREST {
	return &LogREST{store: store, pods: pods}
}

// New returns an empty FunctionLogOptions.
func (r *LogREST) New() runtime.Object { return &nuclio.FunctionLogOptions{} }

// Destroy does nothing.
func (r *LogREST) Destroy() {}

// ProducesMIMETypes declares the stream's content type for discovery and OpenAPI.
func (r *LogREST) ProducesMIMETypes(string) []string { return []string{"text/plain"} }

// ProducesObject is the stream's schema: a string.
func (r *LogREST) ProducesObject(string) interface{} { return "" }

// NewGetOptions returns the options object decoded from the query.
func (r *LogREST) NewGetOptions() (runtime.Object, bool, string) {
	return &nuclio.FunctionLogOptions{}, false, ""
}

// Get picks the pod and returns a stream of its log. Errors: NotFound for a missing function or when
// it has no (build) pod, BadRequest for negative tailLines/sinceSeconds or a pod not of this function.
func (r *LogREST) Get(ctx context.Context, name string, options runtime.Object) (runtime.Object, error) {
	opts, ok := options.(*nuclio.FunctionLogOptions)
	if !ok {
		return nil, fmt.Errorf("invalid options object: %T", options)
	}
	if opts.TailLines != nil && *opts.TailLines < 0 {
		return nil, apierrors.NewBadRequest("tailLines must not be negative")
	}
	if opts.SinceSeconds != nil && *opts.SinceSeconds < 1 {
		return nil, apierrors.NewBadRequest("sinceSeconds must be positive")
	}
	if _, err := r.store.Get(ctx, name, &metav1.GetOptions{}); err != nil {
		return nil, err
	}
	ns, _ := genericapirequest.NamespaceFrom(ctx)
	pod, container, err := r.pickPod(ctx, ns, name, opts)
	if err != nil {
		return nil, err
	}
	logOpts := &corev1.PodLogOptions{Container: container, Follow: opts.Follow, TailLines: opts.TailLines, SinceSeconds: opts.SinceSeconds}
	return &logStreamer{req: r.pods.CoreV1().Pods(ns).GetLogs(pod.Name, logOpts)}, nil
}

// pickPod selects the pod and container whose log is wanted.
func (r *LogREST) pickPod(ctx context.Context, ns, function string, opts *nuclio.FunctionLogOptions) (*corev1.Pod, string, error) {
	sel := labels.SelectorFromSet(labels.Set{v1beta1.LabelFunctionName: function})
	op := selection.NotEquals
	if opts.Build {
		op = selection.Equals
	}
	req, err := labels.NewRequirement(LabelComponent, op, []string{ComponentBuilder})
	if err != nil {
		return nil, "", err
	}
	sel = sel.Add(*req)
	list, err := r.pods.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: sel.String()})
	if err != nil {
		return nil, "", apierrors.NewInternalError(fmt.Errorf("listing pods of function %q: %w", function, err))
	}
	what := "processor"
	if opts.Build {
		what = "build"
	}
	if opts.Pod != "" {
		for i := range list.Items {
			if list.Items[i].Name == opts.Pod {
				return &list.Items[i], containerOf(&list.Items[i], opts.Build), nil
			}
		}
		return nil, "", apierrors.NewBadRequest(fmt.Sprintf("pod %q is not a %s pod of function %q", opts.Pod, what, function))
	}
	if len(list.Items) == 0 {
		return nil, "", apierrors.NewNotFound(corev1.Resource("pods"), fmt.Sprintf("%s pod of function %s", what, function))
	}
	sort.Slice(list.Items, func(i, j int) bool {
		return list.Items[j].CreationTimestamp.Before(&list.Items[i].CreationTimestamp)
	})
	return &list.Items[0], containerOf(&list.Items[0], opts.Build), nil
}

// containerOf is the container whose log is streamed: the processor's `nuclio`, or for a build pod the
// last container (the image builder; the fetcher is an init container).
func containerOf(pod *corev1.Pod, build bool) string {
	if !build {
		return ProcessorContainer
	}
	if n := len(pod.Spec.Containers); n > 0 {
		return pod.Spec.Containers[n-1].Name
	}
	return ""
}

// logStreamer opens the pods/log stream when the handler asks for it.
type logStreamer struct {
	req interface {
		Stream(context.Context) (io.ReadCloser, error)
	}
}

// GetObjectKind makes the streamer a runtime.Object; it is never encoded.
func (s *logStreamer) GetObjectKind() schema.ObjectKind { return schema.EmptyObjectKind }

// DeepCopyObject returns the streamer itself: it holds no state the handler could modify.
func (s *logStreamer) DeepCopyObject() runtime.Object { return s }

// InputStream streams the log as text/plain, flushed as it arrives.
func (s *logStreamer) InputStream(ctx context.Context, _, _ string) (io.ReadCloser, bool, string, error) {
	stream, err := s.req.Stream(ctx)
	if err != nil {
		if status, ok := err.(apierrors.APIStatus); ok {
			return nil, false, "", &apierrors.StatusError{ErrStatus: status.Status()}
		}
		return nil, false, "", apierrors.NewServiceUnavailable(fmt.Sprintf("reading the pod log: %v", err))
	}
	return stream, true, "text/plain", nil
}
