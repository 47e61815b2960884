// Copyright The nuclio-apiserver Authors.
// SPDX-License-Identifier: Apache-2.0

// Command bench measures nuclio-apiserver beside what Nuclio users run today — Nuclio's schema-less
// NuclioFunction CRD served by kube-apiserver — on one local control plane (test/harness, loopback
// only), and writes the figures with their ratios to the CRD to docs/benchmarks.md.
//
//	go run ./test/bench            # full run, about 14 minutes on 2 cores, writes docs/benchmarks.md
//	go run ./test/bench --short    # smoke run for CI, about a minute, writes _output/bench/benchmarks-short.md
//
// Three variants serve identical function objects through the same kube-apiserver: (a) the CRD under
// the group nucliocrd.io, (b) nuclio.io with the credential-masking webhook and the
// ValidatingAdmissionPolicies, (c) nuclio.io with nuclio-apiserver's admission plugins disabled. For
// each it measures create, get, update, list (100, 1k and 10k objects) and watch-event latency at 1, 10
// and 50 concurrent clients, and nuclio-apiserver's resident memory at 10k functions; it runs the Go
// benchmarks of the webhook and of the policies, reads nuclio-apiserver's admission metrics, and,
// when the harness runs nuclio-controller, measures apply → Ready for 100 and 1000 functions. The
// command exits non-zero only on errors, never because something was slow; nothing in it asserts a
// time.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/rest"

	"github.com/nuclio-apiserver/nuclio-apiserver/test/harness"
)

// disableAdmission is variant (c)'s nuclio-apiserver flag: every admission plugin k8s.io/apiserver
// enables by default.
const disableAdmission = "--disable-admission-plugins=NamespaceLifecycle,MutatingAdmissionPolicy," +
	"MutatingAdmissionWebhook,ValidatingAdmissionPolicy,ValidatingAdmissionWebhook"

