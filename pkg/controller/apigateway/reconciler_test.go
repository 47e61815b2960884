// Copyright The nuclio-apiserver Authors.
// SPDX-License-Identifier: Apache-2.0

package apigateway

import (
	"context"
	"strings"
	"sync"
	"testing"

	"golang.org/x/crypto/bcrypt"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/tools/events"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/nuclio-apiserver/nuclio-apiserver/apis/nuclio/v1beta1"
	"github.com/nuclio-apiserver/nuclio-apiserver/pkg/controller/config"
	"github.com/nuclio-apiserver/nuclio-apiserver/pkg/masking"
)

const passwordToken = "$ref:/spec/authentication/basicauth/password"

type env struct {
	t      *testing.T
	client client.WithWatch
	r      *Reconciler
	events *events.FakeRecorder

	mu     sync.Mutex
	writes []string
}

func newEnv(t *testing.T, objs ...client.Object) *env {
	t.Helper()
	s := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(s); err != nil {
		t.Fatal(err)
	}
	if err := v1beta1.AddToScheme(s); err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, events: events.NewFakeRecorder(20)}
	note := func(verb string, obj client.Object) {
		e.mu.Lock()
		defer e.mu.Unlock()
		e.writes = append(e.writes, verb+" "+obj.GetName())
	}
	e.client = fake.NewClientBuilder().WithScheme(s).WithObjects(objs...).
		WithStatusSubresource(&v1beta1.NuclioAPIGateway{}).
		WithInterceptorFuncs(interceptor.Funcs{
			Create: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.CreateOption) error {
				note("create", obj)
				return c.Create(ctx, obj, opts...)
			},
			Update: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.UpdateOption) error {
				note("update", obj)
				return c.Update(ctx, obj, opts...)
			},
			Delete: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.DeleteOption) error {
				note("delete", obj)
				return c.Delete(ctx, obj, opts...)
			},
			SubResourceUpdate: func(ctx context.Context, c client.Client, sub string, obj client.Object, opts ...client.SubResourceUpdateOption) error {
				note("update/"+sub, obj)
				return c.SubResource(sub).Update(ctx, obj, opts...)
			},
		}).Build()
	e.r = &Reconciler{Client: e.client, APIReader: e.client, Recorder: e.events, Config: config.Default(), BcryptCost: bcrypt.MinCost}
	return e
}

func (e *env) reconcile(name string) []string {
	e.t.Helper()
	e.mu.Lock()
	e.writes = nil
	e.mu.Unlock()
	if _, err := e.r.Reconcile(context.Background(), reconcile.Request{NamespacedName: types.NamespacedName{Namespace: "ns", Name: name}}); err != nil {
		e.t.Fatal(err)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]string(nil), e.writes...)
}

func (e *env) gateway(name string) *v1beta1.NuclioAPIGateway {
	e.t.Helper()
	gw := &v1beta1.NuclioAPIGateway{}
	if err := e.client.Get(context.Background(), types.NamespacedName{Namespace: "ns", Name: name}, gw); err != nil {
		e.t.Fatal(err)
	}
	return gw
}

func (e *env) get(name string, obj client.Object) error {
	return e.client.Get(context.Background(), types.NamespacedName{Namespace: "ns", Name: name}, obj)
}

func newGateway(name string, mutate func(*v1beta1.NuclioAPIGateway)) *v1beta1.NuclioAPIGateway {
	gw := &v1beta1.NuclioAPIGateway{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "ns", UID: types.UID("uid-" + name), Generation: 1,
			Labels: map[string]string{v1beta1.LabelProjectName: "shop"}},
		Spec: v1beta1.APIGatewaySpec{
			Name: name, Host: "api.example.com", Path: "orders",
			Upstreams: []v1beta1.APIGatewayUpstreamSpec{{Kind: "nucliofunction", NuclioFunction: &v1beta1.NuclioFunctionAPIGatewaySpec{Name: "orders"}}},
		},
	}
	if mutate != nil {
		mutate(gw)
	}
	return gw
}

