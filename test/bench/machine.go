// Copyright The nuclio-apiserver Authors.
// SPDX-License-Identifier: Apache-2.0

package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"time"
)

// Machine describes where the benchmark ran.
type Machine struct {
	CPUModel   string
	Cores      int
	MemoryGiB  float64
	Kernel     string
	GoVersion  string
	ClientGo   string
	KubeServer string
	GitRev     string
	// SyncP50 is the median time of an 8 KiB write plus fsync in the state directory (0 if not
	// measured): what etcd pays per commit when it syncs.
	SyncP50 time.Duration
}

// MeasureSync times 100 writes of 8 KiB, each followed by fsync, to a scratch file in dir, and
// returns the median.
func MeasureSync(dir string) (time.Duration, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return 0, err
	}
	f, err := os.CreateTemp(dir, "fsync-probe-")
	if err != nil {
		return 0, err
	}
	defer os.Remove(f.Name())
	defer f.Close()
	buf := make([]byte, 8<<10)
	samples := make([]time.Duration, 0, 100)
	for i := 0; i < 100; i++ {
		start := time.Now()
		if _, err := f.Write(buf); err != nil {
			return 0, err
		}
		if err := f.Sync(); err != nil {
			return 0, err
		}
		samples = append(samples, time.Since(start))
	}
	r := &Result{Latencies: samples}
	r.Finish()
	return r.P(50), nil
}

// DetectMachine reads /proc, the build information and `git rev-parse` (read-only). kubeVersion is
// kube-apiserver's reported gitVersion.
func DetectMachine(ctx context.Context, repoRoot, kubeVersion string) Machine {
	m := Machine{Cores: runtime.NumCPU(), GoVersion: runtime.Version(), KubeServer: kubeVersion,
		CPUModel: "unknown", Kernel: "unknown", ClientGo: "unknown", GitRev: "unknown"}
	if f, err := os.Open("/proc/cpuinfo"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPUModel = strings.TrimSpace(v)
				break
			}
		}
		f.Close()
	}
	if kb, err := meminfo("MemTotal"); err == nil {
		m.MemoryGiB = float64(kb) / (1 << 20)
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = strings.TrimSpace(string(b))
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			if d.Path == "k8s.io/client-go" {
				m.ClientGo = d.Version
			}
		}
	}
	git := func(args ...string) string {
		ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, "git", args...)
		cmd.Dir = repoRoot
		out, err := cmd.Output()
		if err != nil {
			return ""
		}
		return strings.TrimSpace(string(out))
	}
	if rev := git("rev-parse", "--short=12", "HEAD"); rev != "" {
		m.GitRev = rev
		if git("status", "--porcelain", "--untracked-files=no") != "" {
			m.GitRev += " (with uncommitted changes)"
		}
	}
	return m
}

// meminfo returns a /proc/meminfo field in kB.
func meminfo(field string) (int64, error) {
	return procField("/proc/meminfo", field)
}

// procField returns the first number of a "Name: value kB" line of a /proc file.
func procField(path, field string) (int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok || k != field {
			continue
		}
		fields := strings.Fields(v)
		if len(fields) == 0 {
			break
		}
		return strconv.ParseInt(fields[0], 10, 64)
	}
	return 0, fmt.Errorf("%s: no %s", path, field)
}

// Memory is a process's resident memory, from /proc/<pid>/status.
type Memory struct {
	// RSSKiB is VmRSS (resident now); HWMKiB is VmHWM (peak resident).
	RSSKiB, HWMKiB int64
}

// ReadMemory reads VmRSS and VmHWM of pid.
func ReadMemory(pid int) (Memory, error) {
	if pid <= 0 {
		return Memory{}, fmt.Errorf("process not running")
	}
	path := fmt.Sprintf("/proc/%d/status", pid)
	rss, err := procField(path, "VmRSS")
	if err != nil {
		return Memory{}, err
	}
	hwm, err := procField(path, "VmHWM")
	if err != nil {
		return Memory{}, err
	}
	return Memory{RSSKiB: rss, HWMKiB: hwm}, nil
}

// MiB renders KiB as MiB.
func MiB(kib int64) string { return fmt.Sprintf("%.0f MiB", float64(kib)/1024) }

// clockTicks is USER_HZ, the unit of /proc CPU times; 100 on every Linux architecture Go supports.
const clockTicks = 100

// CPUSnapshot is machine-wide and own CPU time at one instant, to tell how much of the machine other
// processes (for example another engineer's compiler) used while we measured.
type CPUSnapshot struct {
	At time.Time
	// Busy and Total are machine-wide CPU seconds from /proc/stat (Busy excludes idle and iowait).
	Busy, Total float64
	// Ours is CPU seconds of this process, its reaped children (components that exited, go test) and
	// its live control-plane components.
	Ours float64
}

// TakeCPUSnapshot reads /proc/stat, /proc/self/stat and /proc/<pid>/stat for each live component.
func TakeCPUSnapshot(componentPIDs []int) CPUSnapshot {
	s := CPUSnapshot{At: time.Now()}
	if b, err := os.ReadFile("/proc/stat"); err == nil {
		line, _, _ := strings.Cut(string(b), "\n")
		f := strings.Fields(line)
		if len(f) > 8 && f[0] == "cpu" {
			// user nice system idle iowait irq softirq steal [guest guest_nice]; guest time is already
			// counted in user and nice, so it is left out.
			var v [8]float64
			for i := range v {
				v[i], _ = strconv.ParseFloat(f[i+1], 64)
			}
			var total float64
			for _, x := range v {
				total += x
			}
			s.Total, s.Busy = total/clockTicks, (total-v[3]-v[4])/clockTicks
		}
	}
	self := procStat("/proc/self/stat")
	if len(self) == 4 {
		s.Ours += (self[0] + self[1] + self[2] + self[3]) / clockTicks
	}
	for _, pid := range componentPIDs {
		if t := procStat(fmt.Sprintf("/proc/%d/stat", pid)); len(t) > 1 {
			s.Ours += (t[0] + t[1]) / clockTicks
		}
	}
	return s
}

// procStat returns utime, stime, cutime and cstime (in ticks) of a /proc/<pid>/stat file.
func procStat(path string) []float64 {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	// The command name is in parentheses and may contain spaces; fields resume after the last ')'.
	i := strings.LastIndexByte(string(b), ')')
	if i < 0 {
		return nil
	}
	f := strings.Fields(string(b)[i+1:])
	// After ')': state(3) ppid(4) ... utime is field 14 overall, i.e. index 11 here.
	if len(f) < 15 {
		return nil
	}
	out := make([]float64, 4)
	for j := range out {
		out[j], _ = strconv.ParseFloat(f[11+j], 64)
	}
	return out
}

// CPUUse is the CPU accounting of one phase of the run.
type CPUUse struct {
	Phase string
	Wall  time.Duration
	// BusyCores is the average number of busy cores; OursCores and OtherCores split it between the
	// benchmark with its control plane and everything else on the machine.
	BusyCores, OursCores, OtherCores float64
}

// Between accounts for the phase from a to b.
func Between(phase string, a, b CPUSnapshot) CPUUse {
	wall := b.At.Sub(a.At)
	u := CPUUse{Phase: phase, Wall: wall}
	if sec := wall.Seconds(); sec > 0 {
		u.BusyCores = (b.Busy - a.Busy) / sec
		u.OursCores = (b.Ours - a.Ours) / sec
		u.OtherCores = u.BusyCores - u.OursCores
		if u.OtherCores < 0 {
			u.OtherCores = 0 // tick rounding
		}
	}
	return u
}
