// Copyright The nuclio-apiserver Authors.
// SPDX-License-Identifier: Apache-2.0

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// Variants under test.
const (
	variantCRD         = "CRD (kube-apiserver)"
	variantNuclio      = "nuclio.io"
	variantNoAdmission = "nuclio.io, no admission"
)

// Variant is one server under test: where its functions live and how to reach them.
type Variant struct {
	// Name is one of the variant constants; Short is a label for progress output.
	Name, Short string
	// Group is the API group (nucliocrd.io or nuclio.io); Namespace is the variant's own namespace.
	Group, Namespace string
}

func (v Variant) path() string {
	return fmt.Sprintf("/apis/%s/%s/namespaces/%s/%s", v.Group, apiVersionName, v.Namespace, resourceName)
}

// client is one benchmark client with its own connection (its own HTTP transport): dynamic for
// object operations, kube for raw requests.
type client struct {
	dyn  dynamic.Interface
	kube kubernetes.Interface
	http *http.Client
	host string
}

// warnings prints each distinct server warning (e.g. a deprecated field) once for all clients.
var warnings = rest.NewWarningWriter(os.Stderr, rest.WarningWriterOptions{Deduplicate: true})

// requestTimeout bounds every request of a benchmark client; watch clients have none, as the
// timeout would cut their streams.
const requestTimeout = 2 * time.Minute

// newClient makes a client from base that is not rate-limited and does not share its connection;
// timeout bounds each request (0: unbounded, for watches). Proxy is set to "no proxy": the traffic
// stays on loopback whatever the environment says, and a non-nil Proxy also keeps client-go from
// sharing one cached transport among clients.
func newClient(base *rest.Config, timeout time.Duration) (*client, error) {
	cfg := rest.CopyConfig(base)
	cfg.QPS, cfg.Burst = 1000, 2000
	cfg.Timeout = timeout
	cfg.UserAgent = "nuclio-bench"
	cfg.Proxy = func(*http.Request) (*url.URL, error) { return nil, nil }
	cfg.WarningHandler = warnings
	hc, err := rest.HTTPClientFor(cfg)
	if err != nil {
		return nil, err
	}
	dyn, err := dynamic.NewForConfigAndClient(cfg, hc)
	if err != nil {
		return nil, err
	}
	kube, err := kubernetes.NewForConfigAndClient(cfg, hc)
	if err != nil {
		return nil, err
	}
	return &client{dyn: dyn, kube: kube, http: hc, host: cfg.Host}, nil
}

// warm opens (or keeps alive) the client's connection, so TLS handshakes stay out of the samples.
func (c *client) warm(ctx context.Context) error {
	_, err := c.kube.Discovery().RESTClient().Get().AbsPath("/version").DoRaw(ctx)
	return err
}

// cellFunc performs operation i with client c and returns its latency (measured by the function, so
// that waiting for a lock is not counted).
type cellFunc func(ctx context.Context, c *client, i int) (time.Duration, error)

// runCell runs up to n operations on `clients` concurrent clients until n are done or maxDur has
// passed (operations in flight then finish), and records their latencies.
func (b *Bench) runCell(ctx context.Context, r *Result, n int, maxDur time.Duration, fn cellFunc) *Result {
	clients := b.pool[:r.Clients]
	for _, c := range clients {
		if err := c.warm(ctx); err != nil {
			r.Errors++
			r.FirstError = "warming up: " + err.Error()
			return r
		}
	}
	var next atomic.Int64
	var mu sync.Mutex
	var wg sync.WaitGroup
	start := time.Now()
	deadline := start.Add(maxDur)
	for _, c := range clients {
		wg.Add(1)
		go func(c *client) {
			defer wg.Done()
			var local []time.Duration
			for {
				i := int(next.Add(1) - 1)
				if i >= n || ctx.Err() != nil || time.Now().After(deadline) {
					break
				}
				d, err := fn(ctx, c, i)
				if err != nil {
					mu.Lock()
					r.Errors++
					if r.FirstError == "" {
						r.FirstError = err.Error()
					}
					mu.Unlock()
					continue
				}
				local = append(local, d)
			}
			mu.Lock()
			r.Latencies = append(r.Latencies, local...)
			mu.Unlock()
		}(c)
	}
	wg.Wait()
	r.Start, r.Wall = start, time.Since(start)
	r.Finish()
	return r
}

