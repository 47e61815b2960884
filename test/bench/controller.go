// Copyright The nuclio-apiserver Authors.
// SPDX-License-Identifier: Apache-2.0

package main

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/tools/cache"
	watchtools "k8s.io/client-go/tools/watch"
)

// ControllerResult is one apply → Ready measurement: N functions created at once, built (kwok
// completes the build Job's pod) and run (kwok makes the processor pod Ready) by nuclio-controller.
type ControllerResult struct {
	// Functions is how many were applied; Ready and Failed how many reached the Ready condition or a
	// failed state (status.state error or unhealthy) before the time cap.
	Functions, Ready, Failed int
	// Apply is the time to create all functions; AllReady the time from the first create to the last
	// function becoming Ready (0 if not all did within Cap).
	Apply, AllReady, Cap time.Duration
	// PerFunction are the times from each function's create response to its Ready condition, sorted.
	PerFunction []time.Duration
	// Throughput is functions becoming Ready per second, from the first create to the last Ready.
	Throughput float64
	// Errors counts failed creates.
	Errors int
	// NotReady counts, for functions not Ready at the end, their status.state and Ready condition
	// reason ("building / BuildRunning").
	NotReady map[string]int
}

// controllerScenario applies n functions in a fresh namespace and waits, up to maxDur, until every
// one is Ready, watching their status.
func (b *Bench) controllerScenario(ctx context.Context, n int, maxDur time.Duration) (*ControllerResult, error) {
	res := &ControllerResult{Functions: n, Cap: maxDur}
	v := Variant{Name: variantNuclio, Short: "controller", Group: nuclioGroup, Namespace: controllerNamespace(n)}
	if err := b.ensureNamespace(ctx, v.Namespace); err != nil {
		return nil, err
	}
	// The functions' project (label nuclio.io/project-name) must exist, as in Nuclio.
	project := &unstructured.Unstructured{Object: map[string]interface{}{
		"apiVersion": nuclioGroup + "/" + apiVersionName, "kind": "NuclioProject",
		"metadata": map[string]interface{}{"name": fixtureProject, "namespace": v.Namespace},
		"spec":     map[string]interface{}{"description": "nuclio-apiserver benchmark"},
	}}
	projects := schema.GroupVersionResource{Group: nuclioGroup, Version: apiVersionName, Resource: "nuclioprojects"}
	if _, err := b.cp.Dynamic.Resource(projects).Namespace(v.Namespace).Create(ctx, project, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return nil, fmt.Errorf("creating the project: %w", err)
	}
	ri := b.cp.Dynamic.Resource(gvr(v.Group)).Namespace(v.Namespace)
	list, err := ri.List(ctx, metav1.ListOptions{Limit: 1})
	if err != nil {
		return nil, err
	}
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// The wait can outlast a watch (the server ends them after a while): RetryWatcher resumes from
	// the last resourceVersion seen.
	watchRI := b.watcher.dyn.Resource(gvr(v.Group)).Namespace(v.Namespace)
	w, err := watchtools.NewRetryWatcherWithContext(wctx, list.GetResourceVersion(), &cache.ListWatch{
		WatchFuncWithContext: func(ctx context.Context, o metav1.ListOptions) (watch.Interface, error) { return watchRI.Watch(ctx, o) },
	})
	if err != nil {
		return nil, err
	}
	defer w.Stop()

	var mu sync.Mutex
	readyAt, failed := map[string]time.Time{}, map[string]bool{}
	done := make(chan struct{})
	go func() {
		for ev := range w.ResultChan() {
			at := time.Now()
			obj, ok := ev.Object.(*unstructured.Unstructured)
			if !ok || (ev.Type != watch.Added && ev.Type != watch.Modified) {
				continue
			}
			mu.Lock()
			if _, seen := readyAt[obj.GetName()]; !seen {
				if isReady(obj) {
					readyAt[obj.GetName()] = at
					delete(failed, obj.GetName())
				} else if state, _, _ := unstructured.NestedString(obj.Object, "status", "state"); state == "error" || state == "unhealthy" {
					failed[obj.GetName()] = true
				}
			}
			all := len(readyAt) == n
			mu.Unlock()
			if all {
				close(done)
				return
			}
		}
	}()

	created := make([]time.Time, n)
	var next atomic.Int64
	var wg sync.WaitGroup
	var errs atomic.Int64
	start := time.Now()
	for _, c := range b.pool[:b.mode.loadClients] {
		wg.Add(1)
		go func(c *client) {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n || ctx.Err() != nil {
					return
				}
				obj := b.fx.Function(v.Group, v.Namespace, fmt.Sprintf("ctl-%05d", i), payloadPlain)
				if _, err := c.dyn.Resource(gvr(v.Group)).Namespace(v.Namespace).Create(ctx, obj, metav1.CreateOptions{}); err != nil {
					errs.Add(1)
					continue
				}
				created[i] = time.Now()
			}
		}(c)
	}
	wg.Wait()
	res.Apply = time.Since(start)
	res.Errors = int(errs.Load())
	b.progressf("    applied %d functions in %.1fs; waiting for Ready (at most %s)", n, res.Apply.Seconds(), maxDur)

	tick := time.NewTicker(15 * time.Second)
	defer tick.Stop()
	timeout := time.After(maxDur - res.Apply)
