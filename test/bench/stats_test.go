// Copyright The nuclio-apiserver Authors.
// SPDX-License-Identifier: Apache-2.0

package main

import (
	"math"
	"os"
	"strings"
	"testing"
	"time"
)

func ms(xs ...float64) []time.Duration {
	out := make([]time.Duration, len(xs))
	for i, x := range xs {
		out[i] = time.Duration(x * float64(time.Millisecond))
	}
	return out
}

func TestPercentile(t *testing.T) {
	hundred := make([]time.Duration, 100)
	for i := range hundred {
		hundred[i] = time.Duration(i+1) * time.Millisecond // 1..100 ms
	}
	for _, c := range []struct {
		name   string
		sorted []time.Duration
		p      float64
		want   time.Duration
	}{
		{"empty", nil, 50, 0},
		{"one sample", ms(7), 99, 7 * time.Millisecond},
		{"p50 of 1..100", hundred, 50, 50 * time.Millisecond},
		{"p99 of 1..100", hundred, 99, 99 * time.Millisecond},
		{"p100 of 1..100", hundred, 100, 100 * time.Millisecond},
		{"p50 of four is the second", ms(1, 2, 3, 4), 50, 2 * time.Millisecond},
		{"p99 of four is the largest", ms(1, 2, 3, 4), 99, 4 * time.Millisecond},
		{"tiny p is the smallest", ms(1, 2, 3), 0.001, time.Millisecond},
		{"negative samples keep their order", ms(-2, -1, 3), 50, -time.Millisecond},
	} {
		if got := Percentile(c.sorted, c.p); got != c.want {
			t.Errorf("%s: Percentile(p%v) = %v, want %v", c.name, c.p, got, c.want)
		}
	}
}

func TestResultFinishAndThroughput(t *testing.T) {
	r := &Result{Latencies: ms(3, 1, 2), AfterResponse: ms(1, -1), Wall: 2 * time.Second}
	r.Finish()
	if r.P(50) != 2*time.Millisecond || r.P(100) != 3*time.Millisecond {
		t.Errorf("after Finish: p50 %v p100 %v", r.P(50), r.P(100))
	}
	if r.AfterResponse[0] != -time.Millisecond {
		t.Errorf("AfterResponse not sorted: %v", r.AfterResponse)
	}
	if got := r.Throughput(); got != 1.5 {
		t.Errorf("Throughput = %v, want 1.5", got)
	}
	if (&Result{}).Throughput() != 0 || (&Result{Latencies: ms(1)}).Throughput() != 0 {
		t.Error("throughput without wall time or samples must be 0")
	}
	if (&Result{Latencies: ms(1), Skipped: "x"}).Measured() {
		t.Error("a skipped cell is not measured")
	}
}

func TestRatioAndGeoMean(t *testing.T) {
	if r, ok := Ratio(3, 2); !ok || r != 1.5 {
		t.Errorf("Ratio(3, 2) = %v, %v", r, ok)
	}
	for _, c := range [][2]float64{{1, 0}, {0, 1}, {-1, 2}, {2, -1}, {math.NaN(), 1}} {
		if _, ok := Ratio(c[0], c[1]); ok {
			t.Errorf("Ratio(%v, %v) should be undefined", c[0], c[1])
		}
	}
	if g := GeoMean([]float64{2, 8}); math.Abs(g-4) > 1e-9 {
		t.Errorf("GeoMean(2, 8) = %v, want 4", g)
	}
	if GeoMean(nil) != 0 {
		t.Error("GeoMean of nothing must be 0")
	}
	if lo, hi := MinMax([]float64{3, 1, 2}); lo != 1 || hi != 3 {
		t.Errorf("MinMax = %v, %v", lo, hi)
	}
	if FormatRatio(1.234, true) != "1.23×" || FormatRatio(0, false) != "—" {
		t.Errorf("FormatRatio: %q %q", FormatRatio(1.234, true), FormatRatio(0, false))
	}
}

func TestFormatting(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0:                         "0",
		412 * time.Microsecond:    "0.412",
		1234 * time.Microsecond:   "1.23",
		12345 * time.Microsecond:  "12.3",
		1520 * time.Millisecond:   "1520",
		-1730 * time.Microsecond:  "-1.73",
		-250 * time.Microsecond:   "-0.250",
		99970 * time.Microsecond:  "100",
		100001 * time.Microsecond: "100",
	} {
		if got := FormatDuration(d); got != want {
			t.Errorf("FormatDuration(%v) = %q, want %q", d, got, want)
		}
	}
	if got := FormatRate(1234.6); got != "1230" {
		t.Errorf("FormatRate = %q", got)
	}
}

