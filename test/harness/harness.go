// Copyright The nuclio-apiserver Authors.
// SPDX-License-Identifier: Apache-2.0

// Package harness runs a real, local Kubernetes control plane for `make run` and the e2e suites:
// etcd, kube-apiserver (aggregation enabled), kube-controller-manager, kube-scheduler and kwok (fake
// nodes and pods), built from pinned upstream sources by hack/build-tools.sh, plus nuclio-apiserver
// registered through an APIService, nuclio-webhook with the admission policies, and nuclio-controller.
//
// Every address is on loopback: kube-apiserver advertises 127.0.0.1 with the endpoint reconciler off,
// the service CIDR and kwok's pod CIDR are inside 127.0.0.0/8, the APIService reaches nuclio-apiserver
// through an ExternalName Service pointing at localhost, and webhooks are called by url.
package harness

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"k8s.io/utils/ptr"
)

const (
	// SystemNamespace holds nuclio-apiserver's ServiceAccount, Service and configuration, as in a real
	// install.
	SystemNamespace = "nuclio-system"
	// ServiceName is the Service behind the APIService; the serving certificate names
	// <ServiceName>.<SystemNamespace>.svc because the aggregator verifies that name.
	ServiceName = "nuclio-apiserver"
	// ServiceCIDR and PodCIDR are the loopback ranges for ClusterIPs and kwok's pod IPs.
	ServiceCIDR = "127.96.0.0/16"
	PodCIDR     = "127.64.0.0/16"
	// NodeName is kwok's fake node.
	NodeName = "kwok-node-0"
)

// Options configure a control plane.
type Options struct {
	// Dir holds all state: pki/, kubeconfigs, logs/, etcd data and nuclio-apiserver's embedded etcd.
	// It is wiped on start.
	Dir string
	// BinDir holds the upstream binaries and nuclio-apiserver (default _output/bin of RepoRoot).
	BinDir string
	// RepoRoot is where artifacts/ lives.
	RepoRoot string
	// Ports of the components; FreePorts() for tests, DefaultPorts() for `make run`.
	Ports Ports
	// Progress receives one line per step; nil discards.
	Progress io.Writer
	// Users are namespace-scoped test users: name → (namespace, built-in ClusterRole).
	Users []User
	// NuclioAPIServerArgs are extra flags for nuclio-apiserver (e.g. --disable-admission-plugins=...).
	NuclioAPIServerArgs []string
	// KubeAPIServerArgs are extra flags for kube-apiserver.
	KubeAPIServerArgs []string
	// EtcdFsync makes kube-apiserver's etcd sync its writes to disk, as in production; by default it
	// runs with --unsafe-no-fsync (a disposable cluster). nuclio-apiserver's embedded etcd always syncs.
	EtcdFsync bool
}

// User is a test account bound to a built-in ClusterRole (admin, edit, view) in one namespace.
type User struct {
	Name, Namespace, ClusterRole string
}

// DefaultUsers are the accounts `make run` and the e2e suite create: alice and bob administer their
// own team namespaces, carol can only view team-a.
func DefaultUsers() []User {
	return []User{
		{Name: "alice", Namespace: "team-a", ClusterRole: "admin"},
		{Name: "bob", Namespace: "team-b", ClusterRole: "admin"},
		{Name: "carol", Namespace: "team-a", ClusterRole: "view"},
	}
}

// ControlPlane is a running local control plane.
type ControlPlane struct {
	opts Options

	ca, frontProxyCA *CA
	// AdminKubeconfig is a cluster-admin (system:masters) kubeconfig.
	AdminKubeconfig string
	// UserKubeconfigs maps user name to kubeconfig path.
	UserKubeconfigs map[string]string
	// Admin is the cluster-admin REST config.
	Admin *rest.Config
	Kube  kubernetes.Interface
	// Dynamic is a dynamic client with cluster-admin rights.
	Dynamic dynamic.Interface

	procs          []*Process
	nuclioAPI      *Process
	webhook        *Process
	webhookArgs    []string
	controller     *Process
	controllerArgs []string
	nuclioKubeconf string
	nuclioServing  CertPair
}

