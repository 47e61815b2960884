// Copyright The nuclio-apiserver Authors.
// SPDX-License-Identifier: Apache-2.0

package main

import (
	"fmt"
	"sort"
	"strings"
	"time"
)

// Report is everything a run measured, rendered to Markdown by Markdown.
type Report struct {
	Mode     Mode
	Command  string
	Date     time.Time
	Duration time.Duration
	// Fixture describes the function objects; PayloadSizes are their JSON sizes as sent.
	Fixture      string
	PayloadSizes map[string]int
	Machine      Machine

	Results   []*Result
	Protobuf  []ProtobufProbe
	Memory    []*MemoryRow
	Admission []AdmissionRow
	GoBench   []GoBenchRun
	CPU       []CPUUse
	// Controller holds the apply → Ready measurements; ControllerSkipped says why there are none.
	Controller        []*ControllerResult
	ControllerSkipped string
	Notes             []string
	// Failure is the error that ended the run early, if any.
	Failure string
}

// MemoryRow is a component's resident memory right after loading Objects functions (At), before
// the variant loaded anything (Before), and after the list cells at that size (AfterLists).
type MemoryRow struct {
	Variant, Component     string
	Objects                int
	At, Before, AfterLists Memory
}

// AdmissionRow is nuclio-apiserver's own account (its /metrics) of the admission work for one
// payload and operation during the single-object scenarios of the nuclio.io variant. Durations are
// per request unless said otherwise.
type AdmissionRow struct {
	Payload, Operation string
	// Clients is the concurrency of the cell the figures come from.
	Clients int
	// Requests is the number of admitted requests (admission steps run).
	Requests float64
	// Mutating and Validating are the two admission steps: "admit" (NamespaceLifecycle,
	// MutatingAdmissionPolicy, the webhook plugin with its match conditions, and their reinvocation
	// after the webhook mutated) and "validate" (the ValidatingAdmissionPolicy and validating webhook
	// plugins).
	Mutating, Validating time.Duration
	// WebhookPlugin is the MutatingAdmissionWebhook plugin (match conditions plus calls);
	// PolicyPlugin the ValidatingAdmissionPolicy plugin (both policies).
	WebhookPlugin, PolicyPlugin time.Duration
	// Webhook is the calls to nuclio-webhook (count, mean per call).
	Webhook HistogramDelta
}

// admissionCost computes the admission rows of a payload from two scrapes of nuclio-apiserver.
func admissionCost(payload string, clients int, before, after Metrics) []AdmissionRow {
	var rows []AdmissionRow
	sum := func(name string, match map[string]string) float64 {
		return after.Sum(name+"_sum", match) - before.Sum(name+"_sum", match)
	}
	for _, op := range []string{"CREATE", "UPDATE"} {
		step := "apiserver_admission_step_admission_duration_seconds"
		plugin := "apiserver_admission_controller_admission_duration_seconds"
		r := AdmissionRow{Payload: payload, Operation: op, Clients: clients}
		r.Requests = after.Sum(step+"_count", map[string]string{"type": "validate", "operation": op}) -
			before.Sum(step+"_count", map[string]string{"type": "validate", "operation": op})
		perRequest := func(seconds float64) time.Duration {
			if r.Requests <= 0 {
				return 0
			}
			return time.Duration(seconds / r.Requests * float64(time.Second))
		}
		r.Mutating = perRequest(sum(step, map[string]string{"type": "admit", "operation": op}))
		r.Validating = perRequest(sum(step, map[string]string{"type": "validate", "operation": op}))
		r.WebhookPlugin = perRequest(sum(plugin, map[string]string{"name": "MutatingAdmissionWebhook", "operation": op}))
		r.PolicyPlugin = perRequest(sum(plugin, map[string]string{"name": "ValidatingAdmissionPolicy", "operation": op}))
		r.Webhook = Delta(before, after, "apiserver_admission_webhook_admission_duration_seconds", map[string]string{"name": "credentials.nuclio.io", "operation": op})
		rows = append(rows, r)
	}
	return rows
}

// ErrorCount is the number of failed requests over all cells.
func (r *Report) ErrorCount() int {
	n := 0
	for _, res := range r.Results {
		n += res.Errors
	}
	for _, c := range r.Controller {
		n += c.Errors
	}
	return n
}

// baseline returns the CRD result with the same key as res, if measured.
func (r *Report) baseline(res *Result) *Result {
	for _, o := range r.Results {
		if o.Variant == variantCRD && o.Key() == res.Key() && o.Measured() {
			return o
		}
	}
	return nil
}