func basicAuth(gw *v1beta1.NuclioAPIGateway) {
	gw.Spec.AuthenticationMode = AuthBasic
	gw.Spec.Authentication = &v1beta1.APIGatewayAuthenticationSpec{BasicAuth: &v1beta1.BasicAuth{Username: "alice", Password: passwordToken}}
}

func credentials(t *testing.T, gateway, password string) *corev1.Secret {
	t.Helper()
	s, err := masking.NewSecret(masking.KindAPIGateway, "ns", gateway, "shop", map[string]string{passwordToken: password})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestIngress(t *testing.T) {
	e := newEnv(t, newGateway("orders", func(gw *v1beta1.NuclioAPIGateway) {
		gw.Annotations = map[string]string{"team": "x", "kubectl.kubernetes.io/last-applied-configuration": "{}"}
		gw.Spec.Upstreams[0].RewriteTarget = "/"
		gw.Spec.Upstreams[0].ExtraLabels = map[string]string{"tier": "edge"}
	}))
	e.reconcile("orders")
	ing := &networkingv1.Ingress{}
	if err := e.get("nuclio-agw-orders", ing); err != nil {
		t.Fatal(err)
	}
	if !metav1.IsControlledBy(ing, e.gateway("orders")) {
		t.Error("the Ingress must be owned by the gateway")
	}
	rule := ing.Spec.Rules[0]
	path := rule.HTTP.Paths[0]
	if *ing.Spec.IngressClassName != "nginx" || rule.Host != "api.example.com" || path.Path != "/orders" ||
		path.Backend.Service.Name != "nuclio-orders" || path.Backend.Service.Port.Number != 8080 || *path.PathType != networkingv1.PathTypeImplementationSpecific {
		t.Errorf("ingress %+v", ing.Spec)
	}
	a := ing.Annotations
	if a["nginx.ingress.kubernetes.io/rewrite-target"] != "/" || a["team"] != "x" || a["kubectl.kubernetes.io/last-applied-configuration"] != "" ||
		a["nginx.ingress.kubernetes.io/auth-type"] != "" || a["nginx.ingress.kubernetes.io/canary"] != "" {
		t.Errorf("annotations %v", a)
	}
	l := ing.Labels
	if l["tier"] != "edge" || l[v1beta1.LabelAPIGatewayName] != "orders" || l[v1beta1.LabelProjectName] != "shop" || l[v1beta1.LabelClass] != ClassAPIGateway {
		t.Errorf("labels %v", l)
	}
	gw := e.gateway("orders")
	if gw.Status.State != v1beta1.APIGatewayStateReady || gw.Status.Name != "orders" || gw.Status.ObservedGeneration != 1 {
		t.Errorf("status %+v", gw.Status)
	}
	if c := meta.FindStatusCondition(gw.Status.Conditions, ConditionReady); c == nil || c.Status != metav1.ConditionTrue {
		t.Errorf("condition %+v", c)
	}
	if err := e.get(BasicAuthSecretName("orders"), &corev1.Secret{}); !apierrors.IsNotFound(err) {
		t.Error("no basic-auth Secret without basicAuth")
	}
	if writes := e.reconcile("orders"); len(writes) != 0 {
		t.Errorf("a second reconcile wrote %v", writes)
	}
}

func TestBasicAuth(t *testing.T) {
	e := newEnv(t, newGateway("orders", basicAuth), credentials(t, "orders", "p4ssw0rd"))
	e.reconcile("orders")
	secret := &corev1.Secret{}
	if err := e.get(BasicAuthSecretName("orders"), secret); err != nil {
		t.Fatal(err)
	}
	if secret.Type != corev1.SecretTypeOpaque || !metav1.IsControlledBy(secret, e.gateway("orders")) {
		t.Errorf("secret %+v", secret.ObjectMeta)
	}
	line := string(secret.Data[BasicAuthKey])
	user, hash, ok := strings.Cut(strings.TrimSpace(line), ":")
	if !ok || user != "alice" || bcrypt.CompareHashAndPassword([]byte(hash), []byte("p4ssw0rd")) != nil {
		t.Fatalf("htpasswd line %q", line)
	}
	ing := &networkingv1.Ingress{}
	if err := e.get("nuclio-agw-orders", ing); err != nil {
		t.Fatal(err)
	}
	if a := ing.Annotations; a["nginx.ingress.kubernetes.io/auth-type"] != "basic" || a["nginx.ingress.kubernetes.io/auth-secret"] != BasicAuthSecretName("orders") ||
		a["nginx.ingress.kubernetes.io/auth-realm"] != AuthRealm {
		t.Errorf("annotations %v", a)
	}
	// bcrypt salts each hash: the existing one is kept while it matches, so nothing is rewritten.
	if writes := e.reconcile("orders"); len(writes) != 0 {
		t.Errorf("a second reconcile wrote %v", writes)
	}
	for _, s := range []string{e.gateway("orders").Status.LastError, strings.Join(drain(e.events), "\n")} {
		if strings.Contains(s, "p4ssw0rd") {
			t.Error("the password leaked")
		}
	}

	// The password changes in the credentials Secret (the gateway object keeps its token): new hash.
	rotated := credentials(t, "orders", "n3w-pass")
	stored := &corev1.Secret{}
	if err := e.get(rotated.Name, stored); err != nil {
		t.Fatal(err)
	}
	stored.Data = rotated.Data
	if err := e.client.Update(context.Background(), stored); err != nil {
		t.Fatal(err)
	}
	if reqs := secretToGateway(context.Background(), stored); len(reqs) != 1 || reqs[0].Name != "orders" {
		t.Errorf("the credentials Secret maps to %v", reqs)
	}
	e.reconcile("orders")
	if err := e.get(BasicAuthSecretName("orders"), secret); err != nil {
		t.Fatal(err)
	}
	_, hash, _ = strings.Cut(strings.TrimSpace(string(secret.Data[BasicAuthKey])), ":")
	if bcrypt.CompareHashAndPassword([]byte(hash), []byte("n3w-pass")) != nil {
		t.Error("the new password must be hashed")
	}
	if reqs := secretToGateway(context.Background(), secret); len(reqs) != 1 || reqs[0].Name != "orders" {
		t.Errorf("the basic-auth Secret maps to %v", reqs)
	}

	// Authentication off: the Secret goes.
	gw := e.gateway("orders")
	gw.Spec.AuthenticationMode, gw.Spec.Authentication = AuthNone, nil
	if err := e.client.Update(context.Background(), gw); err != nil {
		t.Fatal(err)
	}
	e.reconcile("orders")
	if err := e.get(BasicAuthSecretName("orders"), &corev1.Secret{}); !apierrors.IsNotFound(err) {
		t.Errorf("basic-auth Secret must be deleted: %v", err)
	}
}

func TestBasicAuthWithoutCredentials(t *testing.T) {
	e := newEnv(t, newGateway("orders", basicAuth))
	e.reconcile("orders")
	gw := e.gateway("orders")
	if gw.Status.State != v1beta1.APIGatewayStateError || !strings.Contains(gw.Status.LastError, "does not exist") {
		t.Errorf("status %+v", gw.Status)
	}
	if c := meta.FindStatusCondition(gw.Status.Conditions, ConditionReady); c == nil || c.Reason != ReasonCredentials {
		t.Errorf("condition %+v", c)
	}
	if err := e.get("nuclio-agw-orders", &networkingv1.Ingress{}); !apierrors.IsNotFound(err) {
		t.Error("no Ingress without its credentials: it would be open")
	}
}

func TestCanary(t *testing.T) {
	e := newEnv(t, newGateway("orders", func(gw *v1beta1.NuclioAPIGateway) {
		gw.Spec.Upstreams = []v1beta1.APIGatewayUpstreamSpec{
			{Kind: "nucliofunction", NuclioFunction: &v1beta1.NuclioFunctionAPIGatewaySpec{Name: "orders-v2"}, Percentage: 20},
			{Kind: "nucliofunction", NuclioFunction: &v1beta1.NuclioFunctionAPIGatewaySpec{Name: "orders"}, Port: 9000},
		}
	}))
	e.reconcile("orders")
	primary, canary := &networkingv1.Ingress{}, &networkingv1.Ingress{}
	if err := e.get("nuclio-agw-orders", primary); err != nil {
		t.Fatal(err)
	}
	if err := e.get("nuclio-agw-orders-canary", canary); err != nil {
		t.Fatal(err)
	}
	if b := primary.Spec.Rules[0].HTTP.Paths[0].Backend.Service; b.Name != "nuclio-orders" || b.Port.Number != 9000 || primary.Annotations["nginx.ingress.kubernetes.io/canary"] != "" {
		t.Errorf("primary %+v %v", b, primary.Annotations)
	}
	if b := canary.Spec.Rules[0].HTTP.Paths[0].Backend.Service; b.Name != "nuclio-orders-v2" ||
		canary.Annotations["nginx.ingress.kubernetes.io/canary"] != "true" || canary.Annotations["nginx.ingress.kubernetes.io/canary-weight"] != "20" {
		t.Errorf("canary %+v %v", b, canary.Annotations)
	}

	// Promotion: back to one upstream, the canary Ingress goes.
	gw := e.gateway("orders")
	gw.Spec.Upstreams = gw.Spec.Upstreams[:1]
	gw.Spec.Upstreams[0].Percentage = 0
	if err := e.client.Update(context.Background(), gw); err != nil {
		t.Fatal(err)
	}
	e.reconcile("orders")
	if err := e.get("nuclio-agw-orders-canary", canary); !apierrors.IsNotFound(err) {
		t.Errorf("canary must be deleted: %v", err)
	}
}

func TestInvalidSpecs(t *testing.T) {
	for name, mutate := range map[string]func(*v1beta1.NuclioAPIGateway){
		"no upstream": func(gw *v1beta1.NuclioAPIGateway) { gw.Spec.Upstreams = nil },
		"no canary weight": func(gw *v1beta1.NuclioAPIGateway) {
			gw.Spec.Upstreams = append(gw.Spec.Upstreams, gw.Spec.Upstreams[0])
		},
		"access key": func(gw *v1beta1.NuclioAPIGateway) { gw.Spec.AuthenticationMode = AuthAccessKey },
		"oauth2 without proxy": func(gw *v1beta1.NuclioAPIGateway) {
			gw.Spec.AuthenticationMode = AuthOAuth2
		},
	} {
		t.Run(name, func(t *testing.T) {
			e := newEnv(t, newGateway("orders", mutate))
			e.reconcile("orders")
			gw := e.gateway("orders")
			if gw.Status.State != v1beta1.APIGatewayStateError || gw.Status.LastError == "" {
				t.Errorf("status %+v", gw.Status)
			}
		})
	}
}

func TestOAuth2(t *testing.T) {
	e := newEnv(t, newGateway("orders", func(gw *v1beta1.NuclioAPIGateway) {
		gw.Spec.AuthenticationMode = AuthOAuth2
		gw.Spec.Authentication = &v1beta1.APIGatewayAuthenticationSpec{DexAuth: &v1beta1.DexAuth{Oauth2ProxyURL: "https://auth.example.com", RedirectUnauthorizedToSignIn: true}}
	}))
	e.reconcile("orders")
	ing := &networkingv1.Ingress{}
	if err := e.get("nuclio-agw-orders", ing); err != nil {
		t.Fatal(err)
	}
	if a := ing.Annotations; a["nginx.ingress.kubernetes.io/auth-url"] != "https://auth.example.com/oauth2/auth" || !strings.HasPrefix(a["nginx.ingress.kubernetes.io/auth-signin"], "https://auth.example.com/oauth2/start") {
		t.Errorf("annotations %v", a)
	}
}

func drain(r *events.FakeRecorder) []string {
	var out []string
	for {
		select {
		case ev := <-r.Events:
			out = append(out, ev)
		default:
			return out
		}
	}
}