// Start builds the state directory and starts every component in dependency order, returning when
// nuclio.io is served through kube-apiserver. On error everything started so far is stopped.
func Start(ctx context.Context, opts Options) (_ *ControlPlane, err error) {
	if opts.RepoRoot == "" {
		return nil, errors.New("harness: RepoRoot is required")
	}
	opts.RepoRoot = mustAbs(opts.RepoRoot)
	if opts.BinDir == "" {
		opts.BinDir = filepath.Join(opts.RepoRoot, "_output", "bin")
	}
	opts.BinDir, opts.Dir = mustAbs(opts.BinDir), mustAbs(opts.Dir)
	if opts.Progress == nil {
		opts.Progress = io.Discard
	}
	if err := checkPortsFree(opts.Ports); err != nil {
		return nil, err
	}
	if err := os.RemoveAll(opts.Dir); err != nil {
		return nil, err
	}
	for _, d := range []string{"pki", "logs", "kwok"} {
		if err := os.MkdirAll(filepath.Join(opts.Dir, d), 0o755); err != nil {
			return nil, err
		}
	}

	cp := &ControlPlane{opts: opts, UserKubeconfigs: map[string]string{}}
	defer func() {
		if err != nil {
			cp.Stop()
		}
	}()
	steps := []struct {
		name string
		fn   func(context.Context) error
	}{
		{"certificates", cp.writePKI},
		{"etcd", cp.startEtcd},
		{"kube-apiserver", cp.startKubeAPIServer},
		{"kube-controller-manager and kube-scheduler", cp.startControllers},
		{"nuclio-apiserver RBAC and service account", cp.installServerRBAC},
		{"nuclio-apiserver", cp.StartNuclioAPIServer},
		{"APIService v1beta1.nuclio.io", cp.registerAPIService},
		{"nuclio-webhook and policies", cp.startWebhook},
		{"kwok node", cp.startKwok},
		{"nuclio-controller", cp.startController},
		{"users", cp.createUsers},
	}
	for _, s := range steps {
		start := time.Now()
		if err := s.fn(ctx); err != nil {
			return nil, fmt.Errorf("starting %s: %w", s.name, err)
		}
		fmt.Fprintf(opts.Progress, "  ✓ %s (%.1fs)\n", s.name, time.Since(start).Seconds())
	}
	return cp, nil
}

// Stop stops every component, newest first.
func (cp *ControlPlane) Stop() {
	for i := len(cp.procs) - 1; i >= 0; i-- {
		cp.procs[i].stop(15 * time.Second)
	}
}

// Dir returns the state directory.
func (cp *ControlPlane) Dir() string { return cp.opts.Dir }

// Ports returns the component ports.
func (cp *ControlPlane) Ports() Ports { return cp.opts.Ports }

// BinDir returns the binary directory.
func (cp *ControlPlane) BinDir() string { return cp.opts.BinDir }

func (cp *ControlPlane) pki(name string) string { return filepath.Join(cp.opts.Dir, "pki", name) }
func (cp *ControlPlane) logf(name string) string {
	return filepath.Join(cp.opts.Dir, "logs", name+".log")
}
func (cp *ControlPlane) bin(name string) string    { return filepath.Join(cp.opts.BinDir, name) }
func (cp *ControlPlane) kasURL() string            { return "https://" + addr(cp.opts.Ports.KubeAPIServer) }
func (cp *ControlPlane) track(p *Process) *Process { cp.procs = append(cp.procs, p); return p }

// clientCerts are the client identities of the control plane, signed by the cluster CA.
var clientCerts = map[string]certSpec{
	"admin":                   {CommonName: "kubernetes-admin", Organization: []string{"system:masters"}},
	"kube-controller-manager": {CommonName: "system:kube-controller-manager"},
	"kube-scheduler":          {CommonName: "system:kube-scheduler"},
	"kwok":                    {CommonName: "kwok", Organization: []string{"system:masters"}},
}