func main() {
	short := flag.Bool("short", false, "smoke run: tiny counts, 1 and 10 clients, no 10k list (CI)")
	out := flag.String("out", "", "Markdown output (default docs/benchmarks.md, or _output/bench/benchmarks-short.md with --short)")
	repo := flag.String("repo", "", "repository root (default: found from the working directory)")
	binDir := flag.String("bin-dir", "", "control-plane binaries (default <repo>/_output/bin)")
	controllerOnly := flag.Bool("controller-only", false, "run only the controller apply → Ready scenario (for working on it)")
	flag.Parse()

	root := *repo
	if root == "" {
		var err error
		if root, err = findRepoRoot(); err != nil {
			fatal(err)
		}
	}
	mode := fullMode()
	if *short {
		mode = shortMode()
	}
	if *out == "" {
		*out = filepath.Join(root, mode.defaultOut)
	}
	if *binDir == "" {
		*binDir = filepath.Join(root, "_output", "bin")
	}
	command := "go run ./test/bench"
	if len(os.Args) > 1 {
		command += " " + strings.Join(os.Args[1:], " ")
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// A safety net far above the expected duration: a hung component ends the run with an error.
	ctx, cancel := context.WithTimeout(ctx, mode.timeout)
	defer cancel()

	b := &Bench{mode: mode, repoRoot: root, binDir: *binDir, progress: os.Stdout, began: time.Now(), command: command,
		controllerOnly: *controllerOnly}
	err := b.Run(ctx)
	if b.report != nil {
		b.report.Duration = time.Since(b.began)
		path := *out
		if err != nil {
			// A failed run never replaces the published figures; what it measured goes beside the logs.
			b.report.Failure = err.Error()
			path = filepath.Join(root, "_output", "bench", "benchmarks-failed.md")
		}
		if werr := writeFile(path, b.report.Markdown()); werr != nil {
			fatal(werr)
		}
		b.progressf("wrote %s (%s)", path, b.report.Duration.Round(time.Second))
	}
	if err != nil {
		b.progressf("error: %v", err)
		if b.cp != nil {
			b.progressf("component logs are in %s", filepath.Join(b.cp.Dir(), "logs"))
		}
		os.Exit(1)
	}
	if n := b.report.ErrorCount(); n > 0 {
		b.progressf("error: %d requests failed (see the errors column of %s)", n, *out)
		os.Exit(1)
	}
}

// Bench is one benchmark run.
type Bench struct {
	mode             Mode
	repoRoot, binDir string
	command          string
	progress         io.Writer
	began            time.Time
	controllerOnly   bool

	cp   *harness.ControlPlane
	fx   *Fixtures
	pool []*client
	// watcher is the client for watches (no request timeout), with its own connection.
	watcher *client

	// report collects everything the Markdown shows; it is set once the run has something to show.
	report *Report
	// baseline is the resident memory of components at the start of the current variant.
	baseline map[string]Memory
}

// Run performs the whole benchmark. On error, b.report still holds what was measured.
func (b *Bench) Run(ctx context.Context) error {
	var err error
	if b.fx, err = LoadFixtures(b.repoRoot); err != nil {
		return err
	}
	b.report = &Report{Mode: b.mode, Command: b.command, Date: b.began.UTC(), Fixture: b.fx.Source,
		PayloadSizes: map[string]int{payloadPlain: b.fx.Size(payloadPlain), payloadCredentials: b.fx.Size(payloadCredentials)}}
	b.progressf("nuclio-apiserver benchmark, %s mode", b.mode.Name)

	if !b.controllerOnly {
		if err := b.goBenchmarks(ctx); err != nil {
			return err
		}
	}

	snap := TakeCPUSnapshot(nil)
	if err := b.startControlPlane(ctx); err != nil {
		return err
	}
	defer b.cp.Stop()
	b.report.CPU = append(b.report.CPU, Between("control plane start", snap, TakeCPUSnapshot(b.pids())))
	// nuclio-controller reconciles every nuclio.io function it sees (status writes, build Jobs,
	// Deployments): it runs only for its own scenario, so the API comparison is not skewed by it.
	controllerStarted := b.cp.PID(harnessControllerName) > 0
	if controllerStarted {
		b.progressf("stopping nuclio-controller until the controller scenario")
		b.cp.StopController()
	}

	if !b.controllerOnly {
		if err := b.apiScenarios(ctx); err != nil {
			return err
		}
	}
	return b.controllerScenarios(ctx, controllerStarted)
}

// goBenchmarks runs the Go benchmarks of the webhook and the policies; they need no cluster, and a
// compile error should not waste a run, so they come first.
func (b *Bench) goBenchmarks(ctx context.Context) error {
	snap := TakeCPUSnapshot(nil)
	b.progressf("Go benchmarks (webhook admission, policy evaluation)")
	for _, gb := range []struct{ title, pkg, pattern string }{
		{"nuclio-webhook admission (in-memory API server)", "./pkg/webhook", "Admission"},
		{"ValidatingAdmissionPolicy evaluation (k8s.io/apiserver validator)", "./test/policy", "PolicyEvaluation"},
	} {
		run := RunGoBench(ctx, b.repoRoot, gb.title, gb.pkg, gb.pattern, b.mode.goBenchtime)
		b.report.GoBench = append(b.report.GoBench, run)
		if run.Err != nil {
			return fmt.Errorf("%s: %w\n%s", run.Command, run.Err, run.Output)
		}
		for _, r := range run.Results {
			b.progressf("  %s: p50 %s µs, p99 %s µs", r.Name, formatSig(r.Metrics["p50-ns"]/1e3), formatSig(r.Metrics["p99-ns"]/1e3))
		}
	}
	b.report.CPU = append(b.report.CPU, Between("Go benchmarks", snap, TakeCPUSnapshot(nil)))
	return nil
}

// apiScenarios measures the three variants one after the other.
func (b *Bench) apiScenarios(ctx context.Context) error {
	variants := []Variant{
		{Name: variantCRD, Short: "crd", Group: crdGroup, Namespace: "bench-crd"},
		{Name: variantNoAdmission, Short: "nuclio-noadm", Group: nuclioGroup, Namespace: "bench-nuclio-noadm"},
		{Name: variantNuclio, Short: "nuclio", Group: nuclioGroup, Namespace: "bench-nuclio"},
	}
	for _, v := range variants {
		if err := b.ensureNamespace(ctx, v.Namespace); err != nil {
			return err
		}
	}
	for _, v := range variants {
		switch v.Name {
		case variantNoAdmission:
			if err := b.restartNuclio(ctx, v, []string{disableAdmission}); err != nil {
				return err
			}
		case variantNuclio:
			// Back to the server as installed; its admission plugins must resync before measuring.
			if err := b.restartNuclio(ctx, v, nil); err != nil {
				return err
			}
			if err := b.waitAdmission(ctx, v); err != nil {
				return err
			}
		}
		snap := TakeCPUSnapshot(b.pids())
		if err := b.runVariant(ctx, v); err != nil {
			return err
		}
		b.report.CPU = append(b.report.CPU, Between(v.Name, snap, TakeCPUSnapshot(b.pids())))
	}
	return nil
}

// harnessControllerName is nuclio-controller's process name in the harness.
const harnessControllerName = "nuclio-controller"

// controllerScenarios measures apply → Ready for each size of the mode, when the harness runs
// nuclio-controller; otherwise the rows stay marked as pending, never estimated.
func (b *Bench) controllerScenarios(ctx context.Context, started bool) error {
	bin := filepath.Join(b.binDir, harnessControllerName)
	if _, err := os.Stat(bin); err != nil {
		b.report.ControllerSkipped = "pending the controller: " + bin + " does not exist"
		return nil
	}
	if !started {
		b.report.ControllerSkipped = "pending the controller: test/harness does not start nuclio-controller"
		return nil
	}
	b.progressf("== controller: apply → Ready (nuclio.io with admission; kwok completes builds and runs pods)")
	snap := TakeCPUSnapshot(b.pids())
	if err := b.cp.StartController(ctx); err != nil {
		return err
	}
	for i, n := range b.mode.controllerSizes {
		res, err := b.controllerScenario(ctx, n, b.mode.controllerCaps[i])
		if err != nil {
			return err
		}
		b.report.Controller = append(b.report.Controller, res)
		all := fmt.Sprintf("all Ready after %s", res.AllReady.Round(time.Second))
		if res.AllReady == 0 {
			all = fmt.Sprintf("not all Ready within %s", res.Cap)
		}
		b.progressf("  controller    %d functions: %d Ready, %d failed; %s; per function p50 %s s, p99 %s s; %s Ready/s",
			n, res.Ready, res.Failed, all, formatSig(Percentile(res.PerFunction, 50).Seconds()),
			formatSig(Percentile(res.PerFunction, 99).Seconds()), FormatRate(res.Throughput))
		if i+1 < len(b.mode.controllerSizes) {
			// The fake node holds 1000 pods: delete these functions (garbage collection removes their
			// pods in the background, long before the next scenario needs the room).
			if err := b.cleanup(ctx, Variant{Name: variantNuclio, Group: nuclioGroup, Namespace: controllerNamespace(n)}); err != nil {
				return err
			}
		}
	}
	b.report.CPU = append(b.report.CPU, Between("controller", snap, TakeCPUSnapshot(b.pids())))
	return nil
}

// restartNuclio restarts nuclio-apiserver with extra flags (nil: none) and waits until it serves
// v's requests through kube-apiserver.
func (b *Bench) restartNuclio(ctx context.Context, v Variant, args []string) error {
	if len(args) == 0 {
		b.progressf("restarting nuclio-apiserver with its default flags")
	} else {
		b.progressf("restarting nuclio-apiserver with %s", strings.Join(args, " "))
	}
	if err := b.cp.RestartNuclioAPIServer(ctx, args); err != nil {
		return err
	}
	d, err := b.waitServing(ctx, v)
	if err != nil {
		return err
	}
	b.progressf("  serving through kube-apiserver %s after the restart returned", d.Round(time.Millisecond))
	return nil
}

// runVariant measures one variant: single-object operations per payload and concurrency, watch
// events, lists.
func (b *Bench) runVariant(ctx context.Context, v Variant) error {
	b.progressf("== %s (group %s, namespace %s)", v.Name, v.Group, v.Namespace)
	b.baseline = map[string]Memory{}
	for _, c := range memoryComponents(v) {
		if m, err := ReadMemory(b.cp.PID(c)); err == nil {
			b.baseline[c] = m
		}
	}
	// Warm-up, not measured: connections, caches and the delegated-authorization cache.
	if err := b.load(ctx, v, 0, b.mode.warmup); err != nil {
		return err
	}
	if err := b.cleanup(ctx, v); err != nil {
		return err
	}
	probe, err := b.probeProtobuf(ctx, v)
	if err != nil {
		return fmt.Errorf("protobuf probe of %s: %w", v.Name, err)
	}
	b.report.Protobuf = append(b.report.Protobuf, probe)

	for _, payload := range []string{payloadPlain, payloadCredentials} {
		for _, clients := range b.mode.clientCounts {
			before, scrapeErr := b.scrapeNuclio(ctx, v)
			if err := b.singleObject(ctx, v, payload, clients); err != nil {
				return err
			}
			if v.Name != variantNuclio {
				continue
			}
			after, err := b.scrapeNuclio(ctx, v)
			if err == nil && scrapeErr == nil {
				b.report.Admission = append(b.report.Admission, admissionCost(payload, clients, before, after)...)
			} else {
				b.report.Notes = append(b.report.Notes, fmt.Sprintf("nuclio-apiserver metrics could not be read: %v %v", scrapeErr, err))
			}
		}
	}
	for _, clients := range b.mode.clientCounts {
		if err := b.watchLatency(ctx, v, clients); err != nil {
			return err
		}
	}
	return b.lists(ctx, v)
}

// startControlPlane starts the harness on free loopback ports under _output/bench/cluster and
// installs the CRD.
func (b *Bench) startControlPlane(ctx context.Context) error {
	ports, err := harness.FreePorts()
	if err != nil {
		return err
	}
	dir := filepath.Join(b.repoRoot, "_output", "bench", "cluster")
	b.progressf("starting the control plane in %s", dir)
	sctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	if b.cp, err = harness.Start(sctx, harness.Options{Dir: dir, BinDir: b.binDir, RepoRoot: b.repoRoot, Ports: ports, Progress: b.progress,
		// Both etcds sync as in production, so that neither variant skips the disk.
		EtcdFsync: true}); err != nil {
		return err
	}
	if err := b.installCRD(ctx); err != nil {
		return err
	}
	version, err := b.cp.Kube.Discovery().ServerVersion()
	if err != nil {
		return err
	}
	b.report.Machine = DetectMachine(ctx, b.repoRoot, version.GitVersion)
	if b.report.Machine.SyncP50, err = MeasureSync(filepath.Join(b.repoRoot, "_output", "bench")); err != nil {
		return fmt.Errorf("measuring fsync: %w", err)
	}
	for i := 0; i < b.mode.poolSize(); i++ {
		c, err := newClient(b.cp.Admin, requestTimeout)
		if err != nil {
			return err
		}
		b.pool = append(b.pool, c)
	}
	b.watcher, err = newClient(b.cp.Admin, 0)
	return err
}

var crdGVR = schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}