// find returns the result of variant with key's parameters, if measured.
func (r *Report) find(variant, op, payload string, objects, clients int) *Result {
	for _, o := range r.Results {
		if o.Variant == variant && o.Op == op && o.Payload == payload && o.Objects == objects && o.Clients == clients && o.Measured() {
			return o
		}
	}
	return nil
}

// ratios returns the p50, p99 and throughput ratios of res to its CRD baseline.
func (r *Report) ratios(res *Result) (p50, p99, thr string) {
	base := r.baseline(res)
	if base == nil || !res.Measured() {
		return "—", "—", "—"
	}
	if res.Variant == variantCRD {
		return "1", "1", "1"
	}
	a, okA := Ratio(float64(res.P(50)), float64(base.P(50)))
	b, okB := Ratio(float64(res.P(99)), float64(base.P(99)))
	c, okC := Ratio(res.Throughput(), base.Throughput())
	return FormatRatio(a, okA), FormatRatio(b, okB), FormatRatio(c, okC)
}

// resultTable renders the results of one operation, one row per (payload or size, clients, variant).
func (r *Report) resultTable(op string) string {
	t := Table{Align: []byte("llrlrrrrrrrr")}
	first := "Payload"
	if op == "list" {
		first = "Objects"
	}
	t.Header = []string{first, "Clients", "Variant", "n", "p50 ms", "p99 ms", "ops/s", "p50 vs CRD", "p99 vs CRD", "ops/s vs CRD", "errors"}
	t.Align = []byte("lrlrrrrrrrr")
	watchCols := op == "watch"
	if watchCols {
		t.Header[4], t.Header[5], t.Header[6], t.Header[9] = "p50 ms", "p99 ms", "events/s", "events/s vs CRD"
		t.Header = append(t.Header[:10:10], "p50 ms after response", "p99 ms after response", "watch restarts", "closed as unresponsive", "errors")
		t.Align = []byte("lrlrrrrrrrrrrrr")
	}
	var rows []*Result
	for _, res := range r.Results {
		if res.Op == op {
			rows = append(rows, res)
		}
	}
	order := map[string]int{variantCRD: 0, variantNuclio: 1, variantNoAdmission: 2}
	sort.SliceStable(rows, func(i, j int) bool {
		a, b := rows[i], rows[j]
		if a.Payload != b.Payload {
			return a.Payload > b.Payload // plain before credentials
		}
		if a.Objects != b.Objects {
			return a.Objects < b.Objects
		}
		if a.Clients != b.Clients {
			return a.Clients < b.Clients
		}
		return order[a.Variant] < order[b.Variant]
	})
	for _, res := range rows {
		lead := res.Payload
		if op == "list" {
			lead = fmt.Sprint(res.Objects)
		}
		var row []string
		switch {
		case res.Skipped != "":
			row = []string{lead, fmt.Sprint(res.Clients), res.Variant, "—", "—", "—", "—", "—", "—", "—"}
		case !res.Measured():
			row = []string{lead, fmt.Sprint(res.Clients), res.Variant, "0", "—", "—", "—", "—", "—", "—"}
		default:
			p50, p99, thr := r.ratios(res)
			row = []string{lead, fmt.Sprint(res.Clients), res.Variant, fmt.Sprint(res.N()),
				FormatDuration(res.P(50)), FormatDuration(res.P(99)), FormatRate(res.Throughput()), p50, p99, thr}
		}
		if watchCols {
			if res.Measured() {
				row = append(row, FormatDuration(Percentile(res.AfterResponse, 50)), FormatDuration(Percentile(res.AfterResponse, 99)))
			} else {
				row = append(row, "—", "—")
			}
			row = append(row, fmt.Sprint(res.WatchRestarts), countText(res.WatchersTerminated))
		}
		if res.Skipped != "" {
			row = append(row, res.Skipped)
		} else {
			row = append(row, errText(res))
		}
		t.Rows = append(t.Rows, row)
	}
	return t.Markdown()
}

func errText(res *Result) string {
	if res.Errors == 0 {
		return "0"
	}
	msg := res.FirstError
	if len(msg) > 120 {
		msg = msg[:120] + "…"
	}
	return fmt.Sprintf("%d (first: %s)", res.Errors, msg)
}

