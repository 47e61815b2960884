// Copyright The nuclio-apiserver Authors.
// SPDX-License-Identifier: Apache-2.0

// Package apigateway reconciles NuclioAPIGateways into nginx Ingresses, as Nuclio's API gateway
// operator does (nuclio/nuclio:pkg/platform/kube/apigatewayres/lazy.go, pkg/platform/kube/ingress):
//
//   - Ingress nuclio-agw-<name> routes spec.host + spec.path to Service nuclio-<function> of the primary
//     upstream (port upstream.port, default 8080);
//   - with a second upstream whose percentage is set, Ingress nuclio-agw-<name>-canary sends that share
//     of the traffic to it (nginx.ingress.kubernetes.io/canary and canary-weight);
//   - authenticationMode basicAuth adds Secret nuclio-agw-<name>-basic-auth (type Opaque, key `auth`: an
//     htpasswd line with a bcrypt hash) and the nginx auth-type, auth-secret and auth-realm annotations.
//     The password is read from the gateway's credentials Secret (the masking webhook replaced it with a
//     `$ref:` token); the hash is kept while it still matches, so reconciling writes nothing.
//   - oauth2 adds the nginx external-auth annotations for dexAuth.oauth2ProxyUrl; accessKey (Iguazio
//     sessions) is not supported.
//
// Nuclio's X-Nuclio-Target configuration-snippet annotations are not set: ingress-nginx disables snippet
// annotations by default, and the header only served Nuclio's scale-from-zero proxy. Upstream functions
// need not exist (Nuclio does not require them either); their Services appear when they are deployed.
package apigateway

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/crypto/bcrypt"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/nuclio-apiserver/nuclio-apiserver/apis/nuclio/v1beta1"
	"github.com/nuclio-apiserver/nuclio-apiserver/pkg/controller/config"
	"github.com/nuclio-apiserver/nuclio-apiserver/pkg/controller/internal/child"
	"github.com/nuclio-apiserver/nuclio-apiserver/pkg/masking"
)

// Authentication modes of spec.authenticationMode.
const (
	AuthNone      = "none"
	AuthBasic     = "basicAuth"
	AuthAccessKey = "accessKey"
	AuthOAuth2    = "oauth2"
)

// Labels and values Nuclio puts on gateway resources (ingress.go enrichLabels).
const (
	ClassAPIGateway   = "apigateway"
	AppIngressManager = "ingress-manager"
	// BasicAuthKey is the key of the basic-auth Secret that ingress-nginx reads (auth-file format).
	BasicAuthKey = "auth"
	// AuthRealm is the realm Nuclio announces.
	AuthRealm = "Authentication Required"
	// DefaultUpstreamPort is the function Service port (the processor's http trigger).
	DefaultUpstreamPort = 8080
)

// Conditions and reasons of gateway status.
const (
	ConditionReady         = "Ready"
	ReasonIngressApplied   = "IngressApplied"
	ReasonInvalidSpec      = "InvalidSpec"
	ReasonCredentials      = "CredentialsUnavailable"
	ReasonResourceConflict = "ResourceConflict"
)

// lastAppliedAnnotation is kubectl's client-side-apply annotation; Ingresses do not inherit it.
const lastAppliedAnnotation = "kubectl.kubernetes.io/last-applied-configuration"

// IngressName returns the name of a gateway's primary or canary Ingress (nuclio/nuclio:pkg/platform/kube/
// types.go IngressNameFromAPIGatewayName).
func IngressName(gateway string, canary bool) string {
	if canary {
		return "nuclio-agw-" + gateway + "-canary"
	}
	return "nuclio-agw-" + gateway
}

// BasicAuthSecretName returns the name of a gateway's basic-auth Secret (BasicAuthNameFromAPIGatewayName
// plus `-basic-auth`).
func BasicAuthSecretName(gateway string) string {
	return "nuclio-agw-" + gateway + "-basic-auth"
}

