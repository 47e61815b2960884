// Copyright The nuclio-apiserver Authors.
// SPDX-License-Identifier: Apache-2.0

package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// GoBench is one line of `go test -bench` output.
type GoBench struct {
	// Name is the benchmark name without the -GOMAXPROCS suffix, e.g. "BenchmarkAdmission/credentials".
	Name string
	// Iterations is b.N.
	Iterations int64
	// Metrics maps unit to value: "ns/op", "B/op", "allocs/op" and custom ones such as "p50-ns".
	Metrics map[string]float64
}

// GoBenchRun is one `go test -bench` invocation.
type GoBenchRun struct {
	// Title says what is measured; Command is the command line as run.
	Title, Command string
	Results        []GoBench
	// Err is set when the command failed; Output then holds its end.
	Err    error
	Output string
}

// RunGoBench runs `go test <pkg> -run '^$' -bench <pattern> -benchtime <benchtime> -count 1` in
// repoRoot. GOPROXY=off: the benchmark never downloads anything; the module cache must be warm (it is
// after `make build`).
func RunGoBench(ctx context.Context, repoRoot, title, pkg, pattern, benchtime string) GoBenchRun {
	args := []string{"test", pkg, "-run", "^$", "-bench", pattern, "-benchtime", benchtime, "-count", "1"}
	run := GoBenchRun{Title: title, Command: "go " + strings.Join(quoteArgs(args), " ")}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = repoRoot
	cmd.Env = append(os.Environ(), "GOPROXY=off")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		run.Err = err
		run.Output = tailLines(out.String(), 20)
		return run
	}
	run.Results = ParseGoBench(out.String())
	if len(run.Results) == 0 {
		run.Err = fmt.Errorf("no benchmark matched %q in %s", pattern, pkg)
		run.Output = tailLines(out.String(), 20)
	}
	return run
}

// ParseGoBench extracts benchmark lines ("BenchmarkX/sub-8  1000  1234 ns/op  56 B/op ...") from
// `go test -bench` output.
func ParseGoBench(output string) []GoBench {
	var out []GoBench
	sc := bufio.NewScanner(strings.NewReader(output))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") {
			continue
		}
		n, err := strconv.ParseInt(f[1], 10, 64)
		if err != nil {
			continue
		}
		name := f[0]
		if i := strings.LastIndexByte(name, '-'); i > 0 {
			if _, err := strconv.Atoi(name[i+1:]); err == nil {
				name = name[:i]
			}
		}
		b := GoBench{Name: name, Iterations: n, Metrics: map[string]float64{}}
		for i := 2; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				break
			}
			b.Metrics[f[i+1]] = v
		}
		out = append(out, b)
	}
	return out
}

func quoteArgs(args []string) []string {
	out := make([]string, len(args))
	for i, a := range args {
		if strings.ContainsAny(a, "^$ *") {
			a = "'" + a + "'"
		}
		out[i] = a
	}
	return out
}

func tailLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