// installCRD applies the CRD and waits until it is Established and served.
func (b *Bench) installCRD(ctx context.Context) error {
	if err := b.cp.Apply(ctx, []byte(crdManifest)); err != nil {
		return fmt.Errorf("installing the CRD: %w", err)
	}
	err := wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
		obj, err := b.cp.Dynamic.Resource(crdGVR).Get(ctx, crdName, metav1.GetOptions{})
		if err != nil {
			return false, nil
		}
		conds, _, _ := unstructured.NestedSlice(obj.Object, "status", "conditions")
		for _, c := range conds {
			if m, _ := c.(map[string]interface{}); m["type"] == "Established" && m["status"] == "True" {
				_, err := b.cp.Dynamic.Resource(gvr(crdGroup)).Namespace("default").List(ctx, metav1.ListOptions{Limit: 1})
				return err == nil, nil
			}
		}
		return false, nil
	})
	if err != nil {
		return fmt.Errorf("CRD %s not established: %w", crdName, err)
	}
	b.progressf("  ✓ CRD %s", crdName)
	return nil
}

// pids are the live control-plane components, for CPU accounting.
func (b *Bench) pids() []int {
	var out []int
	for _, n := range []string{"etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "nuclio-apiserver", "nuclio-webhook", "kwok", harnessControllerName} {
		if pid := b.cp.PID(n); pid > 0 {
			out = append(out, pid)
		}
	}
	return out
}

