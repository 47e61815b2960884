// Copyright The nuclio-apiserver Authors.
// SPDX-License-Identifier: Apache-2.0

package chart

import (
	"bytes"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"net/netip"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/kubernetes/scheme"

	controllerconfig "github.com/nuclio-apiserver/nuclio-apiserver/pkg/controller/config"
	"github.com/nuclio-apiserver/nuclio-apiserver/pkg/webhook"
)

// TestRender renders every value set and checks the properties the chart promises.
func TestRender(t *testing.T) {
	for _, vs := range valueSets(t) {
		t.Run(vs.name, func(t *testing.T) {
			r := mustRender(t, vs)
			v := values(t, vs)
			t.Run("typed", func(t *testing.T) { checkTyped(t, r) })
			t.Run("tls", func(t *testing.T) { checkTLS(t, r, v) })
			t.Run("pods", func(t *testing.T) { checkPods(t, r, v) })
			t.Run("disruption", func(t *testing.T) { checkDisruptionBudgets(t, r) })
			t.Run("storage", func(t *testing.T) { checkStorage(t, r, v) })
			t.Run("networkpolicy", func(t *testing.T) { checkNetworkPolicies(t, r, v) })
			t.Run("rbac", func(t *testing.T) { checkRBAC(t, r, v) })
			t.Run("config", func(t *testing.T) { checkConfigs(t, r, v) })
			t.Run("images", func(t *testing.T) { checkImages(t, r, v) })
			t.Run("policies", func(t *testing.T) { checkPolicies(t, r, v) })
		})
	}
}

// checkTyped decodes every object of a built-in kind strictly into its Go type (unknown fields, wrong
// types and duplicates fail), and checks namespaces.
func checkTyped(t *testing.T, r *rendered) {
	names := map[string]bool{}
	for _, o := range r.objs {
		key := o.GetAPIVersion() + "/" + o.GetKind() + "/" + o.GetNamespace() + "/" + o.GetName()
		if names[key] {
			t.Errorf("duplicate object %s", key)
		}
		names[key] = true
		gvk := o.GroupVersionKind()
		switch gvk.Group {
		case "cert-manager.io", "apiregistration.k8s.io":
			continue // not in client-go's scheme; checked by field below
		}
		typed, err := scheme.Scheme.New(gvk)
		if err != nil {
			t.Errorf("%s %s: unknown kind: %v", gvk, o.GetName(), err)
			continue
		}
		into(t, o, typed)
	}
	if len(r.objs) < 10 {
		t.Fatalf("only %d objects rendered: %s", len(r.objs), r.kinds())
	}
}

