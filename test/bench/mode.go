// Copyright The nuclio-apiserver Authors.
// SPDX-License-Identifier: Apache-2.0

package main

import (
	"fmt"
	"time"
)

// Mode bounds a run: every cell stops after a number of operations or a duration, whichever comes
// first, so the whole run is bounded however slow the machine is.
type Mode struct {
	// Name is "full" or "short".
	Name string
	// defaultOut is the Markdown path relative to the repository root.
	defaultOut string
	// timeout is a safety net for the whole run (a hung component), far above the expected duration.
	timeout time.Duration
	// clientCounts are the concurrencies measured.
	clientCounts []int
	// cellDuration caps each single-object and watch cell.
	cellDuration time.Duration
	// singleOps and watchOps are operations per cell by client count.
	singleOps, watchOpsBy map[int]int
	// listSizes are the collection sizes listed; memorySize is the one at which resident memory is
	// sampled.
	listSizes  []int
	memorySize int
	// loadClients create the list collections (not measured); warmup objects are written and deleted
	// before a variant is measured.
	loadClients, warmup int
	// goBenchtime is `go test -benchtime` for the Go benchmarks.
	goBenchtime string
	// controllerSizes are the numbers of functions applied at once for apply → Ready, each with its
	// time cap in controllerCaps.
	controllerSizes []int
	controllerCaps  []time.Duration
}

// fullMode is the published run: about 10 minutes on 2 cores (at most 15), a third of it the
// controller scenario.
func fullMode() Mode {
	return Mode{
		Name: "full", defaultOut: "docs/benchmarks.md", timeout: 40 * time.Minute,
		clientCounts: []int{1, 10, 50}, cellDuration: 3 * time.Second,
		singleOps:  map[int]int{1: 300, 10: 1000, 50: 1500},
		watchOpsBy: map[int]int{1: 200, 10: 500, 50: 1000},
		listSizes:  []int{100, 1000, 10000}, memorySize: 10000,
		loadClients: 50, warmup: 20, goBenchtime: "1000x",
		controllerSizes: []int{100, 1000}, controllerCaps: []time.Duration{2 * time.Minute, 7 * time.Minute},
	}
}

// shortMode is the CI smoke: tiny counts, 1 and 10 clients, no 10k list; a few minutes.
func shortMode() Mode {
	return Mode{
		Name: "short", defaultOut: "_output/bench/benchmarks-short.md", timeout: 10 * time.Minute,
		clientCounts: []int{1, 10}, cellDuration: 2 * time.Second,
		singleOps:  map[int]int{1: 20, 10: 40},
		watchOpsBy: map[int]int{1: 10, 10: 20},
		listSizes:  []int{10, 50}, memorySize: 50,
		loadClients: 10, warmup: 10, goBenchtime: "100x",
		controllerSizes: []int{5}, controllerCaps: []time.Duration{time.Minute},
	}
}

// opsPerCell is the number of single-object operations per cell.
func (m Mode) opsPerCell(clients int) int { return m.singleOps[clients] }

// watchOps is the number of watched writes per cell.
func (m Mode) watchOps(clients int) int { return m.watchOpsBy[clients] }

// listOps returns how many lists of size objects to run with clients, the cell's time cap, or why
// the cell is skipped.
func (m Mode) listOps(size, clients int) (n int, maxDur time.Duration, skip string) {
	if m.Name == "short" {
		return 20, 2 * time.Second, ""
	}
	switch {
	case size <= 100:
		return 200, 3 * time.Second, ""
	case size <= 1000:
		return 60, 5 * time.Second, ""
	case clients >= 50:
		return 0, 0, fmt.Sprintf("not run, to keep the full run within 15 minutes: at 10 clients one unpaginated list of %d objects already takes seconds, "+
			"and %d at once is what pagination (limit/continue, used by kubectl and informers) avoids", size, clients)
	case clients >= 10:
		return 10, 10 * time.Second, ""
	default:
		return 5, 8 * time.Second, ""
	}
}

// poolSize is the number of clients to create: the most any cell uses.
func (m Mode) poolSize() int {
	n := m.loadClients
	for _, c := range m.clientCounts {
		if c > n {
			n = c
		}
	}
	return n
}