func TestTableMarkdown(t *testing.T) {
	got := Table{Header: []string{"a", "b"}, Align: []byte("lr"), Rows: [][]string{{"x|y", "1"}, {"z"}}}.Markdown()
	want := "| a | b |\n|---|---:|\n| x\\|y | 1 |\n| z |  |\n"
	if got != want {
		t.Errorf("Markdown:\n%s\nwant:\n%s", got, want)
	}
}

func TestParseGoBench(t *testing.T) {
	out := `goos: linux
BenchmarkAdmission/credentials-2         	     200	    188965 ns/op	    111155 p50-ns	   5050711 p99-ns	   56987 B/op	     750 allocs/op
BenchmarkPolicyEvaluation/sensitive-fields/plain-16   100   480089 ns/op
PASS
ok  	github.com/x/y	0.216s
`
	got := ParseGoBench(out)
	if len(got) != 2 {
		t.Fatalf("parsed %d benchmarks: %+v", len(got), got)
	}
	if got[0].Name != "BenchmarkAdmission/credentials" || got[0].Iterations != 200 ||
		got[0].Metrics["p50-ns"] != 111155 || got[0].Metrics["allocs/op"] != 750 {
		t.Errorf("first: %+v", got[0])
	}
	if got[1].Name != "BenchmarkPolicyEvaluation/sensitive-fields/plain" || got[1].Metrics["ns/op"] != 480089 {
		t.Errorf("second: %+v", got[1])
	}
}

func TestParseMetricsAndDelta(t *testing.T) {
	before := ParseMetrics(`# HELP x y
h_sum{operation="CREATE",type="admit"} 1
h_count{operation="CREATE",type="admit"} 10
h_count{operation="UPDATE",type="admit"} 5
plain_total 3
`)
	after := ParseMetrics(`h_sum{operation="CREATE",type="admit"} 1.5
h_count{operation="CREATE",type="admit"} 20
h_count{operation="UPDATE",type="admit"} 9
odd{msg="a \"quoted\", comma}"} 7
`)
	d := Delta(before, after, "h", map[string]string{"operation": "CREATE"})
	if d.Count != 10 || d.Mean != 50*time.Millisecond {
		t.Errorf("Delta = %+v, want 10 observations of 50ms", d)
	}
	if got := after.Sum("h_count", nil); got != 29 {
		t.Errorf("Sum over all labels = %v", got)
	}
	if got := before.Sum("plain_total", nil); got != 3 {
		t.Errorf("unlabelled series = %v", got)
	}
	if got := after.Sum("odd", map[string]string{"msg": `a "quoted", comma}`}); got != 7 {
		t.Errorf("escaped label value: %v", got)
	}
	if d := Delta(before, after, "missing", nil); d.Count != 0 || d.Mean != 0 {
		t.Errorf("missing histogram: %+v", d)
	}
}