// Reconciler reconciles NuclioAPIGateways.
type Reconciler struct {
	// Client reads from the manager's cache and writes.
	Client client.Client
	// APIReader reads Secrets (the gateway's credentials Secret and its basic-auth Secret) by name.
	APIReader client.Reader
	// Recorder records Events on gateways; nil records none.
	Recorder events.EventRecorder
	// Config supplies the ingress class.
	Config *config.Config
	// BcryptCost is the cost of new password hashes; 0 means bcrypt.DefaultCost.
	BcryptCost int
}

// specError is a problem with the gateway's spec or credentials that retrying cannot fix.
type specError struct {
	reason, message string
}

func (e *specError) Error() string { return e.message }

// Reconcile implements reconcile.Reconciler for one NuclioAPIGateway.
func (r *Reconciler) Reconcile(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	gw := &v1beta1.NuclioAPIGateway{}
	if err := r.Client.Get(ctx, req.NamespacedName, gw); err != nil {
		return reconcile.Result{}, client.IgnoreNotFound(err)
	}
	if gw.DeletionTimestamp != nil {
		return reconcile.Result{}, nil // the Ingresses and Secret are owned: garbage collection removes them
	}
	original := gw.DeepCopy()
	changed, err := r.apply(ctx, gw)
	st := &gw.Status
	st.Name = gw.Spec.Name
	if st.Name == "" {
		st.Name = gw.Name
	}
	var spec *specError
	var conflict *child.ConflictError
	switch {
	case errors.As(err, &spec):
		r.setError(gw, spec.reason, spec.message)
		err = nil
	case errors.As(err, &conflict):
		r.setError(gw, ReasonResourceConflict, conflict.Error())
		err = nil
	case err != nil:
		// Transient: keep the status, retry with backoff.
	default:
		st.State = v1beta1.APIGatewayStateReady
		st.LastError = ""
		meta.SetStatusCondition(&st.Conditions, metav1.Condition{Type: ConditionReady, Status: metav1.ConditionTrue,
			Reason: ReasonIngressApplied, Message: "Ingress " + IngressName(gw.Name, false) + " routes " + gw.Spec.Host + pathOf(gw),
			ObservedGeneration: gw.Generation})
		if len(changed) > 0 && r.Recorder != nil {
			r.Recorder.Eventf(gw, nil, corev1.EventTypeNormal, ReasonIngressApplied, "Apply", "%s", strings.Join(changed, ", "))
		}
	}
	st.ObservedGeneration = gw.Generation
	if !equality.Semantic.DeepEqual(original.Status, gw.Status) {
		if uerr := r.Client.Status().Update(ctx, gw); uerr != nil && !apierrors.IsConflict(uerr) && !apierrors.IsNotFound(uerr) {
			return reconcile.Result{}, errors.Join(err, fmt.Errorf("writing the status of API gateway %s: %w", req.NamespacedName, uerr))
		}
	}
	return reconcile.Result{}, err
}

func (r *Reconciler) setError(gw *v1beta1.NuclioAPIGateway, reason, message string) {
	if gw.Status.LastError != message && r.Recorder != nil {
		r.Recorder.Eventf(gw, nil, corev1.EventTypeWarning, reason, "Apply", "%s", message)
	}
	gw.Status.State = v1beta1.APIGatewayStateError
	gw.Status.LastError = message
	meta.SetStatusCondition(&gw.Status.Conditions, metav1.Condition{Type: ConditionReady, Status: metav1.ConditionFalse,
		Reason: reason, Message: message, ObservedGeneration: gw.Generation})
}

func pathOf(gw *v1beta1.NuclioAPIGateway) string {
	if strings.HasPrefix(gw.Spec.Path, "/") {
		return gw.Spec.Path
	}
	return "/" + gw.Spec.Path
}