func (cp *ControlPlane) writePKI(context.Context) error {
	dir := cp.pki("")
	var err error
	if cp.ca, err = newCA(dir, "ca", "nuclio-local-ca"); err != nil {
		return err
	}
	if cp.frontProxyCA, err = newCA(dir, "front-proxy-ca", "nuclio-local-front-proxy-ca"); err != nil {
		return err
	}
	loopback := []net.IP{net.ParseIP("127.0.0.1")}
	if _, err := cp.ca.issue(dir, "kube-apiserver", certSpec{CommonName: "kube-apiserver", Server: true,
		DNSNames: []string{"localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc"},
		IPs:      append(loopback, net.ParseIP(firstServiceIP()))}); err != nil {
		return err
	}
	if cp.nuclioServing, err = cp.ca.issue(dir, "nuclio-apiserver", certSpec{CommonName: ServiceName, Server: true,
		DNSNames: []string{ServiceName + "." + SystemNamespace + ".svc", "localhost"}, IPs: loopback}); err != nil {
		return err
	}
	if _, err := cp.ca.issue(dir, "nuclio-webhook", certSpec{CommonName: "nuclio-webhook", Server: true,
		DNSNames: []string{"nuclio-webhook." + SystemNamespace + ".svc", "localhost"}, IPs: loopback}); err != nil {
		return err
	}
	if _, err := cp.frontProxyCA.issue(dir, "front-proxy-client", certSpec{CommonName: "front-proxy-client"}); err != nil {
		return err
	}
	for name, spec := range clientCerts {
		if _, err := cp.ca.issue(dir, name, spec); err != nil {
			return err
		}
	}
	for _, u := range cp.opts.Users {
		if _, err := cp.ca.issue(dir, "user-"+u.Name, certSpec{CommonName: u.Name}); err != nil {
			return err
		}
	}
	if _, _, err := writeServiceAccountKeys(dir); err != nil {
		return err
	}
	for name := range clientCerts {
		if err := cp.writeCertKubeconfig(filepath.Join(cp.opts.Dir, name+".kubeconfig"), name, cp.pki(name)); err != nil {
			return err
		}
	}
	cp.AdminKubeconfig = filepath.Join(cp.opts.Dir, "kubeconfig")
	return cp.writeCertKubeconfig(cp.AdminKubeconfig, "admin", cp.pki("admin"))
}

// firstServiceIP is the ClusterIP kube-apiserver gives the kubernetes Service (first of ServiceCIDR).
func firstServiceIP() string {
	_, n, _ := net.ParseCIDR(ServiceCIDR)
	ip := n.IP.To4()
	return net.IPv4(ip[0], ip[1], ip[2], ip[3]+1).String()
}

func (cp *ControlPlane) writeCertKubeconfig(path, user, certPrefix string) error {
	return writeKubeconfig(path, cp.kasURL(), cp.ca.CertFile, user, &clientcmdapi.AuthInfo{
		ClientCertificate: certPrefix + ".crt", ClientKey: certPrefix + ".key",
	})
}

func writeKubeconfig(path, server, caFile, user string, auth *clientcmdapi.AuthInfo) error {
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["local"] = &clientcmdapi.Cluster{Server: server, CertificateAuthority: caFile}
	cfg.AuthInfos[user] = auth
	cfg.Contexts[user+"@local"] = &clientcmdapi.Context{Cluster: "local", AuthInfo: user}
	cfg.CurrentContext = user + "@local"
	return clientcmd.WriteToFile(*cfg, path)
}