// timed measures f.
func timed(f func() error) (time.Duration, error) {
	start := time.Now()
	err := f()
	return time.Since(start), err
}

// singleObject measures create, get and update of one payload at one concurrency, then deletes
// everything it created.
func (b *Bench) singleObject(ctx context.Context, v Variant, payload string, clients int) error {
	n, maxDur := b.mode.opsPerCell(clients), b.mode.cellDuration
	prefix := fmt.Sprintf("%s-c%d", map[string]string{payloadPlain: "p", payloadCredentials: "k"}[payload], clients)
	res := func(op string) *Result {
		return &Result{Variant: v.Name, Op: op, Payload: payload, Clients: clients}
	}
	ri := func(c *client) dynamic.ResourceInterface { return c.dyn.Resource(gvr(v.Group)).Namespace(v.Namespace) }

	// create: each operation writes a new object; the responses are kept for get and update.
	created := make([]*unstructured.Unstructured, n)
	r := b.runCell(ctx, res("create"), n, maxDur, func(ctx context.Context, c *client, i int) (time.Duration, error) {
		obj := b.fx.Function(v.Group, v.Namespace, fmt.Sprintf("%s-%05d", prefix, i), payload)
		var out *unstructured.Unstructured
		d, err := timed(func() (err error) {
			out, err = ri(c).Create(ctx, obj, metav1.CreateOptions{})
			return err
		})
		created[i] = out
		return d, err
	})
	b.record(v, r)
	var objs []*unstructured.Unstructured
	for _, o := range created {
		if o != nil {
			objs = append(objs, o)
		}
	}
	if len(objs) == 0 {
		return fmt.Errorf("%s: no object was created: %s", v.Name, r.FirstError)
	}

	// get: round-robin over the created objects.
	b.record(v, b.runCell(ctx, res("get"), n, maxDur, func(ctx context.Context, c *client, i int) (time.Duration, error) {
		name := objs[i%len(objs)].GetName()
		return timed(func() error {
			_, err := ri(c).Get(ctx, name, metav1.GetOptions{})
			return err
		})
	}))

	// update: a spec change on the latest version of an object (as `kubectl edit` sends); an object
	// is updated by one client at a time so there are no conflicts, and waiting for it is not counted.
	locks := make([]sync.Mutex, len(objs))
	b.record(v, b.runCell(ctx, res("update"), n, maxDur, func(ctx context.Context, c *client, i int) (time.Duration, error) {
		j := i % len(objs)
		locks[j].Lock()
		defer locks[j].Unlock()
		obj := objs[j].DeepCopy()
		if err := unstructured.SetNestedField(obj.Object, fmt.Sprintf("Showcases logging (update %d).", i), "spec", "description"); err != nil {
			return 0, err
		}
		var out *unstructured.Unstructured
		d, err := timed(func() (err error) {
			out, err = ri(c).Update(ctx, obj, metav1.UpdateOptions{})
			return err
		})
		if err == nil {
			objs[j] = out
		}
		return d, err
	}))
	return b.cleanup(ctx, v)
}