// Markdown renders the report.
func (r *Report) Markdown() string {
	var b strings.Builder
	p := func(format string, args ...interface{}) { fmt.Fprintf(&b, format+"\n", args...) }
	p("# Benchmarks: nuclio-apiserver beside Nuclio's CRD")
	p("")
	p("<!-- Generated by test/bench; do not edit by hand. Rerun: make bench (full) or make bench BENCH_SHORT=1 (smoke). -->")
	p("")
	if r.Failure != "" {
		p("> **Incomplete run.** It ended with an error; only what was measured before is shown: %s", strings.ReplaceAll(r.Failure, "\n", " "))
		p("")
	}
	p("Nuclio keeps functions in a schema-less CRD served by kube-apiserver; nuclio-apiserver serves them from an")
	p("aggregated API server with typed validation, defaulting, a credential-masking webhook and CEL policies. This page")
	p("compares the two on one local control plane (test/harness, loopback only), in one run, on one machine. Absolute")
	p("figures depend on the machine; the ratios are the point.")
	p("")
	p("## Run")
	p("")
	m := r.Machine
	p("%s", Table{Header: []string{"", ""}, Rows: [][]string{
		{"Command", "`" + r.Command + "`"},
		{"Mode", r.Mode.Name},
		{"Date (UTC)", r.Date.Format("2006-01-02 15:04")},
		{"Duration", r.Duration.Round(time.Second).String()},
		{"Git revision", m.GitRev},
		{"CPU", fmt.Sprintf("%s, %d cores", m.CPUModel, m.Cores)},
		{"Memory", fmt.Sprintf("%.1f GiB", m.MemoryGiB)},
		{"Kernel", m.Kernel},
		{"Disk", fmt.Sprintf("8 KiB write + fsync in _output/bench: %s ms (p50 of 100)", FormatDuration(m.SyncP50))},
		{"Go", m.GoVersion},
		{"Kubernetes", fmt.Sprintf("kube-apiserver %s; client-go %s", m.KubeServer, m.ClientGo)},
	}}.Markdown())
	p("")
	p("**Variants.** All three serve identical function objects through the same kube-apiserver, as cluster admin:")
	p("")
	p("* **%s** — Nuclio's NuclioFunction CRD (spec and status `x-kubernetes-preserve-unknown-fields`, no status", variantCRD)
	p("  subresource) installed under the group `%s` so it does not collide with `nuclio.io`; the baseline.", crdGroup)
	p("* **%s** — nuclio-apiserver as shipped: kube-apiserver proxies to it; its admission chain runs the", variantNuclio)
	p("  masking webhook (only for objects that may hold credentials, by the webhook's match conditions) and the two")
	p("  ValidatingAdmissionPolicies (build sources, sensitive fields) on every write; embedded etcd.")
	p("* **%s** — the same server restarted with `%s`.", variantNoAdmission, disableAdmission)
	p("")
	p("**Objects.** %s. Payload `%s` (%d bytes of JSON) has no credentials; payload `%s` (%d bytes) adds a Kafka SASL",
		r.Fixture, payloadPlain, r.PayloadSizes[payloadPlain], payloadCredentials, r.PayloadSizes[payloadCredentials])
	p("password and an MQTT trigger with a password: nuclio.io moves both into a Secret through the webhook; the CRD stores them")
	p("as given, as does nuclio.io without admission.")
	p("")
	p("**Method.** Each client is a client-go dynamic client (JSON) with its own connection and no client-side rate limit")
	p("(QPS 1000, burst 2000). A cell runs a fixed number of operations or stops after a fixed time, whichever comes first")
	p("(%s per single-object cell in this mode), on 1, 10 or 50 concurrent clients; throughput is successful", r.Mode.cellDuration)
	p("operations per second of the cell's wall time. Creates write new objects; gets and updates cycle through them;")
	p("updates change `spec.description` of the latest version (no conflicts). Lists are unpaginated, timed until the last")
	p("byte of JSON is read, not decoded. Watch-event latency is the time from sending a create until its ADDED event")
	p("arrives on a watch of the namespace, and (last columns) from the create's response until the event arrives — negative")
	p("when the event came first, as the response and the event travel separately. Each variant has its own namespace and")
	p("is emptied (deletecollection) between cells. Percentiles are nearest-rank over all samples of a cell.")
	p("")
	p("**Ratios** are variant ÷ CRD for the same row: for latency below 1 is faster than the CRD; for throughput above 1")
	p("is faster.")
	p("")
	p("## Summary")
	p("")
	for _, s := range r.Summary() {
		p("* %s", s)
	}
	p("")
	for _, sec := range []struct{ op, title, note string }{
		{"create", "Create", ""},
		{"get", "Get", ""},
		{"update", "Update", ""},
		{"list", "List", "Unpaginated list of a namespace holding the given number of `plain` objects (%s per object)."},
		{"watch", "Watch-event latency", "One watch on the namespace; the clients are concurrent writers (creates). p50/p99: from sending the create to the event; \"after response\": from the create's response to the event. When the server ends the watch, it is resumed from the last resourceVersion seen (\"watch restarts\"), as an informer would; events that still do not arrive within 30 s count as errors. \"Closed as unresponsive\": watchers of the resource that the serving API server's watch cache closed during the cell because their buffer stayed full (its apiserver_terminated_watchers_total counter); they include other clients' watches, such as kube-controller-manager's garbage collector."},
	} {
		p("## %s", sec.title)
		p("")
		if sec.note != "" {
			if strings.Contains(sec.note, "%s") {
				p(sec.note, fmt.Sprintf("%d bytes", r.PayloadSizes[payloadPlain]))
			} else {
				p("%s", sec.note)
			}
			p("")
		}
		p("%s", r.resultTable(sec.op))
	}
	p("## Encoding")
	p("")
	p("Only JSON is measured: neither API serves protobuf. Kubernetes does not offer protobuf for custom resources, and")
	p("nuclio-apiserver deliberately advertises JSON only. A GET that accepts only `application/vnd.kubernetes.protobuf`")
	p("was answered:")
	p("")
	pt := Table{Header: []string{"Variant", "HTTP status", "Content-Type"}}
	for _, pr := range r.Protobuf {
		pt.Rows = append(pt.Rows, []string{pr.Variant, fmt.Sprint(pr.Status), pr.ContentType})
	}
	p("%s", pt.Markdown())
	p("## Memory")
	p("")
	p("Resident memory (VmRSS from /proc/<pid>/status) right after loading the collection, beside the same process before")
	p("the variant loaded anything; then after the list cells at that size, and the peak (VmHWM) since the process started,")
	p("which include the buffers of serving large lists concurrently. nuclio-apiserver embeds its etcd, so its figures")
	p("include storage; for the CRD the objects live in kube-apiserver (watch cache) and its etcd.")
	p("")
	mt := Table{Header: []string{"Variant", "Process", "Functions", "Resident after loading", "Before loading", "Growth",
		"Resident after lists", "Peak"}, Align: []byte("llrrrrrr")}
	for _, row := range r.Memory {
		after, peak := "—", "—"
		if row.AfterLists.RSSKiB > 0 {
			after, peak = MiB(row.AfterLists.RSSKiB), MiB(row.AfterLists.HWMKiB)
		}
		mt.Rows = append(mt.Rows, []string{row.Variant, row.Component, fmt.Sprint(row.Objects), MiB(row.At.RSSKiB),
			MiB(row.Before.RSSKiB), MiB(row.At.RSSKiB - row.Before.RSSKiB), after, peak})
	}
	p("%s", mt.Markdown())
	p("## Admission cost")
	p("")
	p("### Measured inside nuclio-apiserver")
	p("")
	p("From nuclio-apiserver's own metrics (histogram sums) over the single-object scenarios of the `%s` variant,", variantNuclio)
	p("per admitted request unless noted. The webhook plugin figure covers its match conditions and calls; a call goes")
	p("to nuclio-webhook over HTTPS and, for `credentials`, includes writing the function's Secret through kube-apiserver.")
	p("The policy plugin figure covers both ValidatingAdmissionPolicies (build sources, sensitive fields).")
	p("")
	at := Table{Header: []string{"Payload", "Clients", "Operation", "requests", "mutating step", "webhook plugin", "webhook calls", "per call",
		"validating step", "policy plugin"}, Align: []byte("lrlrrrrrrr")}
	for _, row := range r.Admission {
		at.Rows = append(at.Rows, []string{row.Payload, fmt.Sprint(row.Clients), row.Operation, fmt.Sprintf("%.0f", row.Requests), msOrDash(row.Mutating, row.Requests),
			msOrDash(row.WebhookPlugin, row.Requests), fmt.Sprintf("%.0f", row.Webhook.Count), msOrDash(row.Webhook.Mean, row.Webhook.Count),
			msOrDash(row.Validating, row.Requests), msOrDash(row.PolicyPlugin, row.Requests)})
	}
	p("%s", at.Markdown())
	p("### Go benchmarks")
	p("")
	p("In-process, one request at a time, p50/p99 of single operations (µs):")
	p("")
	gt := Table{Header: []string{"Benchmark", "iterations", "p50 µs", "p99 µs", "mean µs", "B/op", "allocs/op"}, Align: []byte("lrrrrrr")}
	for _, run := range r.GoBench {
		for _, res := range run.Results {
			gt.Rows = append(gt.Rows, []string{"`" + res.Name + "`", fmt.Sprint(res.Iterations), formatSig(res.Metrics["p50-ns"] / 1e3),
				formatSig(res.Metrics["p99-ns"] / 1e3), formatSig(res.Metrics["ns/op"] / 1e3), fmt.Sprintf("%.0f", res.Metrics["B/op"]),
				fmt.Sprintf("%.0f", res.Metrics["allocs/op"])})
		}
	}
	p("%s", gt.Markdown())
	for _, run := range r.GoBench {
		p("* %s: `%s`", run.Title, run.Command)
	}
	p("")
	p("## Controller: apply → Ready")
	p("")
	r.controllerSection(p)
	p("## Notes")
	p("")
	ct2 := Table{Header: []string{"Phase", "Wall", "Busy cores", "Benchmark + control plane", "Other processes"}, Align: []byte("lrrrr")}
	for _, u := range r.CPU {
		ct2.Rows = append(ct2.Rows, []string{u.Phase, u.Wall.Round(time.Second).String(), fmt.Sprintf("%.2f", u.BusyCores),
			fmt.Sprintf("%.2f", u.OursCores), fmt.Sprintf("%.2f", u.OtherCores)})
	}
	p("CPU use by phase (average cores busy, from /proc/stat and the CPU times of this process and its components):")
	p("")
	p("%s", ct2.Markdown())
	for _, n := range r.contentionNotes() {
		p("* %s", n)
	}
	p("* The benchmark client runs on the same %d cores as every server it measures; figures include its own CPU use.", r.Machine.Cores)
	p("* Both etcds sync every write to disk, as in production (the harness's kube-apiserver etcd drops")
	p("  `--unsafe-no-fsync` for the benchmark): %s ms per 8 KiB write + fsync on this disk (see Run).", FormatDuration(r.Machine.SyncP50))
	for _, n := range r.Notes {
		p("* %s", n)
	}
	return b.String()
}