func (cp *ControlPlane) startEtcd(ctx context.Context) error {
	p := cp.opts.Ports
	client, peer := "http://"+addr(p.Etcd), "http://"+addr(p.EtcdPeer)
	proc := cp.track(&Process{Name: "etcd", Path: cp.bin("etcd"), LogFile: cp.logf("etcd"), Args: []string{
		"--name=local", "--data-dir=" + filepath.Join(cp.opts.Dir, "etcd"),
		"--listen-client-urls=" + client, "--advertise-client-urls=" + client,
		"--listen-peer-urls=" + peer, "--initial-advertise-peer-urls=" + peer,
		"--initial-cluster=local=" + peer, "--listen-metrics-urls=",
		"--unsafe-no-fsync=" + strconv.FormatBool(!cp.opts.EtcdFsync), // a disposable local cluster unless asked
		"--log-level=warn",
	}})
	if err := proc.start(); err != nil {
		return err
	}
	hc := &http.Client{Timeout: 2 * time.Second}
	return proc.waitFor(ctx, 60*time.Second, func(ctx context.Context) error {
		return httpOK(ctx, hc, client+"/health")
	})
}

func httpOK(ctx context.Context, hc *http.Client, url string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s: %s", url, resp.Status, strings.TrimSpace(string(body)))
	}
	return nil
}

// tlsClient trusts the cluster CA and, when cert is set, presents it.
func (cp *ControlPlane) tlsClient(cert string) (*http.Client, error) {
	pool := x509.NewCertPool()
	pool.AddCert(cp.ca.Cert)
	cfg := &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	if cert != "" {
		pair, err := tls.LoadX509KeyPair(cert+".crt", cert+".key")
		if err != nil {
			return nil, err
		}
		cfg.Certificates = []tls.Certificate{pair}
	}
	// Proxy: nil — never route loopback traffic through an environment proxy.
	return &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: cfg, Proxy: nil}}, nil
}

func (cp *ControlPlane) startKubeAPIServer(ctx context.Context) error {
	p := cp.opts.Ports
	proc := cp.track(&Process{Name: "kube-apiserver", Path: cp.bin("kube-apiserver"), LogFile: cp.logf("kube-apiserver"), Args: []string{
		"--etcd-servers=http://" + addr(p.Etcd),
		"--bind-address=127.0.0.1", "--secure-port=" + strconv.Itoa(p.KubeAPIServer),
		"--advertise-address=127.0.0.1", "--endpoint-reconciler-type=none",
		"--service-cluster-ip-range=" + ServiceCIDR,
		"--client-ca-file=" + cp.ca.CertFile,
		"--tls-cert-file=" + cp.pki("kube-apiserver.crt"), "--tls-private-key-file=" + cp.pki("kube-apiserver.key"),
		"--authorization-mode=RBAC",
		"--service-account-issuer=https://kubernetes.default.svc",
		"--service-account-key-file=" + cp.pki("sa.pub"), "--service-account-signing-key-file=" + cp.pki("sa.key"),
		// Aggregation: kube-apiserver authenticates to extension servers with the front-proxy client
		// certificate and passes the user in these headers.
		"--requestheader-client-ca-file=" + cp.frontProxyCA.CertFile,
		"--requestheader-allowed-names=front-proxy-client",
		"--requestheader-username-headers=X-Remote-User", "--requestheader-group-headers=X-Remote-Group",
		"--requestheader-extra-headers-prefix=X-Remote-Extra-", "--requestheader-uid-headers=X-Remote-Uid",
		"--proxy-client-cert-file=" + cp.pki("front-proxy-client.crt"), "--proxy-client-key-file=" + cp.pki("front-proxy-client.key"),
		"--enable-aggregator-routing=false", // ExternalName Services only work with service routing
		"--profiling=false",
	}})
	proc.Args = append(proc.Args, cp.opts.KubeAPIServerArgs...)
	if err := proc.start(); err != nil {
		return err
	}
	hc, err := cp.tlsClient(cp.pki("admin"))
	if err != nil {
		return err
	}
	if err := proc.waitFor(ctx, 90*time.Second, func(ctx context.Context) error {
		return httpOK(ctx, hc, cp.kasURL()+"/readyz")
	}); err != nil {
		return err
	}
	if cp.Admin, err = clientcmd.BuildConfigFromFlags("", cp.AdminKubeconfig); err != nil {
		return err
	}
	cp.Admin.QPS, cp.Admin.Burst = 100, 200
	if cp.Kube, err = kubernetes.NewForConfig(cp.Admin); err != nil {
		return err
	}
	cp.Dynamic, err = dynamic.NewForConfig(cp.Admin)
	return err
}