// watchLatency measures watch-event latency with `clients` concurrent writers creating objects and
// one watch on the namespace: for each create, the time from sending it to its ADDED event's arrival,
// and from its response to the event's arrival (the event may come first: kube-apiserver sends the
// response and the event independently).
func (b *Bench) watchLatency(ctx context.Context, v Variant, clients int) error {
	n, maxDur := b.mode.watchOps(clients), b.mode.cellDuration
	r := &Result{Variant: v.Name, Op: "watch", Payload: payloadPlain, Clients: clients}
	ri := b.watcher.dyn.Resource(gvr(v.Group)).Namespace(v.Namespace)
	list, err := ri.List(ctx, metav1.ListOptions{Limit: 1})
	if err != nil {
		return err
	}
	terminatedBefore := b.terminatedWatchers(ctx, v)
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()

	var mu sync.Mutex
	arrived := map[string]time.Time{}
	notify := make(chan struct{}, 1)
	var restarts atomic.Int64
	established := make(chan error, 1)
	go func() {
		// A watch the server ends early is resumed from the last resourceVersion seen, as an informer
		// would; the restarts are reported, and events that never arrive count as errors.
		rv := list.GetResourceVersion()
		first := true
		for wctx.Err() == nil {
			w, err := ri.Watch(wctx, metav1.ListOptions{ResourceVersion: rv})
			if first {
				established <- err
				first = false
				if err != nil {
					return
				}
			}
			if err != nil {
				time.Sleep(100 * time.Millisecond)
				continue
			}
			expired := false
			for ev := range w.ResultChan() {
				at := time.Now()
				if ev.Type == watch.Error {
					expired = true // e.g. 410 Gone: resume from a fresh list below
					continue
				}
				obj, ok := ev.Object.(*unstructured.Unstructured)
				if !ok || (ev.Type != watch.Added && ev.Type != watch.Modified && ev.Type != watch.Deleted) {
					continue
				}
				rv = obj.GetResourceVersion()
				if ev.Type != watch.Added {
					continue
				}
				mu.Lock()
				arrived[obj.GetName()] = at
				mu.Unlock()
				select {
				case notify <- struct{}{}:
				default:
				}
			}
			w.Stop()
			if wctx.Err() != nil {
				return
			}
			restarts.Add(1)
			if expired {
				if l, err := ri.List(wctx, metav1.ListOptions{Limit: 1}); err == nil {
					rv = l.GetResourceVersion()
				}
				time.Sleep(100 * time.Millisecond)
			}
		}
	}()
	if err := <-established; err != nil {
		return err
	}
	// waitFor waits until every name has arrived or the timeout passes.
	waitFor := func(names []string, timeout time.Duration) {
		deadline := time.After(timeout)
		for {
			mu.Lock()
			all := true
			for _, nm := range names {
				if _, ok := arrived[nm]; !ok {
					all = false
					break
				}
			}
			mu.Unlock()
			if all {
				return
			}
			select {
			case <-notify:
			case <-time.After(50 * time.Millisecond):
			case <-deadline:
				return
			}
		}
	}
	name := func(i int) string { return fmt.Sprintf("w-c%d-%05d", clients, i) }
	// A sentinel write proves the watch is established before anything is timed.
	sentinel := fmt.Sprintf("w-c%d-sentinel", clients)
	if _, err := ri.Create(ctx, b.fx.Function(v.Group, v.Namespace, sentinel, payloadPlain), metav1.CreateOptions{}); err != nil {
		return err
	}
	waitFor([]string{sentinel}, 30*time.Second)
	mu.Lock()
	_, ok := arrived[sentinel]
	mu.Unlock()
	if !ok {
		return fmt.Errorf("%s: the watch delivered no event within 30s", v.Name)
	}

	sent, responded := make([]time.Time, n), make([]time.Time, n)
	r = b.runCell(ctx, r, n, maxDur, func(ctx context.Context, c *client, i int) (time.Duration, error) {
		obj := b.fx.Function(v.Group, v.Namespace, name(i), payloadPlain)
		sent[i] = time.Now()
		_, err := c.dyn.Resource(gvr(v.Group)).Namespace(v.Namespace).Create(ctx, obj, metav1.CreateOptions{})
		if err == nil {
			responded[i] = time.Now()
		}
		return responded[i].Sub(sent[i]), err
	})
	// The cell's samples so far are the creates' latencies; replace them by the event delays, and
	// count throughput as events delivered per second until the last one arrived.
	var names []string
	for i, t := range responded {
		if !t.IsZero() {
			names = append(names, name(i))
		}
	}
	waitFor(names, 30*time.Second)
	r.Latencies = r.Latencies[:0]
	last := r.Start
	mu.Lock()
	for i, t := range responded {
		if t.IsZero() {
			continue
		}
		at, ok := arrived[name(i)]
		if !ok {
			r.Errors++
			if r.FirstError == "" {
				r.FirstError = "an ADDED event did not arrive within 30s"
			}
			continue
		}
		r.Latencies = append(r.Latencies, at.Sub(sent[i]))
		r.AfterResponse = append(r.AfterResponse, at.Sub(t))
		if at.After(last) {
			last = at
		}
	}
	mu.Unlock()
	r.Wall = last.Sub(r.Start)
	r.WatchRestarts = int(restarts.Load())
	r.WatchersTerminated = -1
	if after := b.terminatedWatchers(ctx, v); after >= 0 && terminatedBefore >= 0 {
		r.WatchersTerminated = after - terminatedBefore
	}
	r.Finish()
	b.record(v, r)
	return b.cleanup(ctx, v)
}

