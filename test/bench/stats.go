// Copyright The nuclio-apiserver Authors.
// SPDX-License-Identifier: Apache-2.0

package main

import (
	"fmt"
	"math"
	"sort"
	"strings"
	"time"
)

// Result is the outcome of one measured cell: one operation, by one variant, with one payload, at one
// concurrency (and, for lists, one collection size).
type Result struct {
	// Variant is the server under test (variantCRD, variantNuclio, variantNoAdmission).
	Variant string
	// Op is the operation: create, get, update, list or watch.
	Op string
	// Payload names the function objects used (payloadPlain, payloadCredentials).
	Payload string
	// Objects is the collection size for lists; 0 for other operations.
	Objects int
	// Clients is the number of concurrent clients, each with its own connection.
	Clients int
	// Latencies are the successful operations' latencies, sorted ascending once Finish is called.
	Latencies []time.Duration
	// Start is when the first operation started; Wall the time from then to the last one's end.
	Start time.Time
	Wall  time.Duration
	// AfterResponse, for watch cells only, are the times from each write's response to its event's
	// arrival (negative when the event came first); Latencies then hold the times from each write's
	// request to its event. Sorted by Finish.
	AfterResponse []time.Duration
	// WatchRestarts, for watch cells only, counts how often the server ended the watch and it was
	// resumed from the last resourceVersion seen.
	WatchRestarts int
	// WatchersTerminated, for watch cells only, is how many watchers of the resource the serving API
	// server's watch cache closed as unresponsive during the cell (apiserver_terminated_watchers_total:
	// the watcher's buffer stayed full longer than the cache's dispatch budget); -1 when unread.
	WatchersTerminated int
	// Errors counts failed operations; FirstError is the first failure's text.
	Errors     int
	FirstError string
	// Skipped, when set, says why the cell was not measured; the other fields are then empty.
	Skipped string
}

// Finish sorts the latencies; call it once all samples are in.
func (r *Result) Finish() {
	sort.Slice(r.Latencies, func(i, j int) bool { return r.Latencies[i] < r.Latencies[j] })
	sort.Slice(r.AfterResponse, func(i, j int) bool { return r.AfterResponse[i] < r.AfterResponse[j] })
}

// N is the number of successful operations.
func (r *Result) N() int { return len(r.Latencies) }

// P returns the p-th percentile (0 < p ≤ 100) of the latencies, or 0 without samples.
func (r *Result) P(p float64) time.Duration { return Percentile(r.Latencies, p) }

// Throughput is successful operations per second of wall time, or 0 without samples.
func (r *Result) Throughput() float64 {
	if r.Wall <= 0 || len(r.Latencies) == 0 {
		return 0
	}
	return float64(len(r.Latencies)) / r.Wall.Seconds()
}

// Measured reports whether the cell has at least one sample.
func (r *Result) Measured() bool { return r.Skipped == "" && len(r.Latencies) > 0 }

// Key identifies a cell independently of its variant, to find the CRD baseline of a row.
func (r *Result) Key() string {
	return fmt.Sprintf("%s|%s|%d|%d", r.Op, r.Payload, r.Objects, r.Clients)
}

// Percentile returns the p-th percentile (0 < p ≤ 100) of sorted by the nearest-rank method: the
// smallest sample such that at least p% of the samples are less than or equal to it. It returns 0 for
// no samples.
func Percentile(sorted []time.Duration, p float64) time.Duration {
	n := len(sorted)
	if n == 0 {
		return 0
	}
	rank := int(math.Ceil(p / 100 * float64(n)))
	if rank < 1 {
		rank = 1
	}
	if rank > n {
		rank = n
	}
	return sorted[rank-1]
}

// Ratio returns v/base and whether it is defined (both positive). For latencies a ratio above 1 means
// slower than the baseline; for throughput it means faster.
func Ratio(v, base float64) (float64, bool) {
	if base <= 0 || v <= 0 || math.IsNaN(v) || math.IsNaN(base) {
		return 0, false
	}
	return v / base, true
}

// GeoMean is the geometric mean of positive ratios (the natural average of factors), 0 if none.
func GeoMean(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	var sum float64
	for _, x := range xs {
		sum += math.Log(x)
	}
	return math.Exp(sum / float64(len(xs)))
}

// MinMax returns the smallest and largest of xs (0, 0 if empty).
func MinMax(xs []float64) (lo, hi float64) {
	for i, x := range xs {
		if i == 0 || x < lo {
			lo = x
		}
		if i == 0 || x > hi {
			hi = x
		}
	}
	return lo, hi
}

// FormatDuration renders a latency in milliseconds with three significant digits ("0.412", "12.3",
// "1520"); negative values (a watch event that arrived before the write's response was read) keep
// their sign.
func FormatDuration(d time.Duration) string {
	ms := float64(d) / float64(time.Millisecond)
	return formatSig(ms)
}

// FormatRate renders operations per second with three significant digits.
func FormatRate(r float64) string { return formatSig(r) }

// FormatRatio renders a ratio as "1.23×", or "—" when undefined.
func FormatRatio(r float64, ok bool) string {
	if !ok {
		return "—"
	}
	return fmt.Sprintf("%.2f×", r)
}

// formatSig prints x with three significant digits and no exponent.
func formatSig(x float64) string {
	if x != 0 && !math.IsNaN(x) && !math.IsInf(x, 0) {
		// Round to three significant digits first, so that 99.97 becomes "100", not "100.0".
		scale := math.Pow(10, 2-math.Floor(math.Log10(math.Abs(x))))
		x = math.Round(x*scale) / scale
	}
	a := math.Abs(x)
	switch {
	case a == 0:
		return "0"
	case a >= 100:
		return fmt.Sprintf("%.0f", x)
	case a >= 10:
		return fmt.Sprintf("%.1f", x)
	case a >= 1:
		return fmt.Sprintf("%.2f", x)
	default:
		return fmt.Sprintf("%.3f", x)
	}
}

// Table is a Markdown table. Align holds one of 'l' or 'r' per column (default left).
type Table struct {
	Header []string
	Align  []byte
	Rows   [][]string
}

// Markdown renders the table in GitHub-flavoured Markdown, escaping pipes in cells.
func (t Table) Markdown() string {
	var b strings.Builder
	row := func(cells []string) {
		b.WriteString("|")
		for i := range t.Header {
			c := ""
			if i < len(cells) {
				c = strings.ReplaceAll(cells[i], "|", `\|`)
			}
			b.WriteString(" " + c + " |")
		}
		b.WriteString("\n")
	}
	row(t.Header)
	b.WriteString("|")
	for i := range t.Header {
		if i < len(t.Align) && t.Align[i] == 'r' {
			b.WriteString("---:|")
		} else {
			b.WriteString("---|")
		}
	}
	b.WriteString("\n")
	for _, r := range t.Rows {
		row(r)
	}
	return b.String()
}