// controllers are the kube-controller-manager controllers the suites rely on: ownerReference garbage
// collection, namespace deletion, Jobs and Deployments, role aggregation into admin/edit/view, policy
// type checking, default ServiceAccounts for pods, Job TTLs, and node lifecycle (it lifts the not-ready
// taint a new node is admitted with once kwok reports it Ready).
var controllers = []string{
	"garbage-collector-controller", "namespace-controller", "job-controller", "deployment-controller",
	"replicaset-controller", "clusterrole-aggregation-controller", "validatingadmissionpolicy-status-controller",
	"serviceaccount-controller", "ttl-after-finished-controller", "root-ca-certificate-publisher-controller",
	"node-lifecycle-controller",
}

func (cp *ControlPlane) startControllers(ctx context.Context) error {
	p := cp.opts.Ports
	kcm := cp.track(&Process{Name: "kube-controller-manager", Path: cp.bin("kube-controller-manager"), LogFile: cp.logf("kube-controller-manager"), Args: []string{
		"--kubeconfig=" + filepath.Join(cp.opts.Dir, "kube-controller-manager.kubeconfig"),
		"--authentication-kubeconfig=" + filepath.Join(cp.opts.Dir, "kube-controller-manager.kubeconfig"),
		"--authorization-kubeconfig=" + filepath.Join(cp.opts.Dir, "kube-controller-manager.kubeconfig"),
		"--bind-address=127.0.0.1", "--secure-port=" + strconv.Itoa(p.ControllerManager),
		"--controllers=" + strings.Join(controllers, ","),
		"--use-service-account-credentials=true", "--root-ca-file=" + cp.ca.CertFile,
		"--leader-elect=false", "--profiling=false",
		// Client-side rate limits above the defaults (20/30), so that Jobs and Deployments of many
		// functions (make bench) are paced by the code under test, not by kube-controller-manager.
		"--kube-api-qps=200", "--kube-api-burst=400",
	}})
	sched := cp.track(&Process{Name: "kube-scheduler", Path: cp.bin("kube-scheduler"), LogFile: cp.logf("kube-scheduler"), Args: []string{
		"--kubeconfig=" + filepath.Join(cp.opts.Dir, "kube-scheduler.kubeconfig"),
		"--authentication-kubeconfig=" + filepath.Join(cp.opts.Dir, "kube-scheduler.kubeconfig"),
		"--authorization-kubeconfig=" + filepath.Join(cp.opts.Dir, "kube-scheduler.kubeconfig"),
		"--bind-address=127.0.0.1", "--secure-port=" + strconv.Itoa(p.Scheduler),
		"--leader-elect=false", "--profiling=false",
	}})
	for _, proc := range []*Process{kcm, sched} {
		if err := proc.start(); err != nil {
			return err
		}
	}
	insecure := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{
		// Health of a self-signed loopback endpoint; nothing secret is exchanged.
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, //nolint:gosec
		Proxy:           nil,
	}}
	if err := kcm.waitFor(ctx, 60*time.Second, func(ctx context.Context) error {
		return httpOK(ctx, insecure, "https://"+addr(p.ControllerManager)+"/healthz")
	}); err != nil {
		return err
	}
	return sched.waitFor(ctx, 60*time.Second, func(ctx context.Context) error {
		return httpOK(ctx, insecure, "https://"+addr(p.Scheduler)+"/healthz")
	})
}