// lists loads the namespace up to each collection size and measures full (unpaginated) lists: the
// time until the last byte of the JSON response is read. The client does not decode the timed
// lists, so the figures are the servers' (plus transfer); one untimed list per size checks the
// count. At the memory size it samples resident memory right after loading and again after the
// list cells (serving large lists leaves buffers behind).
func (b *Bench) lists(ctx context.Context, v Variant) error {
	loaded := 0
	for _, size := range b.mode.listSizes {
		start := time.Now()
		if err := b.load(ctx, v, loaded, size); err != nil {
			return err
		}
		b.progressf("    loaded %d objects in %.1fs", size, time.Since(start).Seconds())
		loaded = size
		list, err := b.pool[0].dyn.Resource(gvr(v.Group)).Namespace(v.Namespace).List(ctx, metav1.ListOptions{})
		if err != nil {
			return err
		}
		if len(list.Items) != size {
			return fmt.Errorf("%s: listed %d objects, want %d", v.Name, len(list.Items), size)
		}
		if size == b.mode.memorySize {
			b.sampleMemory(v, size)
		}
		for _, clients := range b.mode.clientCounts {
			r := &Result{Variant: v.Name, Op: "list", Payload: payloadPlain, Objects: size, Clients: clients}
			n, maxDur, skip := b.mode.listOps(size, clients)
			if skip != "" {
				r.Skipped = skip
				b.record(v, r)
				continue
			}
			b.record(v, b.runCell(ctx, r, n, maxDur, func(ctx context.Context, c *client, _ int) (time.Duration, error) {
				return timed(func() error {
					body, err := c.kube.Discovery().RESTClient().Get().AbsPath(v.path()).
						SetHeader("Accept", "application/json").Stream(ctx)
					if err != nil {
						return err
					}
					defer body.Close()
					_, err = io.Copy(io.Discard, body)
					return err
				})
			}))
		}
		if size == b.mode.memorySize {
			b.sampleMemoryAfterLists(v)
		}
	}
	return b.cleanup(ctx, v)
}

// load creates objects from..to-1 (plain payload) with the whole client pool.
func (b *Bench) load(ctx context.Context, v Variant, from, to int) error {
	var next atomic.Int64
	next.Store(int64(from))
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	for _, c := range b.pool[:b.mode.loadClients] {
		wg.Add(1)
		go func(c *client) {
			defer wg.Done()
			ri := c.dyn.Resource(gvr(v.Group)).Namespace(v.Namespace)
			for {
				i := int(next.Add(1) - 1)
				if i >= to || ctx.Err() != nil {
					return
				}
				obj := b.fx.Function(v.Group, v.Namespace, fmt.Sprintf("l-%05d", i), payloadPlain)
				// Retry a few times: loading is not measured, and one transient error must not waste the run.
				err := wait.ExponentialBackoffWithContext(ctx, wait.Backoff{Duration: 100 * time.Millisecond, Factor: 2, Steps: 5},
					func(ctx context.Context) (bool, error) {
						_, err := ri.Create(ctx, obj, metav1.CreateOptions{})
						if err == nil || apierrors.IsAlreadyExists(err) {
							return true, nil
						}
						if apierrors.IsTooManyRequests(err) || apierrors.IsServerTimeout(err) || apierrors.IsTimeout(err) || apierrors.IsServiceUnavailable(err) {
							return false, nil
						}
						return false, err
					})
				if err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = fmt.Errorf("loading %s: %w", v.Name, err)
					}
					mu.Unlock()
					return
				}
			}
		}(c)
	}
	wg.Wait()
	return firstErr
}