// apply makes the gateway's Ingresses and basic-auth Secret match its spec; it returns what changed.
func (r *Reconciler) apply(ctx context.Context, gw *v1beta1.NuclioAPIGateway) ([]string, error) {
	primary, canary, err := splitUpstreams(gw.Spec.Upstreams)
	if err != nil {
		return nil, err
	}
	authAnnotations := map[string]string{}
	mode := gw.Spec.AuthenticationMode
	switch mode {
	case "", AuthNone:
	case AuthBasic:
		authAnnotations = map[string]string{
			"nginx.ingress.kubernetes.io/auth-type":   "basic",
			"nginx.ingress.kubernetes.io/auth-secret": BasicAuthSecretName(gw.Name),
			"nginx.ingress.kubernetes.io/auth-realm":  AuthRealm,
		}
	case AuthOAuth2:
		var dex *v1beta1.DexAuth
		if gw.Spec.Authentication != nil {
			dex = gw.Spec.Authentication.DexAuth
		}
		if dex == nil || dex.Oauth2ProxyURL == "" {
			return nil, &specError{ReasonInvalidSpec, "spec.authentication.dexAuth.oauth2ProxyUrl is required for authenticationMode oauth2"}
		}
		proxy := strings.TrimSuffix(dex.Oauth2ProxyURL, "/")
		authAnnotations = map[string]string{
			"nginx.ingress.kubernetes.io/auth-response-headers": "Authorization",
			"nginx.ingress.kubernetes.io/auth-url":              proxy + "/oauth2/auth",
		}
		if dex.RedirectUnauthorizedToSignIn {
			authAnnotations["nginx.ingress.kubernetes.io/auth-signin"] = proxy + "/oauth2/start?rd=https://$host$escaped_request_uri"
		}
	case AuthAccessKey:
		return nil, &specError{ReasonInvalidSpec, "authenticationMode accessKey needs Iguazio's session verification and is not supported"}
	default:
		return nil, &specError{ReasonInvalidSpec, fmt.Sprintf("spec.authenticationMode %q is not one of none, basicAuth, oauth2", mode)}
	}

	var changed []string
	note := func(kind, name string, res child.Result) {
		if res != child.Unchanged {
			changed = append(changed, fmt.Sprintf("%s %s %s", res, kind, name))
		}
	}
	if mode == AuthBasic {
		secret, err := r.desiredBasicAuthSecret(ctx, gw)
		if err != nil {
			return nil, err
		}
		_, res, err := child.Ensure(ctx, r.Client, r.APIReader, gw, secret, mergeSecret, child.Options{Reader: r.APIReader})
		if err != nil {
			return nil, err
		}
		note("Secret", secret.Name, res)
	} else if deleted, err := r.deleteBasicAuthSecret(ctx, gw); err != nil {
		return nil, err
	} else if deleted {
		changed = append(changed, "deleted Secret "+BasicAuthSecretName(gw.Name))
	}

	// Primary first: nginx serves a canary only next to its primary.
	ing, res, err := child.Ensure(ctx, r.Client, r.APIReader, gw, r.desiredIngress(gw, primary, false, authAnnotations), mergeIngress, child.Options{})
	if err != nil {
		return nil, err
	}
	note("Ingress", ing.Name, res)
	if canary != nil {
		ing, res, err := child.Ensure(ctx, r.Client, r.APIReader, gw, r.desiredIngress(gw, canary, true, authAnnotations), mergeIngress, child.Options{})
		if err != nil {
			return nil, err
		}
		note("Ingress", ing.Name, res)
	} else if deleted, err := child.DeleteIfOwned(ctx, r.Client, gw, &networkingv1.Ingress{ObjectMeta: metav1.ObjectMeta{Namespace: gw.Namespace, Name: IngressName(gw.Name, true)}}); err != nil {
		return nil, err
	} else if deleted {
		changed = append(changed, "deleted Ingress "+IngressName(gw.Name, true))
	}
	return changed, nil
}

