// Copyright The nuclio-apiserver Authors.
// SPDX-License-Identifier: Apache-2.0

package nucliofunction

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	genericapirequest "k8s.io/apiserver/pkg/endpoints/request"
	"k8s.io/apiserver/pkg/registry/rest"
	"k8s.io/client-go/kubernetes"

	"github.com/nuclio-apiserver/nuclio-apiserver/apis/nuclio"
)

const (
	// ProcessorHTTPPort is the port of the processor's http trigger and of the function Service
	// (nuclio/nuclio:pkg/platform/abstract/platform.go FunctionContainerHTTPPort).
	ProcessorHTTPPort = 8080
	// DefaultInvokeTimeout is Nuclio's default invocation timeout (platformconfig DefaultInvocationTimeout).
	DefaultInvokeTimeout = 60 * time.Second
	// MaxInvokeTimeout bounds timeoutSeconds: kube-apiserver cuts non-long-running requests at its
	// --request-timeout (60 s by default) anyway, so a longer wait would only hold a connection.
	MaxInvokeTimeout = 5 * time.Minute
)

// ServiceName is the Service of a function's processor pods, `nuclio-<function>`
// (nuclio/nuclio:pkg/platform/kube/types.go).
func ServiceName(function string) string { return "nuclio-" + function }

// InvokeREST is the nucliofunctions/invoke subresource, the Kubernetes replacement for the dashboard's
// /api/function_invocations: it proxies one HTTP request (any method, the path below /invoke, headers,
// body) to the function's Service on port 8080 and returns the function's response. RBAC verbs follow
// the method (POST → create, GET → get, ...), so `create nucliofunctions/invoke` is the right to call a
// function with a body.
type InvokeREST struct {
	store    rest.Getter
	services kubernetes.Interface
	// transport dials the function Service; nil means a plain HTTP transport without proxies.
	transport http.RoundTripper
}

var _ rest.Connecter = &InvokeREST{}

// NewInvokeREST returns the invoke endpoint. services reads the function's Service from the core API.
func NewInvokeREST(store rest.Getter, services kubernetes.Interface) *InvokeREST {
	return &InvokeREST{store: store, services: services, transport: &http.Transport{
		// The Service is inside the cluster; an environment proxy must never see function traffic.
		Proxy:               nil,
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
		MaxIdleConnsPerHost: 16,
		IdleConnTimeout:     90 * time.Second,
	}}
}

// New returns an empty FunctionInvokeOptions (the options object of the subresource).
func (r *InvokeREST) New() runtime.Object { return &nuclio.FunctionInvokeOptions{} }

// Destroy does nothing.
func (r *InvokeREST) Destroy() {}

// NewConnectOptions returns the options and says the URL remainder fills options.path.
func (r *InvokeREST) NewConnectOptions() (runtime.Object, bool, string) {
	return &nuclio.FunctionInvokeOptions{}, true, "path"
}

// ConnectMethods are the HTTP methods a function may be invoked with (those the dashboard forwards).
func (r *InvokeREST) ConnectMethods() []string {
	return []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodOptions}
}

// Connect resolves the function's Service and returns a handler that forwards the request to it.
// Errors: NotFound for a missing function, ServiceUnavailable when the function has no Service or
// ClusterIP yet (it is still building or deploying), BadRequest for a bad timeout.
func (r *InvokeREST) Connect(ctx context.Context, name string, options runtime.Object, responder rest.Responder) (http.Handler, error) {
	opts, ok := options.(*nuclio.FunctionInvokeOptions)
	if !ok {
		return nil, fmt.Errorf("invalid options object: %T", options)
	}
	timeout := DefaultInvokeTimeout
	if opts.TimeoutSeconds != nil {
		if *opts.TimeoutSeconds <= 0 || time.Duration(*opts.TimeoutSeconds)*time.Second > MaxInvokeTimeout {
			return nil, apierrors.NewBadRequest(fmt.Sprintf("timeoutSeconds must be between 1 and %d", int(MaxInvokeTimeout.Seconds())))
		}
		timeout = time.Duration(*opts.TimeoutSeconds) * time.Second
	}
	ns, _ := genericapirequest.NamespaceFrom(ctx)
	obj, err := r.store.Get(ctx, name, &metav1.GetOptions{})
	if err != nil {
		return nil, err
	}
	fn := obj.(*nuclio.NuclioFunction)
	svc, err := r.services.CoreV1().Services(ns).Get(ctx, ServiceName(name), metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil, apierrors.NewServiceUnavailable(fmt.Sprintf("function %q has no Service %s yet (state %q)", name, ServiceName(name), fn.Status.State))
	}
	if err != nil {
		return nil, apierrors.NewInternalError(fmt.Errorf("reading Service %s/%s: %w", ns, ServiceName(name), err))
	}
	if svc.Spec.ClusterIP == "" || svc.Spec.ClusterIP == "None" {
		return nil, apierrors.NewServiceUnavailable(fmt.Sprintf("Service %s of function %q has no cluster IP", ServiceName(name), name))
	}

	target := &url.URL{Scheme: "http", Host: net.JoinHostPort(svc.Spec.ClusterIP, strconv.Itoa(ProcessorHTTPPort)), Path: "/" + strings.TrimPrefix(opts.Path, "/")}
	return &invokeHandler{target: target, function: name, timeout: timeout, transport: r.transport, responder: responder}, nil
}

// invokeHandler forwards one request to a function.
type invokeHandler struct {
	target    *url.URL
	function  string
	timeout   time.Duration
	transport http.RoundTripper
	responder rest.Responder
}

// strippedHeaders never reach a function: the identity headers kube-apiserver adds for aggregated
// servers, credentials meant for the Kubernetes API, and impersonation.
var strippedHeaders = []string{"Authorization", "Cookie", "Proxy-Authorization"}

var strippedPrefixes = []string{"X-Remote-", "Impersonate-"}

func (h *invokeHandler) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	ctx, cancel := context.WithTimeout(req.Context(), h.timeout)
	defer cancel()
	proxy := &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.Out.URL = &url.URL{Scheme: h.target.Scheme, Host: h.target.Host, Path: h.target.Path, RawQuery: pr.In.URL.RawQuery}
			// The query of the API request carries our own options; only the function's remain.
			q := pr.Out.URL.Query()
			q.Del("path")
			q.Del("timeoutSeconds")
			pr.Out.URL.RawQuery = q.Encode()
			pr.Out.Host = ""
			for _, name := range strippedHeaders {
				pr.Out.Header.Del(name)
			}
			for name := range pr.Out.Header {
				for _, prefix := range strippedPrefixes {
					if strings.HasPrefix(http.CanonicalHeaderKey(name), prefix) {
						pr.Out.Header.Del(name)
					}
				}
			}
			// Nuclio's processor routes by this header (the dashboard and ingress set it too).
			pr.Out.Header.Set("X-Nuclio-Target", h.function)
		},
		Transport: h.transport,
		ErrorHandler: func(w http.ResponseWriter, _ *http.Request, err error) {
			if ctx.Err() == context.DeadlineExceeded {
				h.responder.Error(apierrors.NewTimeoutError(fmt.Sprintf("function %q did not answer within %s", h.function, h.timeout), 0))
				return
			}
			h.responder.Error(apierrors.NewServiceUnavailable(fmt.Sprintf("invoking function %q: %v", h.function, err)))
		},
	}
	proxy.ServeHTTP(w, req.WithContext(ctx))
}