// cleanup deletes every function (and Secret: nuclio-webhook writes one per function with
// credentials) in the variant's namespace and waits until the functions are gone.
func (b *Bench) cleanup(ctx context.Context, v Variant) error {
	ri := b.cp.Dynamic.Resource(gvr(v.Group)).Namespace(v.Namespace)
	if err := ri.DeleteCollection(ctx, metav1.DeleteOptions{}, metav1.ListOptions{}); err != nil {
		return fmt.Errorf("cleaning up %s: %w", v.Name, err)
	}
	if err := b.cp.Kube.CoreV1().Secrets(v.Namespace).DeleteCollection(ctx, metav1.DeleteOptions{}, metav1.ListOptions{}); err != nil {
		return fmt.Errorf("cleaning up Secrets of %s: %w", v.Name, err)
	}
	return wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, 2*time.Minute, true, func(ctx context.Context) (bool, error) {
		l, err := ri.List(ctx, metav1.ListOptions{Limit: 1})
		if err != nil {
			return false, nil
		}
		return len(l.Items) == 0, nil
	})
}

// ensureNamespace creates a variant's namespace.
func (b *Bench) ensureNamespace(ctx context.Context, name string) error {
	_, err := b.cp.Kube.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{})
	if apierrors.IsAlreadyExists(err) {
		return nil
	}
	return err
}

// ProtobufProbe is what a server answered to a request that accepts only protobuf.
type ProtobufProbe struct {
	Variant     string
	Status      int
	ContentType string
}

// probeProtobuf GETs one object accepting only application/vnd.kubernetes.protobuf.
func (b *Bench) probeProtobuf(ctx context.Context, v Variant) (ProtobufProbe, error) {
	p := ProtobufProbe{Variant: v.Name}
	name := "protobuf-probe"
	ri := b.cp.Dynamic.Resource(gvr(v.Group)).Namespace(v.Namespace)
	if _, err := ri.Create(ctx, b.fx.Function(v.Group, v.Namespace, name, payloadPlain), metav1.CreateOptions{}); err != nil {
		return p, err
	}
	defer func() { _ = ri.Delete(ctx, name, metav1.DeleteOptions{}) }()
	c := b.pool[0]
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimSuffix(c.host, "/")+v.path()+"/"+name, nil)
	if err != nil {
		return p, err
	}
	req.Header.Set("Accept", "application/vnd.kubernetes.protobuf")
	resp, err := c.http.Do(req)
	if err != nil {
		return p, err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	p.Status, p.ContentType = resp.StatusCode, resp.Header.Get("Content-Type")
	return p, nil
}

// waitServing waits until a dry-run create through kube-apiserver succeeds. After a restart,
// nuclio-apiserver answers /readyz and the APIService stays Available before its delegated
// authentication has loaded the front-proxy CA, so proxied requests are briefly refused as
// system:anonymous.
func (b *Bench) waitServing(ctx context.Context, v Variant) (time.Duration, error) {
	start := time.Now()
	ri := b.cp.Dynamic.Resource(gvr(v.Group)).Namespace(v.Namespace)
	var last error
	err := wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, 90*time.Second, true, func(ctx context.Context) (bool, error) {
		_, last = ri.Create(ctx, b.fx.Function(v.Group, v.Namespace, "serving-probe", payloadPlain),
			metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
		return last == nil, nil
	})
	if err != nil {
		return 0, fmt.Errorf("%s not serving after the restart (%v): %w", v.Name, last, err)
	}
	return time.Since(start), nil
}

// waitAdmission waits until nuclio-apiserver's admission chain masks credentials again (after a
// restart its plugins must resync their informers): a dry-run create with a password must come back
// masked.
func (b *Bench) waitAdmission(ctx context.Context, v Variant) error {
	ri := b.cp.Dynamic.Resource(gvr(v.Group)).Namespace(v.Namespace)
	var last error
	err := wait.PollUntilContextTimeout(ctx, 250*time.Millisecond, 90*time.Second, true, func(ctx context.Context) (bool, error) {
		out, err := ri.Create(ctx, b.fx.Function(v.Group, v.Namespace, "admission-probe", payloadCredentials),
			metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}})
		if err != nil {
			last = err
			return false, nil
		}
		pw, _, _ := unstructured.NestedString(out.Object, "spec", "triggers", "events", "password")
		if !strings.HasPrefix(pw, "$ref:") {
			last = errors.New("credentials are not masked yet")
			return false, nil
		}
		return true, nil
	})
	if err != nil {
		return fmt.Errorf("admission not effective after the restart (%v): %w", last, err)
	}
	return nil
}