// checkTLS: never insecureSkipTLSVerify; the APIService and the webhook configuration verify the servers
// against a CA that signed certificates carrying the Service names.
func checkTLS(t *testing.T, r *rendered, v map[string]interface{}) {
	for _, o := range r.objs {
		if path := findKey(o.Object, "insecureskiptlsverify", ""); path != "" {
			t.Errorf("%s %s sets %s", o.GetKind(), o.GetName(), path)
		}
	}
	if !bytes.Contains(r.raw, []byte("caBundle")) && !bytes.Contains(r.raw, []byte("cert-manager.io/inject-ca-from")) {
		t.Error("neither caBundle nor CA injection rendered")
	}
	mode := getString(v, "certificates.mode")
	api := r.one(t, "APIService", "v1beta1.nuclio.io")
	svc, _, _ := unstructured.NestedMap(api.Object, "spec", "service")
	if svc["name"] != "nuclio-apiserver" || svc["namespace"] != namespace || fmt.Sprint(svc["port"]) != "443" {
		t.Errorf("APIService service %v", svc)
	}
	for _, f := range []string{"group", "version"} {
		if s, _, _ := unstructured.NestedString(api.Object, "spec", f); s != map[string]string{"group": "nuclio.io", "version": "v1beta1"}[f] {
			t.Errorf("APIService spec.%s = %q", f, s)
		}
	}
	apiCA, _, _ := unstructured.NestedString(api.Object, "spec", "caBundle")

	mwc := &admissionregistrationv1.MutatingWebhookConfiguration{}
	into(t, r.one(t, "MutatingWebhookConfiguration", "nuclio-webhook"), mwc)
	if len(mwc.Webhooks) != 1 {
		t.Fatalf("want one webhook, got %d", len(mwc.Webhooks))
	}
	cc := mwc.Webhooks[0].ClientConfig
	if cc.URL != nil || cc.Service == nil || cc.Service.Name != "nuclio-webhook" || cc.Service.Namespace != namespace || cc.Service.Path == nil ||
		*cc.Service.Path != webhook.MutatePath {
		t.Errorf("webhook clientConfig %+v", cc)
	}
	webhookCA := base64.StdEncoding.EncodeToString(cc.CABundle)

	switch mode {
	case "certManager":
		for _, c := range []struct {
			name, ca    string
			annotations map[string]string
		}{{"nuclio-apiserver", apiCA, api.GetAnnotations()}, {"nuclio-webhook", webhookCA, mwc.Annotations}} {
			if c.ca != "" {
				t.Errorf("%s: caBundle set in certManager mode; the CA injector owns it", c.name)
			}
			if got := c.annotations["cert-manager.io/inject-ca-from"]; got != namespace+"/"+c.name {
				t.Errorf("%s: cert-manager.io/inject-ca-from = %q, want %s/%s", c.name, got, namespace, c.name)
			}
			cert := r.one(t, "Certificate", c.name)
			if cert.GetNamespace() != namespace {
				t.Errorf("Certificate %s in namespace %q", c.name, cert.GetNamespace())
			}
			secret, _, _ := unstructured.NestedString(cert.Object, "spec", "secretName")
			dns, _, _ := unstructured.NestedStringSlice(cert.Object, "spec", "dnsNames")
			if secret != c.name+"-tls" || !slices.Contains(dns, c.name+"."+namespace+".svc") ||
				!slices.Contains(dns, c.name+"."+namespace+".svc.cluster.local") {
				t.Errorf("Certificate %s: secretName %q, dnsNames %v", c.name, secret, dns)
			}
			issuer, _, _ := unstructured.NestedMap(cert.Object, "spec", "issuerRef")
			if want := get(v, "certificates.certManager.issuerRef"); len(want.(map[string]interface{})) > 0 {
				if fmt.Sprint(issuer) != fmt.Sprint(want) {
					t.Errorf("Certificate %s issuerRef %v, want %v", c.name, issuer, want)
				}
			} else if issuer["name"] != "nuclio-apiserver-ca" || len(r.find("Issuer", "nuclio-apiserver-ca")) != 1 {
				t.Errorf("Certificate %s issuerRef %v without the chart's CA Issuer", c.name, issuer)
			}
		}
		if len(r.find("Secret", "")) != 0 {
			t.Error("Secrets rendered in certManager mode")
		}
	case "helm":
		checkGeneratedCert(t, r, "nuclio-apiserver", apiCA)
		checkGeneratedCert(t, r, "nuclio-webhook", webhookCA)
		if len(r.find("Certificate", "")) != 0 {
			t.Error("cert-manager objects rendered in helm mode")
		}
	case "manual":
		want := getString(v, "certificates.manual.caBundle")
		if apiCA != want || webhookCA != want {
			t.Errorf("caBundles %q and %q, want certificates.manual.caBundle", apiCA, webhookCA)
		}
		if len(r.find("Secret", "")) != 0 || len(r.find("Certificate", "")) != 0 {
			t.Error("certificates rendered in manual mode")
		}
	default:
		t.Fatalf("unexpected certificates.mode %q", mode)
	}
}

// findKey returns the path of the first map key equal to key (case-insensitively) anywhere in v.
func findKey(v interface{}, key, path string) string {
	switch x := v.(type) {
	case map[string]interface{}:
		for k, e := range x {
			if strings.EqualFold(k, key) {
				return path + "." + k
			}
			if p := findKey(e, key, path+"."+k); p != "" {
				return p
			}
		}
	case []interface{}:
		for i, e := range x {
			if p := findKey(e, key, fmt.Sprintf("%s[%d]", path, i)); p != "" {
				return p
			}
		}
	}
	return ""
}

