// Copyright The nuclio-apiserver Authors.
// SPDX-License-Identifier: Apache-2.0

package main

import (
	"bufio"
	"strconv"
	"strings"
	"time"
)

// Metrics is a scrape of a Prometheus text endpoint: one value per series.
type Metrics []Series

// Series is one sample line: metric name, labels and value.
type Series struct {
	Name   string
	Labels map[string]string
	Value  float64
}

// ParseMetrics parses the Prometheus text exposition format, skipping comments and lines it cannot
// read (it needs only counters and histogram sums and counts).
func ParseMetrics(text string) Metrics {
	var out Metrics
	sc := bufio.NewScanner(strings.NewReader(text))
	sc.Buffer(make([]byte, 64*1024), 4*1024*1024)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		s := Series{Labels: map[string]string{}}
		rest := line
		if i := strings.IndexAny(line, "{ "); i >= 0 && line[i] == '{' {
			s.Name = line[:i]
			labels, after, ok := parseLabels(line[i+1:])
			if !ok {
				continue
			}
			s.Labels, rest = labels, after
		} else if i >= 0 {
			s.Name, rest = line[:i], line[i:]
		} else {
			continue
		}
		fields := strings.Fields(rest)
		if len(fields) == 0 {
			continue
		}
		v, err := strconv.ParseFloat(fields[0], 64)
		if err != nil {
			continue
		}
		s.Value = v
		out = append(out, s)
	}
	return out
}

// parseLabels reads `k="v",k2="v2"}` and returns the labels and the text after '}'.
func parseLabels(s string) (map[string]string, string, bool) {
	labels := map[string]string{}
	for {
		s = strings.TrimLeft(s, " ,")
		if strings.HasPrefix(s, "}") {
			return labels, s[1:], true
		}
		eq := strings.IndexByte(s, '=')
		if eq < 0 || len(s) < eq+2 || s[eq+1] != '"' {
			return nil, "", false
		}
		key := strings.TrimSpace(s[:eq])
		var val strings.Builder
		i := eq + 2
		for ; i < len(s) && s[i] != '"'; i++ {
			if s[i] == '\\' && i+1 < len(s) {
				i++
				switch s[i] {
				case 'n':
					val.WriteByte('\n')
				default:
					val.WriteByte(s[i])
				}
				continue
			}
			val.WriteByte(s[i])
		}
		if i >= len(s) {
			return nil, "", false
		}
		labels[key] = val.String()
		s = s[i+1:]
	}
}

// Sum adds the values of every series called name whose labels include all of match.
func (m Metrics) Sum(name string, match map[string]string) float64 {
	var total float64
	for _, s := range m {
		if s.Name != name {
			continue
		}
		ok := true
		for k, v := range match {
			if s.Labels[k] != v {
				ok = false
				break
			}
		}
		if ok {
			total += s.Value
		}
	}
	return total
}

// HistogramDelta is what a histogram recorded between two scrapes.
type HistogramDelta struct {
	// Count is the number of observations; Mean their average.
	Count float64
	Mean  time.Duration
}

// Delta returns the observations of histogram name (in seconds) with labels match between before and
// after.
func Delta(before, after Metrics, name string, match map[string]string) HistogramDelta {
	count := after.Sum(name+"_count", match) - before.Sum(name+"_count", match)
	sum := after.Sum(name+"_sum", match) - before.Sum(name+"_sum", match)
	d := HistogramDelta{Count: count}
	if count > 0 {
		d.Mean = time.Duration(sum / count * float64(time.Second))
	}
	return d
}
