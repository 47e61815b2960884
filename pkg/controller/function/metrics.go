// Copyright The nuclio-apiserver Authors.
// SPDX-License-Identifier: Apache-2.0

package function

import (
	"github.com/prometheus/client_golang/prometheus"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
)

var (
	buildsStarted = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "nuclio_controller_builds_started_total",
		Help: "Build Jobs created by nuclio-controller.",
	})
	buildsFinished = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "nuclio_controller_builds_finished_total",
		Help: "Build Jobs nuclio-controller saw finish, by result (succeeded, failed).",
	}, []string{"result"})
)

func init() {
	metrics.Registry.MustRegister(buildsStarted, buildsFinished)
}