// splitUpstreams returns the primary upstream and the canary one (the upstream with a percentage), as
// Nuclio's resolveBaseAndCanaryUpstreamsFromSpec.
func splitUpstreams(upstreams []v1beta1.APIGatewayUpstreamSpec) (primary, canary *v1beta1.APIGatewayUpstreamSpec, err error) {
	check := func(i int) error {
		u := &upstreams[i]
		if u.Kind != "" && u.Kind != "nucliofunction" {
			return &specError{ReasonInvalidSpec, fmt.Sprintf("spec.upstreams[%d].kind %q is not supported (only nucliofunction)", i, u.Kind)}
		}
		if u.NuclioFunction == nil || u.NuclioFunction.Name == "" {
			return &specError{ReasonInvalidSpec, fmt.Sprintf("spec.upstreams[%d].nucliofunction.name is required", i)}
		}
		return nil
	}
	switch len(upstreams) {
	case 1:
		if err := check(0); err != nil {
			return nil, nil, err
		}
		return &upstreams[0], nil, nil
	case 2:
		for i := range upstreams {
			if err := check(i); err != nil {
				return nil, nil, err
			}
		}
		switch {
		case upstreams[0].Percentage != 0:
			primary, canary = &upstreams[1], &upstreams[0]
		case upstreams[1].Percentage != 0:
			primary, canary = &upstreams[0], &upstreams[1]
		default:
			return nil, nil, &specError{ReasonInvalidSpec, "spec.upstreams: one of the two upstreams needs a percentage (the canary)"}
		}
		if canary.Percentage < 1 || canary.Percentage > 100 {
			return nil, nil, &specError{ReasonInvalidSpec, fmt.Sprintf("spec.upstreams: the canary percentage %d must be between 1 and 100", canary.Percentage)}
		}
		return primary, canary, nil
	default:
		return nil, nil, &specError{ReasonInvalidSpec, fmt.Sprintf("spec.upstreams must have 1 or 2 entries, not %d", len(upstreams))}
	}
}

// desiredIngress returns the primary or canary Ingress of gw for upstream u (apigatewayres/lazy.go
// generateNginxIngress, ingress.go GenerateResources and compileAnnotations).
func (r *Reconciler) desiredIngress(gw *v1beta1.NuclioAPIGateway, u *v1beta1.APIGatewayUpstreamSpec, isCanary bool,
	authAnnotations map[string]string) *networkingv1.Ingress {
	annotations := map[string]string{}
	for k, v := range authAnnotations {
		annotations[k] = v
	}
	annotations["nginx.ingress.kubernetes.io/proxy-body-size"] = "0"
	annotations["nginx.ingress.kubernetes.io/ssl-redirect"] = "false"
	if u.RewriteTarget != "" {
		annotations["nginx.ingress.kubernetes.io/rewrite-target"] = u.RewriteTarget
	}
	if isCanary {
		annotations["nginx.ingress.kubernetes.io/canary"] = "true"
		annotations["nginx.ingress.kubernetes.io/canary-weight"] = strconv.Itoa(int(u.Percentage))
	}
	for k, v := range gw.Annotations {
		if k != lastAppliedAnnotation {
			annotations[k] = v
		}
	}
	for k, v := range u.ExtraAnnotations {
		annotations[k] = v
	}
	labels := map[string]string{}
	for k, v := range u.ExtraLabels {
		labels[k] = v
	}
	labels[v1beta1.LabelClass] = ClassAPIGateway
	labels[v1beta1.LabelApp] = AppIngressManager
	labels[v1beta1.LabelAPIGatewayName] = gw.Name
	labels[v1beta1.LabelProjectName] = projectOf(gw.Labels)

	port := u.Port
	if port == 0 {
		port = DefaultUpstreamPort
	}
	return &networkingv1.Ingress{
		ObjectMeta: metav1.ObjectMeta{Name: IngressName(gw.Name, isCanary), Namespace: gw.Namespace, Labels: labels, Annotations: annotations},
		Spec: networkingv1.IngressSpec{
			IngressClassName: ptr.To(r.Config.DefaultIngressClass),
			Rules: []networkingv1.IngressRule{{
				Host: gw.Spec.Host,
				IngressRuleValue: networkingv1.IngressRuleValue{HTTP: &networkingv1.HTTPIngressRuleValue{Paths: []networkingv1.HTTPIngressPath{{
					Path:     pathOf(gw),
					PathType: ptr.To(networkingv1.PathTypeImplementationSpecific),
					Backend: networkingv1.IngressBackend{Service: &networkingv1.IngressServiceBackend{
						Name: "nuclio-" + u.NuclioFunction.Name,
						Port: networkingv1.ServiceBackendPort{Number: port},
					}},
				}}}},
			}},
		},
	}
}