// installServerRBAC applies artifacts/rbac.yaml (the server's ServiceAccount, its delegated-auth
// bindings and role, and the user-facing aggregated roles) and writes a kubeconfig with a token of
// that ServiceAccount, so nuclio-apiserver runs with exactly the rights a real install gives it.
func (cp *ControlPlane) installServerRBAC(ctx context.Context) error {
	if err := cp.ApplyFiles(ctx, filepath.Join(cp.opts.RepoRoot, "artifacts", "rbac.yaml")); err != nil {
		return err
	}
	tr, err := cp.Kube.CoreV1().ServiceAccounts(SystemNamespace).CreateToken(ctx, ServiceName, &authenticationv1.TokenRequest{
		Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: ptr.To[int64](7 * 24 * 3600)},
	}, metav1.CreateOptions{})
	if err != nil {
		return fmt.Errorf("requesting a token for %s/%s: %w", SystemNamespace, ServiceName, err)
	}
	cp.nuclioKubeconf = filepath.Join(cp.opts.Dir, "nuclio-apiserver.kubeconfig")
	return writeKubeconfig(cp.nuclioKubeconf, cp.kasURL(), cp.ca.CertFile, ServiceName, &clientcmdapi.AuthInfo{Token: tr.Status.Token})
}

// NuclioAPIServerDataDir is where nuclio-apiserver keeps its embedded etcd.
func (cp *ControlPlane) NuclioAPIServerDataDir() string {
	return filepath.Join(cp.opts.Dir, "nuclio-apiserver")
}

// StartNuclioAPIServer starts (or restarts, after StopNuclioAPIServer) nuclio-apiserver on its embedded
// etcd and waits for /readyz.
func (cp *ControlPlane) StartNuclioAPIServer(ctx context.Context) error {
	proc := &Process{Name: "nuclio-apiserver", Path: cp.bin("nuclio-apiserver"), LogFile: cp.logf("nuclio-apiserver"), Args: []string{
		"--embedded-etcd-dir=" + filepath.Join(cp.NuclioAPIServerDataDir(), "etcd"),
		"--bind-address=127.0.0.1", "--secure-port=" + strconv.Itoa(cp.opts.Ports.NuclioAPIServer),
		"--tls-cert-file=" + cp.nuclioServing.CertFile, "--tls-private-key-file=" + cp.nuclioServing.KeyFile,
		"--kubeconfig=" + cp.nuclioKubeconf,
		"--authentication-kubeconfig=" + cp.nuclioKubeconf,
		"--authorization-kubeconfig=" + cp.nuclioKubeconf,
		"--cert-dir=" + filepath.Join(cp.NuclioAPIServerDataDir(), "certs"),
	}}
	proc.Args = append(proc.Args, cp.opts.NuclioAPIServerArgs...)
	cp.replace(cp.nuclioAPI, proc)
	cp.nuclioAPI = proc
	if err := proc.start(); err != nil {
		return err
	}
	hc, err := cp.tlsClient("")
	if err != nil {
		return err
	}
	return proc.waitFor(ctx, 90*time.Second, func(ctx context.Context) error {
		return httpOK(ctx, hc, "https://"+addr(cp.opts.Ports.NuclioAPIServer)+"/readyz")
	})
}

// StopNuclioAPIServer stops nuclio-apiserver gracefully (its data stays).
func (cp *ControlPlane) StopNuclioAPIServer() {
	if cp.nuclioAPI != nil {
		cp.nuclioAPI.stop(30 * time.Second)
	}
}

var apiServiceGVR = schema.GroupVersionResource{Group: "apiregistration.k8s.io", Version: "v1", Resource: "apiservices"}

