// Copyright The nuclio-apiserver Authors.
// SPDX-License-Identifier: Apache-2.0

package harness

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Process is one control-plane component running as a child process, with its output in a log file.
type Process struct {
	Name    string
	Path    string
	Args    []string
	LogFile string

	cmd    *exec.Cmd
	done   chan struct{}
	mu     sync.Mutex
	exited error
}

// start launches the process. It is put in its own process group so that a terminal's Ctrl-C reaches
// only the launcher, which then stops components in order.
func (p *Process) start() error {
	if _, err := os.Stat(p.Path); err != nil {
		return fmt.Errorf("%s: binary %s not found (run `make tools`): %w", p.Name, p.Path, err)
	}
	log, err := os.OpenFile(p.LogFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	fmt.Fprintf(log, "\n==== %s starting %s %s\n", time.Now().Format(time.RFC3339), p.Path, strings.Join(p.Args, " "))
	p.cmd = exec.Command(p.Path, p.Args...)
	p.cmd.Stdout, p.cmd.Stderr = log, log
	// Pdeathsig: if the launcher dies without stopping us (SIGKILL, a crash), the component goes too
	// instead of holding ports and data directories.
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	// Components must never pick up a proxy from the environment: all traffic stays on loopback.
	p.cmd.Env = append(filterEnv(os.Environ(), "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "no_proxy"), "NO_PROXY=*")
	if err := p.cmd.Start(); err != nil {
		log.Close()
		return fmt.Errorf("%s: %w", p.Name, err)
	}
	p.done = make(chan struct{})
	go func() {
		err := p.cmd.Wait()
		log.Close()
		p.mu.Lock()
		p.exited = err
		if p.exited == nil {
			p.exited = errors.New("exited")
		}
		p.mu.Unlock()
		close(p.done)
	}()
	return nil
}

func filterEnv(env []string, drop ...string) []string {
	out := env[:0:0]
	for _, kv := range env {
		name, _, _ := strings.Cut(kv, "=")
		keep := true
		for _, d := range drop {
			if name == d {
				keep = false
			}
		}
		if keep {
			out = append(out, kv)
		}
	}
	return out
}

// Exited returns why the process ended, or nil while it runs.
func (p *Process) Exited() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.exited
}

// Done is closed when the process ends.
func (p *Process) Done() <-chan struct{} { return p.done }

// stop sends SIGTERM, waits up to grace, then kills the process group.
func (p *Process) stop(grace time.Duration) {
	if p.cmd == nil || p.cmd.Process == nil || p.done == nil {
		return
	}
	select {
	case <-p.done:
		return
	default:
	}
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(grace):
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
		<-p.done
	}
}

// tail returns the last n lines of the process log, to explain a failure.
func (p *Process) tail(n int) string {
	f, err := os.Open(p.LogFile)
	if err != nil {
		return ""
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		lines = append(lines, sc.Text())
		if len(lines) > n {
			lines = lines[1:]
		}
	}
	return strings.Join(lines, "\n")
}

// waitFor polls check until it succeeds, the process exits, the timeout passes or ctx ends. Errors
// carry the end of the process log.
func (p *Process) waitFor(ctx context.Context, timeout time.Duration, check func(context.Context) error) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var last error
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for {
		if last = check(ctx); last == nil {
			return nil
		}
		select {
		case <-p.done:
			return fmt.Errorf("%s exited during start-up (%v); last lines of %s:\n%s", p.Name, p.Exited(), p.LogFile, p.tail(30))
		case <-ctx.Done():
			return fmt.Errorf("%s not ready after %s: %v; last lines of %s:\n%s", p.Name, timeout, last, p.LogFile, p.tail(30))
		case <-tick.C:
		}
	}
}

// Ports are the loopback ports of the control plane.
type Ports struct {
	Etcd, EtcdPeer, KubeAPIServer, ControllerManager, Scheduler, NuclioAPIServer, Webhook, WebhookHealth, ControllerHealth int
}

// portNames label ports in error messages.
func (p Ports) named() map[string]int {
	return map[string]int{
		"etcd": p.Etcd, "etcd peer": p.EtcdPeer, "kube-apiserver": p.KubeAPIServer,
		"kube-controller-manager": p.ControllerManager, "kube-scheduler": p.Scheduler,
		"nuclio-apiserver": p.NuclioAPIServer, "nuclio-webhook": p.Webhook, "nuclio-webhook health": p.WebhookHealth,
		"nuclio-controller health": p.ControllerHealth,
	}
}

// DefaultPorts are the fixed ports of `make run`, so kubeconfigs stay valid across restarts.
func DefaultPorts() Ports {
	return Ports{Etcd: 42379, EtcdPeer: 42380, KubeAPIServer: 46443, ControllerManager: 40257,
		Scheduler: 40259, NuclioAPIServer: 48443, Webhook: 49443, WebhookHealth: 49081, ControllerHealth: 49082}
}

// FreePorts picks unused loopback ports, for tests that run beside each other or beside `make run`.
func FreePorts() (Ports, error) {
	var ports []int
	var listeners []net.Listener
	defer func() {
		for _, l := range listeners {
			l.Close()
		}
	}()
	for i := 0; i < 9; i++ {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return Ports{}, err
		}
		listeners = append(listeners, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return Ports{Etcd: ports[0], EtcdPeer: ports[1], KubeAPIServer: ports[2], ControllerManager: ports[3],
		Scheduler: ports[4], NuclioAPIServer: ports[5], Webhook: ports[6], WebhookHealth: ports[7], ControllerHealth: ports[8]}, nil
}

// checkPortsFree fails with a clear message when a port is taken (typically by another `make run`).
func checkPortsFree(p Ports) error {
	for name, port := range p.named() {
		l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
		if err != nil {
			return fmt.Errorf("port %d for %s is already in use on 127.0.0.1 (is another `make run` or e2e run active? stop it, or pick other ports): %w", port, name, err)
		}
		l.Close()
	}
	return nil
}

func addr(port int) string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(port)) }

func mustAbs(p string) string {
	a, err := filepath.Abs(p)
	if err != nil {
		panic(err)
	}
	return a
}