// desiredBasicAuthSecret returns the basic-auth Secret of gw. The htpasswd line of the existing Secret
// is reused while its user name and password still match, so that an unchanged gateway rewrites
// nothing (bcrypt salts every hash).
func (r *Reconciler) desiredBasicAuthSecret(ctx context.Context, gw *v1beta1.NuclioAPIGateway) (*corev1.Secret, error) {
	var basic *v1beta1.BasicAuth
	if gw.Spec.Authentication != nil {
		basic = gw.Spec.Authentication.BasicAuth
	}
	if basic == nil || basic.Username == "" || basic.Password == "" {
		return nil, &specError{ReasonInvalidSpec, "spec.authentication.basicAuth.username and password are required for authenticationMode basicAuth"}
	}
	if strings.ContainsAny(basic.Username, ":\r\n") {
		return nil, &specError{ReasonInvalidSpec, "spec.authentication.basicAuth.username must not contain ':' or line breaks"}
	}
	password, err := r.password(ctx, gw, basic.Password)
	if err != nil {
		return nil, err
	}
	name := BasicAuthSecretName(gw.Name)
	var line string
	existing := &corev1.Secret{}
	if err := r.APIReader.Get(ctx, types.NamespacedName{Namespace: gw.Namespace, Name: name}, existing); err == nil {
		if metav1.IsControlledBy(existing, gw) && htpasswdMatches(string(existing.Data[BasicAuthKey]), basic.Username, password) {
			line = string(existing.Data[BasicAuthKey])
		}
	} else if !apierrors.IsNotFound(err) {
		return nil, fmt.Errorf("reading Secret %s/%s: %w", gw.Namespace, name, err)
	}
	if line == "" {
		cost := r.BcryptCost
		if cost == 0 {
			cost = bcrypt.DefaultCost
		}
		hash, err := bcrypt.GenerateFromPassword([]byte(password), cost)
		if err != nil {
			// Only a password over 72 bytes fails; the message never contains it.
			return nil, &specError{ReasonInvalidSpec, "spec.authentication.basicAuth.password cannot be hashed: " + err.Error()}
		}
		line = basic.Username + ":" + string(hash) + "\n"
	}
	return &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: gw.Namespace, Labels: map[string]string{
			v1beta1.LabelClass:          ClassAPIGateway,
			v1beta1.LabelApp:            AppIngressManager,
			v1beta1.LabelAPIGatewayName: gw.Name,
			v1beta1.LabelProjectName:    projectOf(gw.Labels),
		}},
		Type: corev1.SecretTypeOpaque,
		Data: map[string][]byte{BasicAuthKey: []byte(line)},
	}, nil
}

// password returns the basic-auth password: the value itself when it is not masked, else the value the
// masking webhook stored for its token in the gateway's credentials Secret.
func (r *Reconciler) password(ctx context.Context, gw *v1beta1.NuclioAPIGateway, value string) (string, error) {
	if !strings.HasPrefix(value, masking.ReferencePrefix) {
		return value, nil
	}
	name, err := masking.SecretName(masking.KindAPIGateway, gw.Name)
	if err != nil {
		return "", &specError{ReasonCredentials, err.Error()}
	}
	secret := &corev1.Secret{}
	if err := r.APIReader.Get(ctx, types.NamespacedName{Namespace: gw.Namespace, Name: name}, secret); err != nil {
		if apierrors.IsNotFound(err) {
			return "", &specError{ReasonCredentials, fmt.Sprintf("spec.authentication.basicAuth.password is masked but the credentials Secret %s does not exist", name)}
		}
		return "", fmt.Errorf("reading the credentials Secret %s/%s: %w", gw.Namespace, name, err)
	}
	if err := masking.IsManagedFor(secret, masking.KindAPIGateway, gw.Name); err != nil {
		return "", &specError{ReasonCredentials, fmt.Sprintf("Secret %s is not this gateway's credentials Secret: %v", name, err)}
	}
	values, err := masking.DecodeSecretData(secret.Data)
	if err != nil {
		return "", &specError{ReasonCredentials, fmt.Sprintf("credentials Secret %s: %v", name, err)}
	}
	plain, ok := values[value]
	if !ok || plain == "" {
		return "", &specError{ReasonCredentials, fmt.Sprintf("the credentials Secret %s holds no value for spec.authentication.basicAuth.password", name)}
	}
	return plain, nil
}

