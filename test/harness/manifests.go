// Copyright The nuclio-apiserver Authors.
// SPDX-License-Identifier: Apache-2.0

package harness

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/restmapper"
	nodefast "sigs.k8s.io/kwok/kustomize/stage/node/fast"
	nodeheartbeat "sigs.k8s.io/kwok/kustomize/stage/node/heartbeat"
	podfast "sigs.k8s.io/kwok/kustomize/stage/pod/fast"
)

// DecodeManifests splits multi-document YAML (or JSON) into objects, skipping empty documents.
func DecodeManifests(data []byte) ([]*unstructured.Unstructured, error) {
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(data), 4096)
	var objs []*unstructured.Unstructured
	for {
		var m map[string]interface{}
		if err := dec.Decode(&m); err != nil {
			if errors.Is(err, io.EOF) {
				return objs, nil
			}
			return nil, err
		}
		if len(m) == 0 {
			continue
		}
		objs = append(objs, &unstructured.Unstructured{Object: m})
	}
}

// ApplyFiles server-side-applies every object in the given manifest files, in order, as field manager
// nuclio-harness.
func (cp *ControlPlane) ApplyFiles(ctx context.Context, paths ...string) error {
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if err := cp.Apply(ctx, data); err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
	}
	return nil
}

// Apply server-side-applies the objects of a manifest, resolving kinds through discovery.
func (cp *ControlPlane) Apply(ctx context.Context, manifest []byte) error {
	objs, err := DecodeManifests(manifest)
	if err != nil {
		return err
	}
	dc, err := discovery.NewDiscoveryClientForConfig(cp.Admin)
	if err != nil {
		return err
	}
	mapper := restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(dc))
	for _, obj := range objs {
		gvk := obj.GroupVersionKind()
		mapping, err := mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
		if err != nil {
			return fmt.Errorf("%s %s: %w", gvk.Kind, obj.GetName(), err)
		}
		ri := cp.Dynamic.Resource(mapping.Resource)
		var target interface {
			Apply(context.Context, string, *unstructured.Unstructured, metav1.ApplyOptions, ...string) (*unstructured.Unstructured, error)
		} = ri
		if mapping.Scope.Name() == meta.RESTScopeNameNamespace {
			ns := obj.GetNamespace()
			if ns == "" {
				ns = "default"
			}
			target = ri.Namespace(ns)
		}
		if _, err := target.Apply(ctx, obj.GetName(), obj, metav1.ApplyOptions{FieldManager: "nuclio-harness", Force: true}); err != nil {
			return fmt.Errorf("applying %s %s: %w", gvk.Kind, obj.GetName(), err)
		}
	}
	return nil
}

// AnnotationSimulatedBuild on a function (copied by the controller onto its build pods) makes kwok end the
// build pod as "fail" says: exit code 1 with a build-log tail as termination message. Any other value, or
// none, completes the build successfully.
const AnnotationSimulatedBuild = "e2e.nuclio.io/build"

// AnnotationSimulatedBuildDuration on a function (copied onto its build pods) delays the end of the
// simulated build by a Go duration, e.g. "20s", so a test can act while a build runs.
const AnnotationSimulatedBuildDuration = "e2e.nuclio.io/build-duration"

// buildStages end Job pods (builds) in kwok: successfully, like kwok's own pod-complete stage, unless the
// pod carries AnnotationSimulatedBuild=fail, in which case the build container fails with the log tail
// a kubelet would copy into its termination message (terminationMessagePolicy FallbackToLogsOnError).
// Their selectors exclude each other, because kwok picks randomly among matching stages.
const buildStages = `apiVersion: kwok.x-k8s.io/v1alpha1
kind: Stage
metadata:
  name: nuclio-job-pod-complete
spec:
  resourceRef: {apiGroup: v1, kind: Pod}
  selector:
    matchExpressions:
    - {key: '.metadata.deletionTimestamp', operator: DoesNotExist}
    - {key: '.status.phase', operator: In, values: [Running]}
    - {key: '.metadata.ownerReferences.[].kind', operator: In, values: [Job]}
    - {key: '.metadata.annotations["` + AnnotationSimulatedBuild + `"]', operator: NotIn, values: [fail]}
  delay:
    durationMilliseconds: 0
    durationFrom:
      expressionFrom: '.metadata.annotations["` + AnnotationSimulatedBuildDuration + `"]'
  next:
    statusTemplate: |
      {{ $now := Now }}
      containerStatuses:
      {{ range $index, $item := .spec.containers }}
      - image: {{ $item.image | Quote }}
        name: {{ $item.name | Quote }}
        ready: false
        restartCount: 0
        started: false
        state:
          terminated:
            exitCode: 0
            finishedAt: {{ $now | Quote }}
            reason: Completed
            startedAt: {{ $now | Quote }}
      {{ end }}
      phase: Succeeded
---
apiVersion: kwok.x-k8s.io/v1alpha1
kind: Stage
metadata:
  name: nuclio-job-pod-fail
spec:
  resourceRef: {apiGroup: v1, kind: Pod}
  selector:
    matchExpressions:
    - {key: '.metadata.deletionTimestamp', operator: DoesNotExist}
    - {key: '.status.phase', operator: In, values: [Running]}
    - {key: '.metadata.ownerReferences.[].kind', operator: In, values: [Job]}
    - {key: '.metadata.annotations["` + AnnotationSimulatedBuild + `"]', operator: In, values: [fail]}
  next:
    statusTemplate: |
      {{ $now := Now }}
      containerStatuses:
      {{ range $index, $item := .spec.containers }}
      - image: {{ $item.image | Quote }}
        name: {{ $item.name | Quote }}
        ready: false
        restartCount: 0
        started: false
        state:
          terminated:
            exitCode: 1
            finishedAt: {{ $now | Quote }}
            reason: Error
            message: "error building image: RUN pip install nonexistent-package: exit status 1 (simulated build failure)"
            startedAt: {{ $now | Quote }}
      {{ end }}
      phase: Failed
`

// writeKwokConfig writes kwok's configuration: kwok's stock stages to initialise and heartbeat the node,
// make pods Running and Ready and finish deleted pods (kwok ships them as embedded YAML), and
// buildStages for Job pods.
func writeKwokConfig(path string) error {
	docs := []string{
		"apiVersion: config.kwok.x-k8s.io/v1alpha1\nkind: KwokConfiguration\noptions:\n" +
			"  podPlayStageParallelism: 4\n  nodePlayStageParallelism: 2\n  podsOnNodeSyncParallelism: 2\n" +
			"  nodeLeaseParallelism: 2\n",
		nodefast.DefaultNodeInit, nodeheartbeat.DefaultNodeHeartbeat,
		podfast.DefaultPodReady, podfast.DefaultPodDelete, buildStages,
	}
	return os.WriteFile(path, []byte(strings.Join(docs, "\n---\n")), 0o644)
}

func mustQuantity(s string) resource.Quantity { return resource.MustParse(s) }