// memoryComponents are the processes whose memory holds a variant's objects: kube-apiserver and its
// etcd for the CRD, nuclio-apiserver (with its embedded etcd) for nuclio.io.
func memoryComponents(v Variant) []string {
	if v.Group == crdGroup {
		return []string{"kube-apiserver", "etcd"}
	}
	return []string{"nuclio-apiserver"}
}

// sampleMemory records the resident memory of the variant's components holding size objects.
func (b *Bench) sampleMemory(v Variant, size int) {
	for _, c := range memoryComponents(v) {
		m, err := ReadMemory(b.cp.PID(c))
		if err != nil {
			b.report.Notes = append(b.report.Notes, fmt.Sprintf("memory of %s not read: %v", c, err))
			continue
		}
		row := &MemoryRow{Variant: v.Name, Component: c, Objects: size, At: m, Before: b.baseline[c]}
		b.report.Memory = append(b.report.Memory, row)
		b.progressf("    %s resident after loading: %s (%s before loading)", c, MiB(m.RSSKiB), MiB(row.Before.RSSKiB))
	}
}

// sampleMemoryAfterLists completes the variant's memory rows after the list cells.
func (b *Bench) sampleMemoryAfterLists(v Variant) {
	for _, row := range b.report.Memory {
		if row.Variant != v.Name {
			continue
		}
		if m, err := ReadMemory(b.cp.PID(row.Component)); err == nil {
			row.AfterLists = m
			b.progressf("    %s resident after the lists: %s (peak %s)", row.Component, MiB(m.RSSKiB), MiB(m.HWMKiB))
		}
	}
}