// TestReportMarkdown renders a small synthetic report: ratios to the CRD row, skipped cells, watch
// columns and the generated summary.
func TestReportMarkdown(t *testing.T) {
	cell := func(variant, op string, objects, clients int, lat []time.Duration, wall time.Duration) *Result {
		r := &Result{Variant: variant, Op: op, Payload: payloadPlain, Objects: objects, Clients: clients, Latencies: lat, Wall: wall}
		if op == "watch" {
			r.AfterResponse = ms(-1, 1)
		}
		r.Finish()
		return r
	}
	rep := &Report{
		Mode: shortMode(), Command: "go run ./test/bench --short", Date: time.Date(2026, 1, 2, 3, 4, 0, 0, time.UTC),
		PayloadSizes: map[string]int{payloadPlain: 2000, payloadCredentials: 2300},
		Machine:      Machine{CPUModel: "Test CPU", Cores: 2, GitRev: "abc"},
		Results: []*Result{
			cell(variantCRD, "create", 0, 1, ms(2, 2, 4), time.Second),
			cell(variantNuclio, "create", 0, 1, ms(4, 4, 8), 2*time.Second),
			cell(variantNoAdmission, "create", 0, 1, ms(3, 3, 6), time.Second),
			cell(variantCRD, "list", 100, 1, ms(10), time.Second),
			cell(variantNuclio, "list", 100, 1, ms(5), time.Second),
			{Variant: variantNuclio, Op: "list", Payload: payloadPlain, Objects: 10000, Clients: 50, Skipped: "not run: too big"},
			cell(variantCRD, "watch", 0, 1, ms(1, 2), time.Second),
			cell(variantNuclio, "watch", 0, 1, ms(2, 4), time.Second),
		},
		Memory:            []*MemoryRow{{Variant: variantNuclio, Component: "nuclio-apiserver", Objects: 100, At: Memory{RSSKiB: 204800}, Before: Memory{RSSKiB: 102400}}},
		ControllerSkipped: "pending the controller: test",
		Admission: []AdmissionRow{{Payload: payloadCredentials, Clients: 1, Operation: "CREATE", Requests: 10,
			Mutating: 21 * time.Millisecond, WebhookPlugin: 20 * time.Millisecond, Webhook: HistogramDelta{Count: 10, Mean: 19 * time.Millisecond},
			Validating: 3 * time.Millisecond, PolicyPlugin: 2 * time.Millisecond}},
		Controller: []*ControllerResult{
			{Functions: 100, Ready: 100, Apply: time.Second, AllReady: 40 * time.Second, Cap: time.Minute, PerFunction: []time.Duration{10 * time.Second, 30 * time.Second}, Throughput: 2.5},
			{Functions: 1000, Ready: 900, Failed: 1, Apply: 5 * time.Second, Cap: 7 * time.Minute, Throughput: 2.2, NotReady: map[string]int{"building / WaitingForBuild": 99, "error / BuildFailed": 1}},
		},
		GoBench: []GoBenchRun{{Title: "webhook", Results: []GoBench{{Name: "BenchmarkAdmission/credentials", Metrics: map[string]float64{"p50-ns": 100000}}}}},
	}
	// The nuclio.io watch was resumed once after the watch cache closed two watchers; the CRD server's
	// counter could not be read.
	rep.Results[6].WatchersTerminated = -1
	rep.Results[7].WatchRestarts, rep.Results[7].WatchersTerminated = 1, 2
	md := rep.Markdown()
	for _, want := range []string{
		"| plain | 1 | CRD (kube-apiserver) | 2 | 1.00 | 2.00 | 2.00 | 1 | 1 | 1 | -1.00 | 1.00 | 0 | — | 0 |",
		"| plain | 1 | nuclio.io | 2 | 2.00 | 4.00 | 2.00 | 2.00× | 2.00× | 1.00× | -1.00 | 1.00 | 1 | 2 | 0 |",
		"for nuclio.io with 1 writer (1 restart, 2 watchers of the resource closed by the watch cache as unresponsive, 0 events missing after 30 s)",
		"| plain | 1 | nuclio.io | 3 | 4.00 | 8.00 | 1.50 | 2.00× | 2.00× | 0.50× | 0 |",
		"| plain | 1 | CRD (kube-apiserver) | 3 | 2.00 | 4.00 | 3.00 | 1 | 1 | 1 | 0 |",
		"| 100 | 1 | nuclio.io | 1 | 5.00 | 5.00 | 1.00 | 0.50× | 0.50× | 1.00× | 0 |",
		"| 10000 | 50 | nuclio.io | — | — | — | — | — | — | — | not run: too big |",
		"create p50 2.00× (2.00–2.00×), throughput 0.50×",
		"**Admission cost**: for `plain` writes",
		"(1 client): a create with credentials spent 20.0 ms in the webhook plugin (one call to nuclio-webhook) and 2.00 ms in the policy plugin",
		"the webhook's handler takes 100 µs (p50); the difference",
		"| credentials | 1 | CREATE | 10 | 21.0 ms | 20.0 ms | 10 | 19.0 ms | 3.00 ms | 2.00 ms |",
		"p50 with admission is 1.33× the p50 without",
		"**Lists** of 100 objects, 1 client: CRD p50 10.0 ms, nuclio.io 5.00 ms (0.50×)",
		"resident at 200 MiB right after loading 100 functions, 100 MiB more than before loading them",
		"within the 1 s",
		"| 100 | 1.0 s | 100 | 0 | 40.0 s | 10.0 s | 30.0 s | 2.50 | 3.00 (1 clients) | 0 |",
		"| 1000 | 5.0 s | 900 | 1 | not within 7m0s | — | — | 2.20 | 3.00 (1 clients) | 0 |",
		"not Ready at the end (status.state / Ready reason): building / WaitingForBuild: 99, error / BuildFailed: 1.",
		"**Controller**, apply → Ready: 100 functions were all Ready 40 s after the first create (2.50 Ready/s; p50 per function 10.0 s); of 1000 functions, 900 were Ready and 1 failed after 7m0s (2.20 Ready/s), beside kube-apiserver's 3.00 CRD creates/s.",
		"`go run ./test/bench --short`",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("report lacks %q", want)
		}
	}
	if rep.ErrorCount() != 0 {
		t.Error("no errors were recorded")
	}
	rep.Results[0].Errors, rep.Results[0].FirstError = 2, "boom"
	if rep.ErrorCount() != 2 || !strings.Contains(rep.Markdown(), "2 (first: boom)") {
		t.Error("errors are not counted or shown")
	}
	// An empty report (a run that failed early) still renders, with the failure and the pending
	// controller rows.
	md = (&Report{Mode: fullMode(), Failure: "boom", ControllerSkipped: "pending the controller: none"}).Markdown()
	for _, want := range []string{"# Benchmarks", "**Incomplete run.**", "boom", "| 1000 | — | — | skipped: pending the controller: none |"} {
		if !strings.Contains(md, want) {
			t.Errorf("empty report lacks %q", want)
		}
	}
}