// registerAPIService points v1beta1.nuclio.io at nuclio-apiserver: an ExternalName Service to localhost
// (Endpoints cannot hold loopback addresses) and the APIService with the CA that signed the serving
// certificate, then waits until the aggregator reports it Available.
func (cp *ControlPlane) registerAPIService(ctx context.Context) error {
	ca, err := os.ReadFile(cp.ca.CertFile)
	if err != nil {
		return err
	}
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: ServiceName, Namespace: SystemNamespace},
		Spec:       corev1.ServiceSpec{Type: corev1.ServiceTypeExternalName, ExternalName: "localhost"},
	}
	if _, err := cp.Kube.CoreV1().Services(SystemNamespace).Create(ctx, svc, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return err
	}
	apiService := &unstructured.Unstructured{Object: map[string]interface{}{
		"apiVersion": "apiregistration.k8s.io/v1",
		"kind":       "APIService",
		"metadata":   map[string]interface{}{"name": "v1beta1.nuclio.io"},
		"spec": map[string]interface{}{
			"group": "nuclio.io", "version": "v1beta1",
			"groupPriorityMinimum": int64(1000), "versionPriority": int64(15),
			"service":  map[string]interface{}{"name": ServiceName, "namespace": SystemNamespace, "port": int64(cp.opts.Ports.NuclioAPIServer)},
			"caBundle": base64.StdEncoding.EncodeToString(ca),
		},
	}}
	if _, err := cp.Dynamic.Resource(apiServiceGVR).Apply(ctx, "v1beta1.nuclio.io", apiService, metav1.ApplyOptions{FieldManager: "nuclio-harness", Force: true}); err != nil {
		return err
	}
	if err := cp.WaitAPIServiceAvailable(ctx, 60*time.Second); err != nil {
		return err
	}
	return cp.waitOpenAPI(ctx, 60*time.Second)
}

// waitOpenAPI waits until kube-apiserver's aggregated OpenAPI v3 serves nuclio.io/v1beta1 (kubectl
// explain and client-side schema users read it there; the aggregator adds it shortly after Available).
func (cp *ControlPlane) waitOpenAPI(ctx context.Context, timeout time.Duration) error {
	var last error
	err := wait.PollUntilContextTimeout(ctx, 250*time.Millisecond, timeout, true, func(ctx context.Context) (bool, error) {
		body, err := cp.Kube.Discovery().RESTClient().Get().AbsPath("/openapi/v3/apis/nuclio.io/v1beta1").DoRaw(ctx)
		if err != nil {
			last = err
			return false, nil
		}
		if !strings.Contains(string(body), `"kind":"NuclioFunction"`) && !strings.Contains(string(body), `"kind": "NuclioFunction"`) {
			last = errors.New("schema lacks NuclioFunction")
			return false, nil
		}
		return true, nil
	})
	if err != nil {
		return fmt.Errorf("OpenAPI v3 of nuclio.io/v1beta1 not served by kube-apiserver (%v): %w", last, err)
	}
	return nil
}

// WaitAPIServiceAvailable waits for the APIService's Available condition.
func (cp *ControlPlane) WaitAPIServiceAvailable(ctx context.Context, timeout time.Duration) error {
	var last string
	err := wait.PollUntilContextTimeout(ctx, 250*time.Millisecond, timeout, true, func(ctx context.Context) (bool, error) {
		obj, err := cp.Dynamic.Resource(apiServiceGVR).Get(ctx, "v1beta1.nuclio.io", metav1.GetOptions{})
		if err != nil {
			last = err.Error()
			return false, nil
		}
		conds, _, _ := unstructured.NestedSlice(obj.Object, "status", "conditions")
		for _, c := range conds {
			m, _ := c.(map[string]interface{})
			if m["type"] == "Available" {
				last = fmt.Sprintf("%v: %v", m["reason"], m["message"])
				return m["status"] == "True", nil
			}
		}
		return false, nil
	})
	if err != nil {
		return fmt.Errorf("APIService v1beta1.nuclio.io not Available (%s): %w", last, err)
	}
	return nil
}