// htpasswdMatches reports whether line is `user:<bcrypt hash of password>`.
func htpasswdMatches(line, user, password string) bool {
	line = strings.TrimRight(line, "\n")
	u, hash, ok := strings.Cut(line, ":")
	return ok && u == user && bcrypt.CompareHashAndPassword([]byte(hash), []byte(password)) == nil
}

func (r *Reconciler) deleteBasicAuthSecret(ctx context.Context, gw *v1beta1.NuclioAPIGateway) (bool, error) {
	secret := &corev1.Secret{}
	if err := r.APIReader.Get(ctx, types.NamespacedName{Namespace: gw.Namespace, Name: BasicAuthSecretName(gw.Name)}, secret); err != nil {
		return false, client.IgnoreNotFound(err)
	}
	if !metav1.IsControlledBy(secret, gw) {
		return false, nil
	}
	if err := r.Client.Delete(ctx, secret, client.Preconditions{UID: &secret.UID}); client.IgnoreNotFound(err) != nil {
		return false, fmt.Errorf("deleting Secret %s/%s: %w", gw.Namespace, secret.Name, err)
	}
	return true, nil
}

func mergeSecret(existing, desired *corev1.Secret) {
	existing.Type = desired.Type
	existing.Data = desired.Data
	existing.StringData = nil
}

func mergeIngress(existing, desired *networkingv1.Ingress) {
	existing.Spec = *desired.Spec.DeepCopy()
}

func projectOf(labels map[string]string) string {
	if p := labels[v1beta1.LabelProjectName]; p != "" {
		return p
	}
	return v1beta1.DefaultProjectName
}

// SetupWithManager registers the reconciler with mgr. Besides gateways and their Ingresses it watches
// Secret metadata: the gateway's credentials Secret (a new password arrives there, the gateway object is
// unchanged) and its basic-auth Secret.
func (r *Reconciler) SetupWithManager(mgr ctrl.Manager, workers int) error {
	return ctrl.NewControllerManagedBy(mgr).
		Named("nuclioapigateway").
		For(&v1beta1.NuclioAPIGateway{}).
		Owns(&networkingv1.Ingress{}).
		WatchesMetadata(&corev1.Secret{}, handler.EnqueueRequestsFromMapFunc(secretToGateway)).
		WithOptions(controller.Options{MaxConcurrentReconciles: workers}).
		Complete(r)
}

// secretToGateway maps a gateway's credentials Secret (by label and name) or its basic-auth Secret (by
// controller reference) to the gateway.
func secretToGateway(_ context.Context, obj client.Object) []reconcile.Request {
	if ref := metav1.GetControllerOf(obj); ref != nil && ref.Kind == "NuclioAPIGateway" && ref.APIVersion == v1beta1.SchemeGroupVersion.String() {
		return []reconcile.Request{{NamespacedName: types.NamespacedName{Namespace: obj.GetNamespace(), Name: ref.Name}}}
	}
	gw := obj.GetLabels()[masking.LabelAPIGatewayName]
	if gw == "" {
		return nil
	}
	if name, err := masking.SecretName(masking.KindAPIGateway, gw); err != nil || name != obj.GetName() {
		return nil
	}
	return []reconcile.Request{{NamespacedName: types.NamespacedName{Namespace: obj.GetNamespace(), Name: gw}}}
}