wait:
	for {
		select {
		case <-done:
			break wait
		case <-timeout:
			break wait
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-tick.C:
			mu.Lock()
			b.progressf("    %d of %d Ready, %d failed (%.0fs)", len(readyAt), n, len(failed), time.Since(start).Seconds())
			mu.Unlock()
		}
	}
	mu.Lock()
	defer mu.Unlock()
	res.Ready, res.Failed = len(readyAt), len(failed)
	if res.Ready < n {
		res.NotReady = map[string]int{}
		all, err := ri.List(ctx, metav1.ListOptions{})
		if err != nil {
			return nil, err
		}
		for i := range all.Items {
			if _, ok := readyAt[all.Items[i].GetName()]; ok {
				continue
			}
			state, _, _ := unstructured.NestedString(all.Items[i].Object, "status", "state")
			res.NotReady[fmt.Sprintf("%s / %s", orNone(state), orNone(conditionReason(&all.Items[i], "Ready")))]++
		}
		b.progressf("    not Ready (state / reason): %v", res.NotReady)
	}
	var last time.Time
	for i, t := range created {
		at, ok := readyAt[fmt.Sprintf("ctl-%05d", i)]
		if t.IsZero() || !ok {
			continue
		}
		res.PerFunction = append(res.PerFunction, at.Sub(t))
		if at.After(last) {
			last = at
		}
	}
	sort.Slice(res.PerFunction, func(i, j int) bool { return res.PerFunction[i] < res.PerFunction[j] })
	if !last.IsZero() {
		res.Throughput = float64(res.Ready) / last.Sub(start).Seconds()
	}
	if res.Ready == n {
		res.AllReady = last.Sub(start)
	}
	return res, nil
}

// conditionReason returns the reason of a function's condition, or "".
func conditionReason(obj *unstructured.Unstructured, condition string) string {
	conds, _, _ := unstructured.NestedSlice(obj.Object, "status", "conditions")
	for _, c := range conds {
		if m, ok := c.(map[string]interface{}); ok && m["type"] == condition {
			reason, _ := m["reason"].(string)
			return reason
		}
	}
	return ""
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

// isReady reports whether a function's Ready condition is True.
func isReady(obj *unstructured.Unstructured) bool {
	conds, _, _ := unstructured.NestedSlice(obj.Object, "status", "conditions")
	for _, c := range conds {
		if m, ok := c.(map[string]interface{}); ok && m["type"] == "Ready" && m["status"] == "True" {
			return true
		}
	}
	return false
}

// controllerNamespace is the namespace of the controller scenario with n functions.
func controllerNamespace(n int) string { return fmt.Sprintf("bench-controller-%d", n) }
