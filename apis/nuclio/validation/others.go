// Copyright The nuclio-apiserver Authors.
// SPDX-License-Identifier: Apache-2.0

package validation

import (
	"fmt"
	"net/url"
	"strings"

	apimachineryvalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/util/sets"
	utilvalidation "k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/nuclio-apiserver/nuclio-apiserver/apis/nuclio"
	"github.com/nuclio-apiserver/nuclio-apiserver/apis/nuclio/v1beta1"
)

// ValidateNuclioProject validates a project: a DNS-1123 label name (Nuclio's project rule).
func ValidateNuclioProject(p *nuclio.NuclioProject) field.ErrorList {
	allErrs := apimachineryvalidation.ValidateObjectMeta(&p.ObjectMeta, true, apimachineryvalidation.NameIsDNSLabel, field.NewPath("metadata"))
	return append(allErrs, metav1validation.ValidateLabels(p.Spec.DefaultFunctionNodeSelector, field.NewPath("spec", "defaultFunctionNodeSelector"))...)
}

// ValidateNuclioProjectUpdate validates a project update.
func ValidateNuclioProjectUpdate(p, old *nuclio.NuclioProject) field.ErrorList {
	allErrs := apimachineryvalidation.ValidateObjectMetaUpdate(&p.ObjectMeta, &old.ObjectMeta, field.NewPath("metadata"))
	return append(allErrs, metav1validation.ValidateLabels(p.Spec.DefaultFunctionNodeSelector, field.NewPath("spec", "defaultFunctionNodeSelector"))...)
}

// ValidateNuclioProjectStatusUpdate validates a write to a project's status.
func ValidateNuclioProjectStatusUpdate(p, old *nuclio.NuclioProject) field.ErrorList {
	allErrs := apimachineryvalidation.ValidateObjectMetaUpdate(&p.ObjectMeta, &old.ObjectMeta, field.NewPath("metadata"))
	return append(allErrs, validateStatusCommon(p.Status.ObservedGeneration, p.Status.Conditions, field.NewPath("status"))...)
}

// ValidateNuclioFunctionEvent validates a function event: it must name its function with the
// nuclio.io/function-name label, which is how Nuclio finds (and deletes) a function's events.
func ValidateNuclioFunctionEvent(e *nuclio.NuclioFunctionEvent) field.ErrorList {
	allErrs := apimachineryvalidation.ValidateObjectMeta(&e.ObjectMeta, true, apimachineryvalidation.NameIsDNSSubdomain, field.NewPath("metadata"))
	return append(allErrs, validateFunctionEventCommon(e)...)
}

// ValidateNuclioFunctionEventUpdate validates a function event update.
func ValidateNuclioFunctionEventUpdate(e, old *nuclio.NuclioFunctionEvent) field.ErrorList {
	allErrs := apimachineryvalidation.ValidateObjectMetaUpdate(&e.ObjectMeta, &old.ObjectMeta, field.NewPath("metadata"))
	return append(allErrs, validateFunctionEventCommon(e)...)
}

func validateFunctionEventCommon(e *nuclio.NuclioFunctionEvent) field.ErrorList {
	var allErrs field.ErrorList
	lp := field.NewPath("metadata", "labels").Key(v1beta1.LabelFunctionName)
	fn := e.Labels[v1beta1.LabelFunctionName]
	if fn == "" {
		allErrs = append(allErrs, field.Required(lp, "a function event must name its function"))
	} else {
		for _, msg := range ValidateFunctionName(fn, false) {
			allErrs = append(allErrs, field.Invalid(lp, fn, msg))
		}
	}
	allErrs = append(allErrs, validateProjectLabel(e.Labels, field.NewPath("metadata", "labels"))...)
	return allErrs
}

var upstreamKinds = sets.New("nucliofunction")

// ValidateNuclioAPIGateway validates an API gateway on create.
func ValidateNuclioAPIGateway(g *nuclio.NuclioAPIGateway) field.ErrorList {
	allErrs := apimachineryvalidation.ValidateObjectMeta(&g.ObjectMeta, true, validateGatewayName, field.NewPath("metadata"))
	return append(allErrs, validateAPIGatewaySpec(g)...)
}

// ValidateNuclioAPIGatewayUpdate validates an API gateway update. Moving a gateway to another project
// is refused, as in Nuclio.
func ValidateNuclioAPIGatewayUpdate(g, old *nuclio.NuclioAPIGateway) field.ErrorList {
	allErrs := apimachineryvalidation.ValidateObjectMetaUpdate(&g.ObjectMeta, &old.ObjectMeta, field.NewPath("metadata"))
	if g.Labels[v1beta1.LabelProjectName] != old.Labels[v1beta1.LabelProjectName] {
		allErrs = append(allErrs, field.Forbidden(field.NewPath("metadata", "labels").Key(v1beta1.LabelProjectName), "an API gateway cannot move to another project"))
	}
	return append(allErrs, validateAPIGatewaySpec(g)...)
}