func (cp *ControlPlane) startKwok(ctx context.Context) error {
	cfg := filepath.Join(cp.opts.Dir, "kwok", "kwok.yaml")
	if err := writeKwokConfig(cfg); err != nil {
		return err
	}
	proc := cp.track(&Process{Name: "kwok", Path: cp.bin("kwok"), LogFile: cp.logf("kwok"), Args: []string{
		"--kubeconfig=" + filepath.Join(cp.opts.Dir, "kwok.kubeconfig"),
		"--config=" + cfg,
		"--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake",
		"--cidr=" + PodCIDR, "--node-ip=127.0.0.1",
	}})
	if err := proc.start(); err != nil {
		return err
	}
	node := &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{
			Name:        NodeName,
			Annotations: map[string]string{"kwok.x-k8s.io/node": "fake", "node.alpha.kubernetes.io/ttl": "0"},
			Labels:      map[string]string{"type": "kwok", "kubernetes.io/hostname": NodeName, "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64"},
		},
		Spec: corev1.NodeSpec{PodCIDR: PodCIDR, PodCIDRs: []string{PodCIDR}},
		Status: corev1.NodeStatus{Allocatable: corev1.ResourceList{
			corev1.ResourceCPU: mustQuantity("32"), corev1.ResourceMemory: mustQuantity("256Gi"), corev1.ResourcePods: mustQuantity("1000"),
		}, Capacity: corev1.ResourceList{
			corev1.ResourceCPU: mustQuantity("32"), corev1.ResourceMemory: mustQuantity("256Gi"), corev1.ResourcePods: mustQuantity("1000"),
		}},
	}
	if _, err := cp.Kube.CoreV1().Nodes().Create(ctx, node, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return err
	}
	return proc.waitFor(ctx, 60*time.Second, func(ctx context.Context) error {
		n, err := cp.Kube.CoreV1().Nodes().Get(ctx, NodeName, metav1.GetOptions{})
		if err != nil {
			return err
		}
		if len(n.Spec.Taints) > 0 {
			return fmt.Errorf("node still tainted: %v", n.Spec.Taints)
		}
		for _, c := range n.Status.Conditions {
			if c.Type == corev1.NodeReady && c.Status == corev1.ConditionTrue {
				return nil
			}
		}
		return errors.New("node not Ready yet")
	})
}

// createUsers creates each user's namespace, binds the user to its ClusterRole there, and writes
// <Dir>/<user>.kubeconfig with the user's client certificate.
func (cp *ControlPlane) createUsers(ctx context.Context) error {
	for _, u := range cp.opts.Users {
		ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: u.Namespace}}
		if _, err := cp.Kube.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
			return err
		}
		rb := &rbacv1.RoleBinding{
			ObjectMeta: metav1.ObjectMeta{Name: u.Name + "-" + u.ClusterRole, Namespace: u.Namespace},
			RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: u.ClusterRole},
			Subjects:   []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: rbacv1.UserKind, Name: u.Name}},
		}
		if _, err := cp.Kube.RbacV1().RoleBindings(u.Namespace).Create(ctx, rb, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
			return err
		}
		path := filepath.Join(cp.opts.Dir, u.Name+".kubeconfig")
		if err := cp.writeCertKubeconfig(path, u.Name, cp.pki("user-"+u.Name)); err != nil {
			return err
		}
		// Point the user's context at their namespace, as a namespace admin would have it.
		cfg, err := clientcmd.LoadFromFile(path)
		if err != nil {
			return err
		}
		cfg.Contexts[cfg.CurrentContext].Namespace = u.Namespace
		if err := clientcmd.WriteToFile(*cfg, path); err != nil {
			return err
		}
		cp.UserKubeconfigs[u.Name] = path
	}
	return nil
}

// RestartNuclioAPIServer stops nuclio-apiserver and starts it again with different extra flags (for
// example --disable-admission-plugins), keeping its data, then waits for the APIService.
func (cp *ControlPlane) RestartNuclioAPIServer(ctx context.Context, extraArgs []string) error {
	cp.StopNuclioAPIServer()
	cp.opts.NuclioAPIServerArgs = extraArgs
	if err := cp.StartNuclioAPIServer(ctx); err != nil {
		return err
	}
	return cp.WaitAPIServiceAvailable(ctx, 60*time.Second)
}

// PID returns the process ID of a running component ("nuclio-apiserver", "kube-apiserver", ...), or 0.
func (cp *ControlPlane) PID(name string) int {
	for _, p := range cp.procs {
		if p.Name == name && p.cmd != nil && p.cmd.Process != nil && p.Exited() == nil {
			return p.cmd.Process.Pid
		}
	}
	return 0
}