// checkGeneratedCert verifies the chart-generated Secret <name>-tls: its certificate chains to caBundle
// (which is the Secret's ca.crt) for the Service's DNS names.
func checkGeneratedCert(t *testing.T, r *rendered, name, caBundle string) {
	t.Helper()
	secret := &corev1.Secret{}
	into(t, r.one(t, "Secret", name+"-tls"), secret)
	if secret.Type != corev1.SecretTypeTLS || secret.Namespace != namespace {
		t.Errorf("Secret %s: type %q namespace %q", secret.Name, secret.Type, secret.Namespace)
	}
	if base64.StdEncoding.EncodeToString(secret.Data["ca.crt"]) != caBundle || caBundle == "" {
		t.Fatalf("%s: caBundle is not the Secret's ca.crt", name)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(secret.Data["ca.crt"]) {
		t.Fatalf("%s: ca.crt is not PEM", name)
	}
	block, _ := pem.Decode(secret.Data["tls.crt"])
	if block == nil {
		t.Fatalf("%s: tls.crt is not PEM", name)
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	for _, dns := range []string{name + "." + namespace + ".svc", name + "." + namespace + ".svc.cluster.local"} {
		if _, err := cert.Verify(x509.VerifyOptions{DNSName: dns, Roots: pool, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}); err != nil {
			t.Errorf("%s: certificate does not verify for %s: %v", name, dns, err)
		}
	}
	if key, _ := pem.Decode(secret.Data["tls.key"]); key == nil {
		t.Errorf("%s: tls.key is not PEM", name)
	}
}

// deployments returns the rendered Deployments by name.
func deployments(t *testing.T, r *rendered) map[string]*appsv1.Deployment {
	t.Helper()
	out := map[string]*appsv1.Deployment{}
	for _, o := range r.find("Deployment", "") {
		d := &appsv1.Deployment{}
		into(t, o, d)
		out[d.Name] = d
	}
	return out
}

// checkPods: every pod is non-root with a read-only root filesystem, no privilege escalation and no
// capabilities, has probes and resource requests, runs as its own ServiceAccount, and mounts only
// volumes that exist.
func checkPods(t *testing.T, r *rendered, v map[string]interface{}) {
	deps := deployments(t, r)
	want := []string{"nuclio-apiserver", "nuclio-webhook"}
	if getBool(v, "controller.enabled") {
		want = append(want, "nuclio-controller")
	}
	if got := mapKeys(deps); !slices.Equal(got, sortedCopy(want)) {
		t.Errorf("Deployments %v, want %v", got, want)
	}
	configMaps := names(r, "ConfigMap")
	secrets := names(r, "Secret")
	for _, c := range r.find("Certificate", "") {
		s, _, _ := unstructured.NestedString(c.Object, "spec", "secretName")
		secrets[s] = true
	}
	external := map[string]bool{
		getString(v, "etcd.external.tls.secretName"):    true,
		getString(v, "apiserver.encryption.secretName"): true,
	}
	if getString(v, "certificates.mode") == "manual" {
		external["nuclio-apiserver-tls"], external["nuclio-webhook-tls"] = true, true
	}
	sas := names(r, "ServiceAccount")
	for name, d := range deps {
		ps := d.Spec.Template.Spec
		if d.Namespace != namespace {
			t.Errorf("%s in namespace %q", name, d.Namespace)
		}
		if !sas[ps.ServiceAccountName] || ps.ServiceAccountName != name {
			t.Errorf("%s runs as ServiceAccount %q, want its own (rendered: %v)", name, ps.ServiceAccountName, sas)
		}
		if ps.AutomountServiceAccountToken == nil || !*ps.AutomountServiceAccountToken {
			t.Errorf("%s: automountServiceAccountToken must be explicitly true (its ServiceAccount disables it)", name)
		}
		if ps.SecurityContext == nil || ps.SecurityContext.RunAsNonRoot == nil || !*ps.SecurityContext.RunAsNonRoot ||
			ps.SecurityContext.SeccompProfile == nil || ps.SecurityContext.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
			t.Errorf("%s: pod securityContext %+v", name, ps.SecurityContext)
		}
		if ps.HostNetwork || ps.HostPID || ps.HostIPC {
			t.Errorf("%s shares a host namespace", name)
		}
		if ps.Affinity == nil && len(ps.TopologySpreadConstraints) == 0 {
			t.Errorf("%s: no anti-affinity or spread", name)
		}
		if a := ps.Affinity; a != nil && getString(v, strings.TrimPrefix(name, "nuclio-")+".affinity") == "" {
			if a.PodAntiAffinity == nil || len(a.PodAntiAffinity.PreferredDuringSchedulingIgnoredDuringExecution) == 0 {
				t.Errorf("%s: default affinity is not pod anti-affinity", name)
			} else {
				sel, err := metav1.LabelSelectorAsSelector(a.PodAntiAffinity.PreferredDuringSchedulingIgnoredDuringExecution[0].PodAffinityTerm.LabelSelector)
				if err != nil || !sel.Matches(labels.Set(d.Spec.Template.Labels)) {
					t.Errorf("%s: anti-affinity selector does not select its own pods", name)
				}
			}
		}
		sel, err := metav1.LabelSelectorAsSelector(d.Spec.Selector)
		if err != nil || !sel.Matches(labels.Set(d.Spec.Template.Labels)) {
			t.Errorf("%s: selector does not match the pod template", name)
		}
		all := append(append([]corev1.Container{}, ps.InitContainers...), ps.Containers...)
		for _, c := range all {
			sc := c.SecurityContext
			where := name + "/" + c.Name
			switch {
			case sc == nil:
				t.Errorf("%s: no securityContext", where)
				continue
			case sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot, sc.RunAsUser == nil || *sc.RunAsUser == 0:
				t.Errorf("%s: must run as a non-root user", where)
			case sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem:
				t.Errorf("%s: root filesystem must be read-only", where)
			case sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation:
				t.Errorf("%s: privilege escalation must be off", where)
			case sc.Privileged != nil && *sc.Privileged:
				t.Errorf("%s: privileged", where)
			case sc.Capabilities == nil || !slices.Contains(sc.Capabilities.Drop, "ALL") || len(sc.Capabilities.Add) > 0:
				t.Errorf("%s: capabilities %+v, want drop ALL and add none", where, sc.Capabilities)
			}
			if c.ReadinessProbe == nil || c.LivenessProbe == nil {
				t.Errorf("%s: readiness and liveness probes required", where)
			}
			if c.Resources.Requests.Cpu().IsZero() || c.Resources.Requests.Memory().IsZero() || c.Resources.Limits.Memory().IsZero() {
				t.Errorf("%s: resources %+v: want cpu and memory requests and a memory limit", where, c.Resources)
			}
			if c.Image == "" || (c.ImagePullPolicy != corev1.PullIfNotPresent && c.ImagePullPolicy != corev1.PullAlways && c.ImagePullPolicy != corev1.PullNever) {
				t.Errorf("%s: image %q pull policy %q", where, c.Image, c.ImagePullPolicy)
			}
			mounted := map[string]bool{}
			for _, m := range c.VolumeMounts {
				mounted[m.Name] = true
				if m.MountPath == "/tmp" {
					mounted["/tmp"] = true
				}
			}
			if !mounted["/tmp"] {
				t.Errorf("%s: no writable /tmp (the root filesystem is read-only)", where)
			}
		}
		for _, vol := range ps.Volumes {
			switch {
			case vol.ConfigMap != nil && !configMaps[vol.ConfigMap.Name]:
				t.Errorf("%s: volume %s uses ConfigMap %s, which the chart does not render", name, vol.Name, vol.ConfigMap.Name)
			case vol.Secret != nil && !secrets[vol.Secret.SecretName] && !external[vol.Secret.SecretName]:
				t.Errorf("%s: volume %s uses Secret %s, which neither the chart nor cert-manager creates", name, vol.Name, vol.Secret.SecretName)
			case vol.PersistentVolumeClaim != nil && !names(r, "PersistentVolumeClaim")[vol.PersistentVolumeClaim.ClaimName] &&
				vol.PersistentVolumeClaim.ClaimName != getString(v, "etcd.embedded.persistence.existingClaim"):
				t.Errorf("%s: volume %s uses a claim that does not exist", name, vol.Name)
			}
		}
	}
	// The Services select the pods they front, on the ports the containers serve.
	for svcName, port := range map[string]string{"nuclio-apiserver": "https", "nuclio-webhook": "webhook"} {
		svc := &corev1.Service{}
		into(t, r.one(t, "Service", svcName), svc)
		d := deps[svcName]
		if d == nil {
			continue
		}
		if !labels.SelectorFromSet(svc.Spec.Selector).Matches(labels.Set(d.Spec.Template.Labels)) {
			t.Errorf("Service %s does not select its pods", svcName)
		}
		if len(svc.Spec.Ports) == 0 || svc.Spec.Ports[0].Port != 443 || svc.Spec.Ports[0].TargetPort.String() != port {
			t.Errorf("Service %s ports %+v", svcName, svc.Spec.Ports)
		}
	}
}

// checkDisruptionBudgets: a PodDisruptionBudget for exactly the Deployments with more than one replica,
// selecting their pods and leaving room for one eviction.
func checkDisruptionBudgets(t *testing.T, r *rendered) {
	pdbs := map[string]*policyv1.PodDisruptionBudget{}
	for _, o := range r.find("PodDisruptionBudget", "") {
		p := &policyv1.PodDisruptionBudget{}
		into(t, o, p)
		pdbs[p.Name] = p
	}
	for name, d := range deployments(t, r) {
		replicas := int32(1)
		if d.Spec.Replicas != nil {
			replicas = *d.Spec.Replicas
		}
		p, ok := pdbs[name]
		if replicas > 1 != ok {
			t.Errorf("%s: %d replicas, PodDisruptionBudget present: %v", name, replicas, ok)
			continue
		}
		if !ok {
			continue
		}
		sel, err := metav1.LabelSelectorAsSelector(p.Spec.Selector)
		if err != nil || !sel.Matches(labels.Set(d.Spec.Template.Labels)) {
			t.Errorf("PodDisruptionBudget %s does not select its pods", name)
		}
		if p.Spec.MinAvailable == nil || p.Spec.MinAvailable.IntValue() >= int(replicas) {
			t.Errorf("PodDisruptionBudget %s minAvailable %v with %d replicas blocks every eviction", name, p.Spec.MinAvailable, replicas)
		}
		delete(pdbs, name)
	}
	for name := range pdbs {
		t.Errorf("PodDisruptionBudget %s has no Deployment", name)
	}
}

// checkStorage: embedded etcd is one replica on its volume; external etcd is two or more replicas with
// TLS client certificates.
func checkStorage(t *testing.T, r *rendered, v map[string]interface{}) {
	d := deployments(t, r)["nuclio-apiserver"]
	if d == nil {
		t.Fatal("no nuclio-apiserver Deployment")
	}
	c := d.Spec.Template.Spec.Containers[0]
	args := strings.Join(c.Args, " ")
	mounts := map[string]string{}
	for _, m := range c.VolumeMounts {
		mounts[m.MountPath] = m.Name
	}
	for _, want := range []string{"--secure-port=8443", "--tls-cert-file=/etc/nuclio-apiserver/tls/tls.crt", "--tls-private-key-file=/etc/nuclio-apiserver/tls/tls.key"} {
		if !slices.Contains(c.Args, want) {
			t.Errorf("nuclio-apiserver args lack %s: %s", want, args)
		}
	}
	switch getString(v, "etcd.mode") {
	case "embedded":
		const dir = "/var/lib/nuclio-apiserver/etcd"
		if *d.Spec.Replicas != 1 || d.Spec.Strategy.Type != appsv1.RecreateDeploymentStrategyType {
			t.Errorf("embedded etcd: replicas %d strategy %s, want 1 and Recreate", *d.Spec.Replicas, d.Spec.Strategy.Type)
		}
		if !slices.Contains(c.Args, "--embedded-etcd-dir="+dir) || strings.Contains(args, "--etcd-servers") || mounts[filepath.Dir(dir)] != "data" {
			t.Errorf("embedded etcd: args %s, mounts %v", args, mounts)
		}
		pvcs := r.find("PersistentVolumeClaim", "nuclio-apiserver-etcd")
		wantPVC := getBool(v, "etcd.embedded.persistence.enabled") && getString(v, "etcd.embedded.persistence.existingClaim") == ""
		if (len(pvcs) == 1) != wantPVC {
			t.Errorf("embedded etcd: PersistentVolumeClaim rendered %d times, want %v", len(pvcs), wantPVC)
		}
		if wantPVC && pvcs[0].GetAnnotations()["helm.sh/resource-policy"] != "keep" && getBool(v, "etcd.embedded.persistence.keep") {
			t.Error("the etcd claim must survive helm uninstall (helm.sh/resource-policy: keep)")
		}
	case "external":
		if *d.Spec.Replicas < 2 {
			t.Errorf("external etcd: %d replicas, want 2 or more", *d.Spec.Replicas)
		}
		if d.Spec.Strategy.Type != appsv1.RollingUpdateDeploymentStrategyType || d.Spec.Strategy.RollingUpdate.MaxUnavailable.IntValue() != 0 {
			t.Errorf("external etcd: strategy %+v, want rolling updates that keep every replica", d.Spec.Strategy)
		}
		servers := strings.Join(getStrings(v, "etcd.external.servers"), ",")
		for _, want := range []string{"--etcd-servers=" + servers, "--etcd-prefix=" + getString(v, "etcd.external.prefix"),
			"--etcd-cafile=/etc/nuclio-apiserver/etcd/ca.crt", "--etcd-certfile=/etc/nuclio-apiserver/etcd/tls.crt", "--etcd-keyfile=/etc/nuclio-apiserver/etcd/tls.key"} {
			if !slices.Contains(c.Args, want) {
				t.Errorf("external etcd: args lack %s: %s", want, args)
			}
		}
		if strings.Contains(args, "--embedded-etcd-dir") || mounts["/etc/nuclio-apiserver/etcd"] != "etcd-tls" {
			t.Errorf("external etcd: args %s mounts %v", args, mounts)
		}
		if len(r.find("PersistentVolumeClaim", "")) != 0 {
			t.Error("external etcd: a PersistentVolumeClaim was rendered")
		}
	}
	if s := getString(v, "apiserver.encryption.secretName"); s != "" && !strings.Contains(args, "--encryption-provider-config=") {
		t.Errorf("encryption at rest configured but not passed: %s", args)
	}
	if getBool(v, "apiserver.audit.enabled") {
		if !strings.Contains(args, "--audit-policy-file=") || len(r.find("ConfigMap", "nuclio-apiserver-audit-policy")) != 1 {
			t.Errorf("audit enabled but not wired: %s", args)
		}
	}
}

// Address ranges build pods must never reach.
var deniedForBuilds = []string{"10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16", "127.0.0.0/8", "100.64.0.0/10",
	"fc00::/7", "fe80::/10", "::1/128"}

// checkNetworkPolicies: nuclio-apiserver only from kube-apiserver's addresses, the webhook only from
// nuclio-apiserver, build pods without ingress and without egress to local ranges.
func checkNetworkPolicies(t *testing.T, r *rendered, v map[string]interface{}) {
	nps := map[string]*networkingv1.NetworkPolicy{}
	for _, o := range r.find("NetworkPolicy", "") {
		np := &networkingv1.NetworkPolicy{}
		into(t, o, np)
		nps[np.Namespace+"/"+np.Name] = np
	}
	if !getBool(v, "networkPolicy.enabled") {
		if len(nps) != 0 {
			t.Errorf("networkPolicy.enabled is false but %d NetworkPolicies were rendered", len(nps))
		}
		return
	}
	deps := deployments(t, r)
	selects := func(np *networkingv1.NetworkPolicy, d *appsv1.Deployment) bool {
		sel, err := metav1.LabelSelectorAsSelector(&np.Spec.PodSelector)
		return err == nil && d != nil && sel.Matches(labels.Set(d.Spec.Template.Labels))
	}

	api := nps[namespace+"/nuclio-apiserver"]
	if api == nil || !selects(api, deps["nuclio-apiserver"]) {
		t.Fatal("no NetworkPolicy selecting nuclio-apiserver")
	}
	if len(api.Spec.Ingress) != 1 || len(api.Spec.Ingress[0].Ports) != 1 || api.Spec.Ingress[0].Ports[0].Port.IntValue() != 8443 {
		t.Errorf("nuclio-apiserver ingress %+v: want the serving port only", api.Spec.Ingress)
	}
	cidrs := getStrings(v, "networkPolicy.apiserver.kubeAPIServerCIDRs")
	var from []string
	for _, p := range api.Spec.Ingress[0].From {
		if p.IPBlock != nil {
			from = append(from, p.IPBlock.CIDR)
		}
	}
	if !slices.Equal(from, cidrs) {
		t.Errorf("nuclio-apiserver admitted from %v, want kubeAPIServerCIDRs %v", from, cidrs)
	}

	wh := nps[namespace+"/nuclio-webhook"]
	if wh == nil || !selects(wh, deps["nuclio-webhook"]) {
		t.Fatal("no NetworkPolicy selecting nuclio-webhook")
	}
	in := wh.Spec.Ingress[0]
	if len(in.From) != 1 || in.From[0].PodSelector == nil || in.From[0].NamespaceSelector != nil || in.From[0].IPBlock != nil {
		t.Fatalf("nuclio-webhook ingress from %+v: want nuclio-apiserver's pods only", in.From)
	}
	if sel, _ := metav1.LabelSelectorAsSelector(in.From[0].PodSelector); !sel.Matches(labels.Set(deps["nuclio-apiserver"].Spec.Template.Labels)) ||
		sel.Matches(labels.Set(deps["nuclio-webhook"].Spec.Template.Labels)) {
		t.Error("nuclio-webhook ingress does not select exactly nuclio-apiserver's pods")
	}
	if len(in.Ports) != 1 || in.Ports[0].Port.IntValue() != 9443 {
		t.Errorf("nuclio-webhook ingress ports %+v", in.Ports)
	}
	metricsFrom := get(v, "networkPolicy.metrics.from").([]interface{})
	if (len(wh.Spec.Ingress) == 2) != (len(metricsFrom) > 0 && getBool(v, "webhook.metrics")) {
		t.Errorf("nuclio-webhook: %d ingress rules with metrics peers %v", len(wh.Spec.Ingress), metricsFrom)
	}
	if getBool(v, "controller.enabled") {
		c := nps[namespace+"/nuclio-controller"]
		if c == nil || !selects(c, deps["nuclio-controller"]) {
			t.Error("no NetworkPolicy selecting nuclio-controller")
		} else if (len(c.Spec.Ingress) > 0) != (len(metricsFrom) > 0) {
			t.Errorf("nuclio-controller ingress %+v", c.Spec.Ingress)
		}
	}

	if !getBool(v, "networkPolicy.builds.enabled") {
		return
	}
	want := getStrings(v, "networkPolicy.builds.namespaces")
	if len(want) == 0 && getBool(v, "controller.enabled") && getString(v, "controller.namespace") != "" {
		want = []string{getString(v, "controller.namespace")}
	}
	var got []string
	for _, np := range nps {
		if np.Name == "nuclio-builder-egress" {
			got = append(got, np.Namespace)
			checkBuilderPolicy(t, np, getStrings(v, "networkPolicy.builds.deniedCIDRs"))
		}
	}
	if !slices.Equal(sortedCopy(got), sortedCopy(want)) {
		t.Errorf("build egress policies in namespaces %q, want %q", got, want)
	}
}

func checkBuilderPolicy(t *testing.T, np *networkingv1.NetworkPolicy, extraDenied []string) {
	t.Helper()
	if np.Spec.PodSelector.MatchLabels["nuclio.io/component"] != "builder" || len(np.Spec.PodSelector.MatchLabels) != 1 {
		t.Errorf("%s: selects %v, want build pods (nuclio.io/component: builder)", np.Namespace, np.Spec.PodSelector)
	}
	if !slices.Contains(np.Spec.PolicyTypes, networkingv1.PolicyTypeIngress) || !slices.Contains(np.Spec.PolicyTypes, networkingv1.PolicyTypeEgress) || len(np.Spec.Ingress) != 0 {
		t.Errorf("%s: policyTypes %v ingress %v: want no ingress at all", np.Namespace, np.Spec.PolicyTypes, np.Spec.Ingress)
	}
	// Every egress rule either is DNS to selected pods only, or an ipBlock whose exceptions cover every
	// denied range (and the extra ones).
	denied := append(append([]string{}, deniedForBuilds...), extraDenied...)
	dnsRule := false
	for i, rule := range np.Spec.Egress {
		if len(rule.To) == 0 {
			t.Errorf("%s: egress rule %d allows every destination", np.Namespace, i)
			continue
		}
		isDNS := len(rule.Ports) > 0
		for _, p := range rule.Ports {
			isDNS = isDNS && p.Port != nil && p.Port.IntValue() == 53
		}
		for _, peer := range rule.To {
			if peer.IPBlock == nil {
				if !isDNS && i < 2 {
					t.Errorf("%s: egress rule %d reaches pods on any port", np.Namespace, i)
				}
				continue
			}
			cidr := netip.MustParsePrefix(peer.IPBlock.CIDR)
			for _, d := range denied {
				dp := netip.MustParsePrefix(d)
				if dp.Addr().Is4() != cidr.Addr().Is4() || !cidr.Overlaps(dp) {
					continue
				}
				covered := false
				for _, e := range peer.IPBlock.Except {
					ep := netip.MustParsePrefix(e)
					covered = covered || (ep.Bits() <= dp.Bits() && ep.Contains(dp.Addr()))
				}
				if !covered && i < 2 {
					t.Errorf("%s: egress to %s does not except %s", np.Namespace, cidr, d)
				}
			}
		}
		dnsRule = dnsRule || isDNS
	}
	if !dnsRule {
		t.Errorf("%s: no DNS egress", np.Namespace)
	}
}

// checkRBAC: the aggregated-API bindings, the user roles, and each component's rights.
func checkRBAC(t *testing.T, r *rendered, v map[string]interface{}) {
	crb := &rbacv1.ClusterRoleBinding{}
	into(t, r.one(t, "ClusterRoleBinding", "nuclio-apiserver:system:auth-delegator"), crb)
	if crb.RoleRef.Name != "system:auth-delegator" || crb.Subjects[0].Name != "nuclio-apiserver" || crb.Subjects[0].Namespace != namespace {
		t.Errorf("auth-delegator binding %+v", crb)
	}
	rb := &rbacv1.RoleBinding{}
	into(t, r.one(t, "RoleBinding", "nuclio-apiserver-auth-reader"), rb)
	if rb.Namespace != "kube-system" || rb.RoleRef.Name != "extension-apiserver-authentication-reader" || rb.Subjects[0].Name != "nuclio-apiserver" {
		t.Errorf("auth-reader binding %+v", rb)
	}
	userRoles := map[string]string{"nuclio-view": "aggregate-to-view", "nuclio-edit": "aggregate-to-edit", "nuclio-admin": "aggregate-to-admin"}
	for role, label := range userRoles {
		objs := r.find("ClusterRole", role)
		if (len(objs) == 1) != getBool(v, "rbac.userRoles") {
			t.Errorf("ClusterRole %s rendered %d times with rbac.userRoles %v", role, len(objs), getBool(v, "rbac.userRoles"))
			continue
		}
		if len(objs) == 1 && objs[0].GetLabels()["rbac.authorization.k8s.io/"+label] != "true" {
			t.Errorf("ClusterRole %s lacks the %s label", role, label)
		}
	}

	// Nobody gets wildcard verbs, escalate, bind or impersonate; only the webhook and the controller
	// write Secrets.
	for _, kind := range []string{"ClusterRole", "Role"} {
		for _, o := range r.find(kind, "") {
			role := &rbacv1.ClusterRole{}
			into(t, o, role)
			for _, rule := range role.Rules {
				for _, verb := range rule.Verbs {
					if verb == "*" || verb == "escalate" || verb == "bind" || verb == "impersonate" {
						t.Errorf("%s %s grants %s", kind, o.GetName(), verb)
					}
				}
				if slices.Contains(rule.Resources, "secrets") && slices.Contains(rule.Verbs, "create") &&
					o.GetName() != "nuclio-webhook" && o.GetName() != "nuclio-controller" {
					t.Errorf("%s %s writes Secrets", kind, o.GetName())
				}
			}
		}
	}

	if !getBool(v, "controller.enabled") {
		if len(r.find("ClusterRole", "nuclio-controller"))+len(r.find("Role", "nuclio-controller")) != 0 {
			t.Error("controller RBAC rendered without the controller")
		}
		return
	}
	if ns := getString(v, "controller.namespace"); ns != "" {
		if len(r.find("ClusterRoleBinding", "nuclio-controller")) != 0 {
			t.Error("namespaced controller has cluster-wide rights")
		}
		binding := &rbacv1.RoleBinding{}
		into(t, r.one(t, "RoleBinding", "nuclio-controller"), binding)
		if binding.Namespace != ns || binding.RoleRef.Name != "nuclio-controller" {
			t.Errorf("namespaced controller's binding %s/%s -> %s, want %s/nuclio-controller", binding.Namespace, binding.Name, binding.RoleRef.Name, ns)
		}
	} else {
		r.one(t, "ClusterRoleBinding", "nuclio-controller")
	}
	// In its own namespace the controller reads only the build-source policy's ConfigMap, by name.
	sys := &rbacv1.Role{}
	into(t, r.one(t, "Role", "nuclio-controller-leader-election"), sys)
	for _, rule := range sys.Rules {
		if slices.Contains(rule.Resources, "configmaps") && !slices.Equal(rule.ResourceNames, []string{"nuclio-build-source-policy"}) {
			t.Errorf("nuclio-controller-leader-election reads ConfigMaps %v", rule.ResourceNames)
		}
	}
	// Cluster-scoped reviews for the metrics endpoint come through system:auth-delegator in both modes.
	crb = &rbacv1.ClusterRoleBinding{}
	into(t, r.one(t, "ClusterRoleBinding", "nuclio-controller:system:auth-delegator"), crb)
	if crb.RoleRef.Name != "system:auth-delegator" {
		t.Errorf("controller auth-delegator binding %+v", crb.RoleRef)
	}
}

// checkConfigs loads the components' configuration files with their own strict loaders.
func checkConfigs(t *testing.T, r *rendered, v map[string]interface{}) {
	cm := &corev1.ConfigMap{}
	into(t, r.one(t, "ConfigMap", "nuclio-webhook"), cm)
	wc, err := webhook.LoadConfig([]byte(cm.Data["config.yaml"]))
	if err != nil {
		t.Errorf("webhook config: %v\n%s", err, cm.Data["config.yaml"])
	}
	if wc.AllowOptOut != getBool(v, "webhook.config.allowOptOut") || len(wc.ExtraSensitivePaths) != len(getStrings(v, "webhook.config.extraSensitivePaths")) {
		t.Errorf("webhook config %+v does not reflect the values", wc)
	}
	d := deployments(t, r)["nuclio-webhook"]
	if args := d.Spec.Template.Spec.Containers[0].Args; !slices.Contains(args, "--config=/etc/nuclio-webhook/config/config.yaml") ||
		!slices.Contains(args, "--cert-dir=/etc/nuclio-webhook/tls") || !slices.Contains(args, "--port=9443") {
		t.Errorf("nuclio-webhook args %v", args)
	}
	if !getBool(v, "controller.enabled") {
		if len(r.find("ConfigMap", "nuclio-controller")) != 0 {
			t.Error("controller config rendered without the controller")
		}
		return
	}
	into(t, r.one(t, "ConfigMap", "nuclio-controller"), cm)
	cc, err := controllerconfig.Load([]byte(cm.Data["config.yaml"]))
	if err != nil {
		t.Fatalf("controller config: %v\n%s", err, cm.Data["config.yaml"])
	}
	checks := map[string][2]string{
		"registry":        {cc.Registry, getString(v, "controller.registry.url")},
		"registrySecret":  {cc.RegistrySecret, getString(v, "controller.registry.pushSecret")},
		"kanikoCacheRepo": {cc.KanikoCacheRepo, getString(v, "controller.registry.cacheRepo")},
		"kanikoImage":     {cc.KanikoImage, getString(v, "controller.kaniko.image")},
		"namespace":       {cc.Namespace, getString(v, "controller.namespace")},
		"baseRegistry":    {cc.BaseRegistry, getString(v, "controller.imageRegistries.base")},
		"onbuildRegistry": {cc.OnbuildRegistry, getString(v, "controller.imageRegistries.onbuild")},
		"insecurePush":    {fmt.Sprint(cc.InsecurePushRegistry), fmt.Sprint(getBool(v, "controller.registry.insecurePush"))},
		"buildSourcePolicy": {fmt.Sprint(cc.BuildSourcePolicy), map[bool]string{
			true: fmt.Sprint(&controllerconfig.ObjectRef{Namespace: namespace, Name: "nuclio-build-source-policy"}), false: fmt.Sprint(&controllerconfig.ObjectRef{})}[getBool(v, "policies.buildSources.enabled")]},
	}
	for field, c := range checks {
		if c[0] != c[1] {
			t.Errorf("controller config %s = %q, want %q", field, c[0], c[1])
		}
	}
	if want := fmt.Sprint(get(v, "controller.imageRegistries.baseOverrides")); len(cc.BaseRegistryOverrides) > 0 && fmt.Sprint(cc.BaseRegistryOverrides) != want {
		t.Errorf("baseRegistryOverrides %v, want %v", cc.BaseRegistryOverrides, want)
	}
	if !strings.HasPrefix(cc.FetcherImage, getString(v, "image.registry")+"/nuclio-apiserver/nuclio-fetcher") {
		t.Errorf("fetcherImage %q is not the chart's fetcher image", cc.FetcherImage)
	}
}

// checkImages: this project's containers come from image.registry with the chart's tag or a digest.
func checkImages(t *testing.T, r *rendered, v map[string]interface{}) {
	registry := getString(v, "image.registry")
	for name, d := range deployments(t, r) {
		img := d.Spec.Template.Spec.Containers[0].Image
		short := strings.TrimPrefix(name, "nuclio-")
		want := registry + "/" + getString(v, short+".image.repository")
		if digest := getString(v, short+".image.digest"); digest != "" {
			want += "@" + digest
		} else {
			tag := getString(v, short+".image.tag")
			if tag == "" {
				tag = getString(v, "image.tag")
			}
			if tag == "" {
				tag = chartAppVersion(t)
			}
			want += ":" + tag
		}
		if img != want {
			t.Errorf("%s image %q, want %q", name, img, want)
		}
		var pull []string
		for _, s := range d.Spec.Template.Spec.ImagePullSecrets {
			pull = append(pull, s.Name)
		}
		if !slices.Equal(pull, getStrings(v, "image.pullSecrets")) {
			t.Errorf("%s imagePullSecrets %v, want %v", name, pull, getStrings(v, "image.pullSecrets"))
		}
	}
}

func chartAppVersion(t *testing.T) string {
	t.Helper()
	m := readYAMLMap(t, chartDir+"/Chart.yaml")
	return fmt.Sprint(m["appVersion"])
}

func names(r *rendered, kind string) map[string]bool {
	out := map[string]bool{}
	for _, o := range r.find(kind, "") {
		out[o.GetName()] = true
	}
	return out
}

func mapKeys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return sortedCopy(out)
}

func sortedCopy(s []string) []string {
	out := append([]string(nil), s...)
	slices.Sort(out)
	return out
}