// ValidateNuclioAPIGatewayStatusUpdate validates a write to a gateway's status.
func ValidateNuclioAPIGatewayStatusUpdate(g, old *nuclio.NuclioAPIGateway) field.ErrorList {
	allErrs := apimachineryvalidation.ValidateObjectMetaUpdate(&g.ObjectMeta, &old.ObjectMeta, field.NewPath("metadata"))
	states := sets.New(v1beta1.APIGatewayStateNone, v1beta1.APIGatewayStateWaitingForProvisioning, v1beta1.APIGatewayStateReady, v1beta1.APIGatewayStateError)
	if !states.Has(g.Status.State) {
		allErrs = append(allErrs, field.NotSupported(field.NewPath("status", "state"), g.Status.State, sets.List(states)[1:]))
	}
	return append(allErrs, validateStatusCommon(g.Status.ObservedGeneration, g.Status.Conditions, field.NewPath("status"))...)
}

// validateGatewayName: the gateway's Ingress is named nuclio-agw-<name>(-canary), and the name is not reserved.
func validateGatewayName(name string, prefix bool) []string {
	errs := apimachineryvalidation.NameIsDNSLabel(name, prefix)
	if max := 63 - len("nuclio-agw-") - len("-canary"); !prefix && len(name) > max {
		errs = append(errs, fmt.Sprintf("must be no more than %d characters, so that the gateway's Ingresses (nuclio-agw-<name>-canary) are valid names", max))
	}
	if ReservedNames.Has(name) {
		errs = append(errs, fmt.Sprintf("%q is reserved for Nuclio's own components", name))
	}
	return errs
}

// validateAPIGatewaySpec reproduces Nuclio's ValidateAPIGatewaySpec and validateAPIGatewayConfig.
func validateAPIGatewaySpec(g *nuclio.NuclioAPIGateway) field.ErrorList {
	var allErrs field.ErrorList
	p := field.NewPath("spec")
	s := &g.Spec
	// An empty spec.name means metadata.name: defaulting fills it on decode, but a create with
	// metadata.generateName only gets its name after defaulting and before validation. Every read from
	// storage defaults it again, so clients never see it empty.
	if s.Name != "" && s.Name != g.Name {
		allErrs = append(allErrs, field.Invalid(p.Child("name"), s.Name, fmt.Sprintf("must equal metadata.name %q", g.Name)))
	}
	if s.Host == "" {
		allErrs = append(allErrs, field.Required(p.Child("host"), "the host the gateway serves"))
	} else {
		for _, msg := range utilvalidation.IsDNS1123Subdomain(strings.TrimPrefix(s.Host, "*.")) {
			allErrs = append(allErrs, field.Invalid(p.Child("host"), s.Host, msg))
		}
	}
	if s.Path != "" {
		if u, err := url.ParseRequestURI(s.Path); err != nil || u.Path != s.Path || !strings.HasPrefix(s.Path, "/") {
			allErrs = append(allErrs, field.Invalid(p.Child("path"), s.Path, "must be an absolute URL path such as /api/v1"))
		}
	}
	if !authenticationModes.Has(s.AuthenticationMode) {
		allErrs = append(allErrs, field.NotSupported(p.Child("authenticationMode"), s.AuthenticationMode, sets.List(authenticationModes)[1:]))
	}
	if s.AuthenticationMode == "basicAuth" {
		if s.Authentication == nil || s.Authentication.BasicAuth == nil {
			allErrs = append(allErrs, field.Required(p.Child("authentication", "basicAuth"), "basicAuth mode needs a username and password"))
		} else if s.Authentication.BasicAuth.Username == "" {
			allErrs = append(allErrs, field.Required(p.Child("authentication", "basicAuth", "username"), ""))
		}
	}
	if s.AuthenticationMode == "oauth2" && (s.Authentication == nil || s.Authentication.DexAuth == nil || s.Authentication.DexAuth.Oauth2ProxyURL == "") {
		allErrs = append(allErrs, field.Required(p.Child("authentication", "dexAuth", "oauth2ProxyUrl"), "oauth2 mode needs the oauth2-proxy URL"))
	}

	up := p.Child("upstreams")
	switch n := len(s.Upstreams); {
	case n == 0:
		allErrs = append(allErrs, field.Required(up, "one upstream function, or two for a canary split"))
	case n > 2:
		allErrs = append(allErrs, field.TooMany(up, n, 2))
	}
	for i, u := range s.Upstreams {
		ip := up.Index(i)
		if !upstreamKinds.Has(u.Kind) {
			allErrs = append(allErrs, field.NotSupported(ip.Child("kind"), u.Kind, sets.List(upstreamKinds)))
		}
		if u.NuclioFunction == nil || u.NuclioFunction.Name == "" {
			allErrs = append(allErrs, field.Required(ip.Child("nucliofunction", "name"), "the upstream function's name"))
		}
		if u.Port < 0 || u.Port > 65535 {
			allErrs = append(allErrs, field.Invalid(ip.Child("port"), u.Port, "must be a port number"))
		}
		if u.Percentage < 0 || u.Percentage > 100 {
			allErrs = append(allErrs, field.Invalid(ip.Child("percentage"), u.Percentage, "must be between 0 and 100"))
		}
		if i == 1 && u.Percentage == 0 {
			allErrs = append(allErrs, field.Required(ip.Child("percentage"), "the canary upstream needs the percentage of traffic it receives (1-100)"))
		}
		allErrs = append(allErrs, metav1validation.ValidateLabels(u.ExtraLabels, ip.Child("extraLabels"))...)
		allErrs = append(allErrs, apimachineryvalidation.ValidateAnnotations(u.ExtraAnnotations, ip.Child("extraAnnotations"))...)
	}
	allErrs = append(allErrs, validateProjectLabel(g.Labels, field.NewPath("metadata", "labels"))...)
	return allErrs
}
