// Copyright The nuclio-apiserver Authors.
// SPDX-License-Identifier: Apache-2.0

// Package controller wires nuclio-controller's reconcilers into a controller-runtime manager:
//
//   - function (pkg/controller/function): builds images with Kaniko Jobs and runs the Nuclio processor;
//   - project (pkg/controller/project): creates nothing, but enforces Nuclio's restricted and cascading
//     deletion strategies with a finalizer;
//   - functionevent (pkg/controller/functionevent): makes function events owned by their function, so
//     that they are deleted with it;
//   - apigateway (pkg/controller/apigateway): turns API gateways into Ingresses and basic-auth Secrets.
//
// The manager's cache holds nuclio.io objects and only the core objects the controller created (label
// app.kubernetes.io/managed-by=nuclio-controller); Secrets are cached as metadata only, and only those of
// the masking webhook and the controller. Secret data, pods and the build-source policy are read
// directly from the API server by name or label.
package controller

import (
	"context"
	"fmt"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/selection"
	"k8s.io/client-go/kubernetes"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/nuclio-apiserver/nuclio-apiserver/pkg/controller/apigateway"
	"github.com/nuclio-apiserver/nuclio-apiserver/pkg/controller/config"
	"github.com/nuclio-apiserver/nuclio-apiserver/pkg/controller/function"
	"github.com/nuclio-apiserver/nuclio-apiserver/pkg/controller/functionevent"
	"github.com/nuclio-apiserver/nuclio-apiserver/pkg/controller/internal/child"
	"github.com/nuclio-apiserver/nuclio-apiserver/pkg/controller/project"
	"github.com/nuclio-apiserver/nuclio-apiserver/pkg/masking"
)

// Name is the controller's name: its field manager, event reporter and leader-election identity.
const Name = child.ManagedBy

// Workers are the concurrent reconciles per kind (Nuclio's operator numWorkers defaults: functions 4,
// function events 2, projects 2, API gateways 2).
type Workers struct {
	Functions, FunctionEvents, Projects, APIGateways int
}

// DefaultWorkers are Nuclio's defaults.
var DefaultWorkers = Workers{Functions: 4, FunctionEvents: 2, Projects: 2, APIGateways: 2}

// CacheOptions returns the manager's cache options for cfg: one namespace or all, and label selectors
// that keep only the controller's own core objects (and the masking webhook's Secrets, as metadata).
func CacheOptions(cfg *config.Config) cache.Options {
	managed := labels.SelectorFromSet(labels.Set{child.LabelManagedBy: child.ManagedBy})
	secretOwners, _ := labels.NewRequirement(child.LabelManagedBy, selection.In, []string{child.ManagedBy, masking.ManagedByValue})
	opts := cache.Options{
		DefaultTransform: cache.TransformStripManagedFields(),
		ByObject: map[client.Object]cache.ByObject{
			&corev1.ConfigMap{}:                      {Label: managed},
			&corev1.Service{}:                        {Label: managed},
			&corev1.ServiceAccount{}:                 {Label: managed},
			&appsv1.Deployment{}:                     {Label: managed},
			&autoscalingv2.HorizontalPodAutoscaler{}: {Label: managed},
			&networkingv1.Ingress{}:                  {Label: managed},
			&batchv1.Job{}:                           {Label: managed},
			&corev1.Secret{}:                         {Label: labels.NewSelector().Add(*secretOwners)},
		},
	}
	if cfg.Namespace != "" {
		opts.DefaultNamespaces = map[string]cache.Config{cfg.Namespace: {}}
	}
	return opts
}

// Setup adds every reconciler to mgr. logs reads build logs (see NewPodLogReader); nil skips that
// fallback.
func Setup(mgr ctrl.Manager, cfg *config.Config, workers Workers, logs function.PodLogReader) error {
	recorder := mgr.GetEventRecorder(Name)
	fr := &function.Reconciler{
		Client:    mgr.GetClient(),
		APIReader: mgr.GetAPIReader(),
		Logs:      logs,
		Recorder:  recorder,
		Config:    cfg,
	}
	if err := fr.SetupWithManager(mgr, workers.Functions); err != nil {
		return fmt.Errorf("setting up the function controller: %w", err)
	}
	pr := &project.Reconciler{Client: mgr.GetClient(), Recorder: recorder}
	if err := pr.SetupWithManager(mgr, workers.Projects); err != nil {
		return fmt.Errorf("setting up the project controller: %w", err)
	}
	er := &functionevent.Reconciler{Client: mgr.GetClient()}
	if err := er.SetupWithManager(mgr, workers.FunctionEvents); err != nil {
		return fmt.Errorf("setting up the function event controller: %w", err)
	}
	gr := &apigateway.Reconciler{Client: mgr.GetClient(), APIReader: mgr.GetAPIReader(), Recorder: recorder, Config: cfg}
	if err := gr.SetupWithManager(mgr, workers.APIGateways); err != nil {
		return fmt.Errorf("setting up the API gateway controller: %w", err)
	}
	return nil
}

// podLogReader reads pod logs through the pods/log subresource.
type podLogReader struct {
	client kubernetes.Interface
}

// NewPodLogReader returns a function.PodLogReader over a clientset.
func NewPodLogReader(c kubernetes.Interface) function.PodLogReader {
	return &podLogReader{client: c}
}

// maxLogBytes bounds what is read of a failed build's log.
const maxLogBytes int64 = 64 << 10

func (p *podLogReader) TailLogs(ctx context.Context, namespace, pod, container string, lines int64) (string, error) {
	limit := maxLogBytes
	raw, err := p.client.CoreV1().Pods(namespace).GetLogs(pod, &corev1.PodLogOptions{
		Container:  container,
		TailLines:  &lines,
		LimitBytes: &limit,
	}).DoRaw(ctx)
	if err != nil {
		return "", err
	}
	return strings.ToValidUTF8(string(raw), "\uFFFD"), nil
}