// scrapeNuclio reads nuclio-apiserver's /metrics directly (not through the aggregator), as the
// cluster admin; nil for a variant nuclio-apiserver does not serve.
func (b *Bench) scrapeNuclio(ctx context.Context, v Variant) (Metrics, error) {
	if v.Group != nuclioGroup {
		return nil, nil
	}
	return b.scrapeServer(ctx, v)
}

// scrapeServer reads the /metrics of the API server whose storage serves v: kube-apiserver for the
// CRD, nuclio-apiserver (directly, not through the aggregator) otherwise; as the cluster admin.
func (b *Bench) scrapeServer(ctx context.Context, v Variant) (Metrics, error) {
	cfg := rest.CopyConfig(b.cp.Admin)
	file := "kube-apiserver.metrics"
	if v.Group == nuclioGroup {
		cfg.Host = fmt.Sprintf("https://127.0.0.1:%d", b.cp.Ports().NuclioAPIServer)
		file = "nuclio-apiserver.metrics"
	}
	c, err := newClient(cfg, requestTimeout)
	if err != nil {
		return nil, err
	}
	defer c.http.CloseIdleConnections()
	raw, err := c.kube.Discovery().RESTClient().Get().AbsPath("/metrics").DoRaw(ctx)
	if err != nil {
		return nil, err
	}
	// Kept for whoever wants more than the report shows.
	_ = writeFile(filepath.Join(b.repoRoot, "_output", "bench", file), string(raw))
	return ParseMetrics(string(raw)), nil
}

// terminatedWatchers reads how many watchers of nucliofunctions in v's group the serving API
// server's watch cache has closed as unresponsive since it started; -1 when the metrics cannot be read.
func (b *Bench) terminatedWatchers(ctx context.Context, v Variant) int {
	m, err := b.scrapeServer(ctx, v)
	if err != nil {
		return -1
	}
	return int(m.Sum("apiserver_terminated_watchers_total", map[string]string{"group": v.Group, "resource": "nucliofunctions"}))
}

// record stores a cell's result and prints a progress line.
func (b *Bench) record(v Variant, r *Result) {
	b.report.Results = append(b.report.Results, r)
	what := r.Op
	if r.Objects > 0 {
		what = fmt.Sprintf("list %d", r.Objects)
	}
	if r.Skipped != "" {
		b.progressf("  %-13s %-9s %-11s c=%-2d skipped: %s", v.Short, what, r.Payload, r.Clients, r.Skipped)
		return
	}
	line := fmt.Sprintf("  %-13s %-9s %-11s c=%-2d n=%-5d p50 %7s ms  p99 %7s ms  %7s/s", v.Short, what, r.Payload, r.Clients,
		r.N(), FormatDuration(r.P(50)), FormatDuration(r.P(99)), FormatRate(r.Throughput()))
	if r.Op == "watch" {
		line += fmt.Sprintf("  (after response: p50 %s ms, p99 %s ms; %d watch restarts, %s closed as unresponsive)", FormatDuration(Percentile(r.AfterResponse, 50)),
			FormatDuration(Percentile(r.AfterResponse, 99)), r.WatchRestarts, countText(r.WatchersTerminated))
	}
	if r.Errors > 0 {
		line += fmt.Sprintf("  %d errors (first: %s)", r.Errors, r.FirstError)
	}
	b.progressf("%s", line)
}

// progressf prints a progress line with the elapsed time.
func (b *Bench) progressf(format string, args ...interface{}) {
	el := time.Since(b.began).Round(time.Second)
	fmt.Fprintf(b.progress, "[%02d:%02d] %s\n", int(el.Minutes()), int(el.Seconds())%60, fmt.Sprintf(format, args...))
}

// findRepoRoot walks up from the working directory to the directory holding go.mod.
func findRepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("go.mod not found above the working directory; pass --repo")
		}
		dir = parent
	}
}

func writeFile(path, content string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, []byte(content), 0o644)
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "bench:", err)
	os.Exit(1)
}