// controllerSection renders the apply → Ready measurements beside kube-apiserver's measured CRD
// write throughput, or the reason there are none.
func (r *Report) controllerSection(p func(string, ...interface{})) {
	crdRate := "—"
	if res := r.bestCRDWriteRate(); res != nil {
		crdRate = fmt.Sprintf("%s (%d clients)", FormatRate(res.Throughput()), res.Clients)
	}
	if len(r.Controller) == 0 {
		ct := Table{Header: []string{"Functions", "apply → all Ready", "kube-apiserver CRD creates/s", "status"}, Align: []byte("rrrl")}
		for _, n := range r.Mode.controllerSizes {
			ct.Rows = append(ct.Rows, []string{fmt.Sprint(n), "—", crdRate, "skipped: " + r.ControllerSkipped})
		}
		p("%s", ct.Markdown())
		p("No figures are given until the harness runs nuclio-controller.")
		p("")
		return
	}
	p("N functions (payload `%s`) are created at once by %d clients in an empty namespace of nuclio.io (with", payloadPlain, r.Mode.loadClients)
	p("admission); nuclio-controller builds each with a Kaniko Job (kwok completes the build pod) and runs it (Deployment,")
	p("Service; kwok makes the pod Ready). The time runs from the first create to the function's `Ready` condition, seen")
	p("on a watch. nuclio-controller is stopped during all other scenarios; each size has its own namespace, and the")
	p("functions of the previous size are deleted just before (garbage collection removes their objects meanwhile). In")
	p("the harness, kube-controller-manager runs with --kube-api-qps 200 and --kube-api-burst 400 (defaults 20 and 30),")
	p("so that its Job, Deployment and ReplicaSet controllers do not pace pod creation; kube-apiserver's own write")
	p("throughput, measured above, is shown for comparison.")
	p("")
	ct := Table{Header: []string{"Functions", "applied in", "Ready", "failed", "apply → all Ready", "per function p50", "per function p99",
		"Ready/s", "kube-apiserver CRD creates/s", "create errors"}, Align: []byte("rrrrrrrrrr")}
	for _, c := range r.Controller {
		all := "—"
		if c.AllReady > 0 {
			all = fmt.Sprintf("%.1f s", c.AllReady.Seconds())
		} else {
			all = fmt.Sprintf("not within %s", c.Cap)
		}
		ct.Rows = append(ct.Rows, []string{fmt.Sprint(c.Functions), fmt.Sprintf("%.1f s", c.Apply.Seconds()), fmt.Sprint(c.Ready),
			fmt.Sprint(c.Failed), all, secondsOrDash(Percentile(c.PerFunction, 50), len(c.PerFunction)),
			secondsOrDash(Percentile(c.PerFunction, 99), len(c.PerFunction)), FormatRate(c.Throughput), crdRate, fmt.Sprint(c.Errors)})
	}
	p("%s", ct.Markdown())
	for _, c := range r.Controller {
		if len(c.NotReady) == 0 {
			continue
		}
		keys := make([]string, 0, len(c.NotReady))
		for k := range c.NotReady {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var parts []string
		for _, k := range keys {
			parts = append(parts, fmt.Sprintf("%s: %d", k, c.NotReady[k]))
		}
		p("Of %d functions, not Ready at the end (status.state / Ready reason): %s.", c.Functions, strings.Join(parts, ", "))
		p("")
	}
}

func secondsOrDash(d time.Duration, n int) string {
	if n == 0 {
		return "—"
	}
	return fmt.Sprintf("%s s", formatSig(d.Seconds()))
}

// msOrDash renders d in ms, or "—" when nothing was counted.
func msOrDash(d time.Duration, count float64) string {
	if count <= 0 {
		return "—"
	}
	return FormatDuration(d) + " ms"
}

// bestCRDWriteRate is the CRD create cell (plain payload) with the most clients.
func (r *Report) bestCRDWriteRate() *Result {
	var best *Result
	for _, res := range r.Results {
		if res.Variant == variantCRD && res.Op == "create" && res.Payload == payloadPlain && res.Measured() {
			if best == nil || res.Clients > best.Clients {
				best = res
			}
		}
	}
	return best
}

// contentionNotes reports phases in which other processes kept the machine busy.
func (r *Report) contentionNotes() []string {
	var phases []string
	for _, u := range r.CPU {
		if u.OtherCores >= contentionCores {
			phases = append(phases, fmt.Sprintf("%s (%.2f cores)", u.Phase, u.OtherCores))
		}
	}
	switch {
	case len(r.CPU) == 0:
		return nil
	case len(phases) == 0:
		return []string{"No significant CPU use by other processes was seen during the run."}
	default:
		return []string{fmt.Sprintf("Contention: other processes on the machine (for example other builds) used CPU during %s of the %d cores. The figures of those phases are pessimistic, and as the load of other processes varies from minute to minute, so do ratios between variants measured minutes apart: compare reruns before drawing conclusions from a single row.",
			strings.Join(phases, ", "), r.Machine.Cores)}
	}
}

// Summary derives the interpretation from the figures: ratio averages (geometric means) and ranges,
// the cost of admission, lists, watch, memory and the SLO anchor. Nothing in it is written by hand.
func (r *Report) Summary() []string {
	var out []string
	for _, variant := range []string{variantNuclio, variantNoAdmission} {
		var parts []string
		var allP50 []float64
		for _, op := range []string{"create", "get", "update"} {
			var p50s, thrs []float64
			for _, res := range r.Results {
				if res.Variant != variant || res.Op != op || !res.Measured() {
					continue
				}
				base := r.baseline(res)
				if base == nil {
					continue
				}
				if x, ok := Ratio(float64(res.P(50)), float64(base.P(50))); ok {
					p50s = append(p50s, x)
				}
				if x, ok := Ratio(res.Throughput(), base.Throughput()); ok {
					thrs = append(thrs, x)
				}
			}
			if len(p50s) == 0 {
				continue
			}
			allP50 = append(allP50, p50s...)
			lo, hi := MinMax(p50s)
			parts = append(parts, fmt.Sprintf("%s p50 %.2f× (%.2f–%.2f×), throughput %.2f×", op, GeoMean(p50s), lo, hi, GeoMean(thrs)))
		}
		if len(parts) > 0 {
			out = append(out, fmt.Sprintf("**%s vs CRD**, single objects (geometric mean over payloads and client counts, range in brackets): %s. Over all %d rows, p50 latency is on average %s.",
				variant, strings.Join(parts, "; "), len(allP50), relative(GeoMean(allP50))))
		}
	}
	for _, payload := range []string{payloadPlain, payloadCredentials} {
		var xs []float64
		for _, op := range []string{"create", "update"} {
			for _, c := range r.Mode.clientCounts {
				a, b := r.find(variantNuclio, op, payload, 0, c), r.find(variantNoAdmission, op, payload, 0, c)
				if a == nil || b == nil {
					continue
				}
				if x, ok := Ratio(float64(a.P(50)), float64(b.P(50))); ok {
					xs = append(xs, x)
				}
			}
		}
		if len(xs) > 0 {
			what := "which the webhook's match conditions skip and both policies check"
			if payload == payloadCredentials {
				what = "which call the webhook (it writes the Secret) and both policies check"
			}
			out = append(out, fmt.Sprintf("**Admission cost**: for `%s` writes, %s, p50 with admission is %.2f× the p50 without (geometric mean over creates and updates at each client count).",
				payload, what, GeoMean(xs)))
		}
	}
	if s := r.admissionSentence(); s != "" {
		out = append(out, s)
	}
	if size := r.largestListed(); size > 0 {
		if base := r.find(variantCRD, "list", payloadPlain, size, 1); base != nil {
			s := fmt.Sprintf("**Lists** of %d objects, 1 client: CRD p50 %s ms", size, FormatDuration(base.P(50)))
			for _, v := range []string{variantNuclio, variantNoAdmission} {
				if res := r.find(v, "list", payloadPlain, size, 1); res != nil {
					x, ok := Ratio(float64(res.P(50)), float64(base.P(50)))
					s += fmt.Sprintf(", %s %s ms (%s)", v, FormatDuration(res.P(50)), FormatRatio(x, ok))
				}
			}
			out = append(out, s+".")
		}
	}
	if base := r.find(variantCRD, "watch", payloadPlain, 0, 1); base != nil {
		if res := r.find(variantNuclio, "watch", payloadPlain, 0, 1); res != nil {
			x, ok := Ratio(float64(res.P(50)), float64(base.P(50)))
			out = append(out, fmt.Sprintf("**Watch events** (1 writer, p50): from sending a create to its event %s ms for the CRD and %s ms for nuclio.io (%s); from the create's response to the event %s ms and %s ms.",
				FormatDuration(base.P(50)), FormatDuration(res.P(50)), FormatRatio(x, ok),
				FormatDuration(Percentile(base.AfterResponse, 50)), FormatDuration(Percentile(res.AfterResponse, 50))))
		}
	}
	var ended []string
	for _, res := range r.Results {
		if res.Op == "watch" && (res.WatchRestarts > 0 || res.Errors > 0) {
			closed := ""
			if res.WatchersTerminated >= 0 {
				closed = fmt.Sprintf(", %s of the resource closed by the watch cache as unresponsive", plural(res.WatchersTerminated, "watcher"))
			}
			ended = append(ended, fmt.Sprintf("%s with %s (%s%s, %s missing after 30 s)", res.Variant, plural(res.Clients, "writer"),
				plural(res.WatchRestarts, "restart"), closed, plural(res.Errors, "event")))
		}
	}
	if len(ended) > 0 {
		out = append(out, "**Watch interrupted**: the server ended the watch, or events were missing, for "+strings.Join(ended, "; ")+
			". The watch cache closes a watcher whose buffer stays full longer than its dispatch budget, and the client resumes from"+
			" the last resourceVersion it saw; nuclio.io's watchers drain through kube-apiserver's proxy, an extra hop on the same cores.")
	}
	for _, m := range r.Memory {
		if m.Component == "nuclio-apiserver" && m.Variant == variantNuclio {
			out = append(out, fmt.Sprintf("**Memory**: nuclio-apiserver (embedded etcd included) is resident at %s right after loading %d functions, %s more than before loading them.",
				MiB(m.At.RSSKiB), m.Objects, MiB(m.At.RSSKiB-m.Before.RSSKiB)))
		}
	}
	var crdGrowth []string
	for _, m := range r.Memory {
		if m.Variant == variantCRD {
			crdGrowth = append(crdGrowth, fmt.Sprintf("%s +%s", m.Component, MiB(m.At.RSSKiB-m.Before.RSSKiB)))
		}
	}
	if len(crdGrowth) > 0 {
		out = append(out, fmt.Sprintf("For comparison, holding the same number of CRD objects grew %s.", strings.Join(crdGrowth, ", ")))
	}
	var worst *Result
	for _, res := range r.Results {
		if (res.Variant == variantNuclio || res.Variant == variantNoAdmission) && res.Objects == 0 && res.Op != "watch" && res.Measured() {
			if worst == nil || res.P(99) > worst.P(99) {
				worst = res
			}
		}
	}
	if worst != nil {
		verdict := "within"
		if worst.P(99) > time.Second {
			verdict = "above"
		}
		out = append(out, fmt.Sprintf("**SLO anchor**: the highest single-object p99 of nuclio.io was %s ms (%s, %s, %d clients), %s the 1 s of SIG Scalability's API-call SLO (which formally excludes aggregated APIs and CRDs).",
			FormatDuration(worst.P(99)), worst.Op, worst.Payload, worst.Clients, verdict))
	}
	var ctl []string
	for _, c := range r.Controller {
		if c.AllReady > 0 {
			ctl = append(ctl, fmt.Sprintf("%d functions were all Ready %.0f s after the first create (%s Ready/s; p50 per function %s s)",
				c.Functions, c.AllReady.Seconds(), FormatRate(c.Throughput), formatSig(Percentile(c.PerFunction, 50).Seconds())))
		} else {
			ctl = append(ctl, fmt.Sprintf("of %d functions, %d were Ready and %d failed after %s (%s Ready/s)",
				c.Functions, c.Ready, c.Failed, c.Cap, FormatRate(c.Throughput)))
		}
	}
	if len(ctl) > 0 {
		s := "**Controller**, apply → Ready: " + strings.Join(ctl, "; ")
		if res := r.bestCRDWriteRate(); res != nil {
			s += fmt.Sprintf(", beside kube-apiserver's %s CRD creates/s", FormatRate(res.Throughput()))
		}
		for _, u := range r.CPU {
			if u.Phase == "controller" {
				s += fmt.Sprintf("; %.2f of %d cores were busy on average meanwhile", u.BusyCores, r.Machine.Cores)
			}
		}
		out = append(out, s+".")
	}
	if n := r.ErrorCount(); n > 0 {
		out = append(out, fmt.Sprintf("**%d requests failed**; see the errors columns.", n))
	}
	var others []float64
	for _, u := range r.CPU {
		if u.Phase == variantCRD || u.Phase == variantNuclio || u.Phase == variantNoAdmission {
			others = append(others, u.OtherCores)
		}
	}
	if lo, hi := MinMax(others); len(others) > 0 && hi >= contentionCores {
		out = append(out, fmt.Sprintf("**Contention**: other processes on the machine used %.2f–%.2f of its %d cores during the variants' phases (see Notes); absolute figures are pessimistic.",
			lo, hi, r.Machine.Cores))
	}
	return out
}

// contentionCores is the average CPU use by other processes (in cores) from which a phase is
// reported as contended.
const contentionCores = 0.15

// admissionSentence compares, at the lowest client count, what nuclio-apiserver spent in the webhook
// and policy plugins per create with credentials with the in-process Go benchmarks.
func (r *Report) admissionSentence() string {
	var row *AdmissionRow
	for i := range r.Admission {
		a := &r.Admission[i]
		if a.Payload == payloadCredentials && a.Operation == "CREATE" && a.Requests > 0 && (row == nil || a.Clients < row.Clients) {
			row = a
		}
	}
	if row == nil {
		return ""
	}
	s := fmt.Sprintf("**Webhook and policies inside nuclio-apiserver** (%d client): a create with credentials spent %s ms in the webhook plugin (one call to nuclio-webhook) and %s ms in the policy plugin (both policies).",
		row.Clients, FormatDuration(row.WebhookPlugin), FormatDuration(row.PolicyPlugin))
	if wb, ok := r.goBench("BenchmarkAdmission/credentials"); ok {
		s += fmt.Sprintf(" In process, the webhook's handler takes %s µs (p50)", formatSig(wb.Metrics["p50-ns"]/1e3))
		var sum float64
		n := 0
		for _, name := range []string{"BenchmarkPolicyEvaluation/build-sources/source-code", "BenchmarkPolicyEvaluation/sensitive-fields/masked-credentials"} {
			if pb, ok := r.goBench(name); ok {
				sum += pb.Metrics["p50-ns"]
				n++
			}
		}
		if n == 2 {
			s += fmt.Sprintf(" and the two policies %s µs together (p50 sum)", formatSig(sum/1e3))
		}
		s += "; the difference is everything outside that in-process work (HTTPS transport, the webhook's own API requests, scheduling on a shared machine)."
	}
	return s
}

// goBench finds a Go benchmark result by name.
func (r *Report) goBench(name string) (GoBench, bool) {
	for _, run := range r.GoBench {
		for _, b := range run.Results {
			if b.Name == name {
				return b, true
			}
		}
	}
	return GoBench{}, false
}

// countText renders a count, or "—" for -1 (not measured).
func countText(n int) string {
	if n < 0 {
		return "—"
	}
	return fmt.Sprint(n)
}

// plural renders "1 restart", "2 restarts".
func plural(n int, noun string) string {
	if n == 1 {
		return fmt.Sprintf("1 %s", noun)
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// relative phrases a latency ratio.
func relative(x float64) string {
	switch {
	case x == 0:
		return "not comparable"
	case x >= 1.05:
		return fmt.Sprintf("%.2f× the CRD's (slower)", x)
	case x <= 0.95:
		return fmt.Sprintf("%.2f× the CRD's (faster)", x)
	default:
		return fmt.Sprintf("%.2f× the CRD's (about the same)", x)
	}
}

// largestListed is the largest collection size with a measured CRD list.
func (r *Report) largestListed() int {
	n := 0
	for _, res := range r.Results {
		if res.Op == "list" && res.Variant == variantCRD && res.Measured() && res.Objects > n {
			n = res.Objects
		}
	}
	return n
}