// TestModesAreBounded checks every cell of both modes has a finite operation count and time cap,
// and that the short mode leaves out 50 clients and the 10k list.
func TestModesAreBounded(t *testing.T) {
	for _, m := range []Mode{fullMode(), shortMode()} {
		for _, c := range m.clientCounts {
			if m.opsPerCell(c) <= 0 || m.watchOps(c) <= 0 {
				t.Errorf("%s: no operation count for %d clients", m.Name, c)
			}
			for _, size := range m.listSizes {
				n, d, skip := m.listOps(size, c)
				if skip == "" && (n <= 0 || d <= 0) {
					t.Errorf("%s: list %d × %d clients is unbounded (%d, %v)", m.Name, size, c, n, d)
				}
			}
		}
		if m.cellDuration <= 0 || m.timeout <= 0 {
			t.Errorf("%s: no time caps", m.Name)
		}
	}
	s := shortMode()
	for _, c := range s.clientCounts {
		if c >= 50 {
			t.Error("short mode runs 50 clients")
		}
	}
	for _, size := range s.listSizes {
		if size >= 10000 {
			t.Error("short mode lists 10k objects")
		}
	}
}

// TestAdmissionCost derives per-request admission figures from two scrapes of nuclio-apiserver.
func TestAdmissionCost(t *testing.T) {
	before := ParseMetrics(`apiserver_admission_step_admission_duration_seconds_count{operation="CREATE",rejected="false",type="validate"} 5
apiserver_admission_step_admission_duration_seconds_sum{operation="CREATE",rejected="false",type="validate"} 1
apiserver_admission_step_admission_duration_seconds_sum{operation="CREATE",rejected="false",type="admit"} 1
`)
	after := ParseMetrics(`apiserver_admission_step_admission_duration_seconds_count{operation="CREATE",rejected="false",type="validate"} 15
apiserver_admission_step_admission_duration_seconds_sum{operation="CREATE",rejected="false",type="validate"} 1.1
apiserver_admission_step_admission_duration_seconds_sum{operation="CREATE",rejected="false",type="admit"} 1.5
apiserver_admission_controller_admission_duration_seconds_sum{name="MutatingAdmissionWebhook",operation="CREATE",rejected="false",type="admit"} 0.4
apiserver_admission_controller_admission_duration_seconds_sum{name="ValidatingAdmissionPolicy",operation="CREATE",rejected="false",type="validate"} 0.08
apiserver_admission_webhook_admission_duration_seconds_sum{name="credentials.nuclio.io",operation="CREATE",rejected="false",type="admit"} 0.2
apiserver_admission_webhook_admission_duration_seconds_count{name="credentials.nuclio.io",operation="CREATE",rejected="false",type="admit"} 4
`)
	rows := admissionCost(payloadCredentials, 10, before, after)
	if len(rows) != 2 || rows[0].Operation != "CREATE" || rows[1].Operation != "UPDATE" {
		t.Fatalf("rows: %+v", rows)
	}
	c := rows[0]
	if c.Requests != 10 || c.Clients != 10 || c.Mutating != 50*time.Millisecond || c.Validating != 10*time.Millisecond ||
		c.WebhookPlugin != 40*time.Millisecond || c.PolicyPlugin != 8*time.Millisecond ||
		c.Webhook.Count != 4 || c.Webhook.Mean != 50*time.Millisecond {
		t.Errorf("CREATE row: %+v", c)
	}
	if rows[1].Requests != 0 || rows[1].Mutating != 0 {
		t.Errorf("UPDATE row without requests: %+v", rows[1])
	}
}

// TestMeasureSyncAndProc exercises the machine probes (their values depend on the machine; only
// their plausibility is checked, never a time bound).
func TestMeasureSyncAndProc(t *testing.T) {
	d, err := MeasureSync(t.TempDir())
	if err != nil || d <= 0 {
		t.Errorf("MeasureSync = %v, %v", d, err)
	}
	m, err := ReadMemory(os.Getpid())
	if err != nil || m.RSSKiB <= 0 || m.HWMKiB < m.RSSKiB {
		t.Errorf("ReadMemory(self) = %+v, %v", m, err)
	}
	if _, err := ReadMemory(0); err == nil {
		t.Error("ReadMemory(0) must fail")
	}
	a := TakeCPUSnapshot(nil)
	b := TakeCPUSnapshot(nil)
	if a.Total <= 0 || b.Busy < a.Busy {
		t.Errorf("CPU snapshots: %+v then %+v", a, b)
	}
	if plural(1, "restart") != "1 restart" || plural(2, "event") != "2 events" {
		t.Error("plural")
	}
}
