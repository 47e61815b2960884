// Package webhook is the nuclio-webhook: a controller-runtime mutating admission handler that masks
// credentials in nuclio.io NuclioFunction and NuclioAPIGateway objects (pkg/masking) and stores them in
// one Secret per object, and the reconciler that adopts, prunes and sweeps those Secrets.
//
// Division of work, so that no request can leave a stored object pointing at a missing value:
//   - The webhook (Mutator) masks the object, validates re-submitted "$ref:" tokens against the Secret,
//     and creates or updates the Secret before the object is stored. It only adds or replaces values;
//     it never removes keys, because the request may still fail after admission (validation, a
//     resourceVersion conflict, a policy) and the stored object would then reference removed keys.
//   - The reconciler (SecretReconciler, in this binary) sets the Secret's ownerReference once the object
//     exists (garbage collection then deletes the Secret with it), prunes keys the stored object no
//     longer references once SettlePeriod has passed since the webhook's last write, and deletes Secrets
//     whose object never came to exist after OrphanGracePeriod, or whose owner is gone.
package webhook

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"strconv"
	"time"

	admissionv1 "k8s.io/api/admission/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/nuclio-apiserver/nuclio-apiserver/pkg/masking"
)

// MutatePath is the URL path the Mutator is served on. artifacts/webhook/mutating-webhook.yaml uses it.
const MutatePath = "/mutate-nuclio-io-v1beta1"

// AnnotationCredentialsUpdated, on a credentials Secret, is the RFC 3339 time the webhook last wrote it.
// The reconciler measures SettlePeriod and OrphanGracePeriod from it.
const AnnotationCredentialsUpdated = "nuclio.io/credentials-updated-at"

// GroupName is the API group of the objects the webhook handles.
const GroupName = "nuclio.io"

// Resources and kinds handled, by masking kind.
var (
	// FunctionGVK is the kind the reconciler reads for function Secrets.
	FunctionGVK = schema.GroupVersionKind{Group: GroupName, Version: "v1beta1", Kind: string(masking.KindFunction)}
	// APIGatewayGVK is the kind the reconciler reads for API gateway Secrets.
	APIGatewayGVK = schema.GroupVersionKind{Group: GroupName, Version: "v1beta1", Kind: string(masking.KindAPIGateway)}

	resourceKinds = map[string]masking.ObjectKind{
		"nucliofunctions":   masking.KindFunction,
		"nuclioapigateways": masking.KindAPIGateway,
	}
)

// GVKFor returns the nuclio.io/v1beta1 kind for a masking kind.
func GVKFor(kind masking.ObjectKind) schema.GroupVersionKind {
	if kind == masking.KindAPIGateway {
		return APIGatewayGVK
	}
	return FunctionGVK
}

// Mutator is the admission.Handler for CREATE and UPDATE of nucliofunctions and nuclioapigateways. It
// works on the raw JSON object, so fields it does not know survive byte for byte, and answers with a
// JSON patch. It is safe for concurrent use.
type Mutator struct {
	reader client.Reader
	writer client.Writer
	config Config
	rules  map[masking.ObjectKind]*masking.RuleSet
	now    func() time.Time
}

// NewMutator returns a Mutator. reader must read through to the API server (the manager's APIReader,
// not its cache): the Secret must be current to validate tokens, and Secrets the webhook does not own must
// be seen to be refused. It returns an error if the configuration's extra paths do not compile.
func NewMutator(reader client.Reader, writer client.Writer, cfg Config) (*Mutator, error) {
	cfg.setDefaults()
	fn, err := masking.NewRuleSet(masking.KindFunction, cfg.ExtraSensitivePaths)
	if err != nil {
		return nil, err
	}
	gw, err := masking.NewRuleSet(masking.KindAPIGateway, cfg.ExtraAPIGatewaySensitivePaths)
	if err != nil {
		return nil, err
	}
	return &Mutator{
		reader: reader,
		writer: writer,
		config: cfg,
		rules:  map[masking.ObjectKind]*masking.RuleSet{masking.KindFunction: fn, masking.KindAPIGateway: gw},
		now:    time.Now,
	}, nil
}

var _ admission.Handler = &Mutator{}

// denial is a refusal caused by the request (as opposed to an internal error); its message names
// fields and objects, never values.
type denial struct {
	status metav1.Status
}

func (d *denial) Error() string { return d.status.Message }

func deny(code int32, reason metav1.StatusReason, format string, args ...interface{}) *denial {
	return &denial{status: metav1.Status{Status: metav1.StatusFailure, Code: code, Reason: reason, Message: fmt.Sprintf(format, args...)}}
}

func denyInvalid(kind masking.ObjectKind, name string, errs field.ErrorList) *denial {
	return &denial{status: apierrors.NewInvalid(schema.GroupKind{Group: GroupName, Kind: string(kind)}, name, errs).ErrStatus}
}

func (d *denial) response() admission.Response {
	st := d.status
	return admission.Response{AdmissionResponse: admissionv1.AdmissionResponse{Allowed: false, Result: &st}}
}

// Handle masks the object in req and stores its credentials. Denials name the field or Secret at fault;
// internal errors are logged and reported without values.
func (m *Mutator) Handle(ctx context.Context, req admission.Request) admission.Response {
	start := m.now()
	outcome, credentials := "error", false
	defer func() {
		admissionDuration.WithLabelValues(req.Resource.Resource, string(req.Operation), outcome, strconv.FormatBool(credentials)).
			Observe(m.now().Sub(start).Seconds())
	}()

	resp, hadCredentials, err := m.handle(ctx, req)
	credentials = hadCredentials
	var d *denial
	switch {
	case errors.As(err, &d):
		outcome = "denied"
		logf.FromContext(ctx).V(1).Info("refused", "reason", d.status.Message)
		return d.response()
	case err != nil:
		logf.FromContext(ctx).Error(err, "admission failed")
		return admission.Errored(http.StatusInternalServerError, fmt.Errorf("nuclio-webhook could not store credentials: %s", safeReason(err)))
	}
	outcome = "allowed"
	return resp
}

// safeReason summarises an internal error for a response without its message (logged instead): API
// errors by reason and code only, because their text is not ours to vet.
func safeReason(err error) string {
	var st apierrors.APIStatus
	if errors.As(err, &st) {
		return fmt.Sprintf("API error %s (%d); see the webhook's log", st.Status().Reason, st.Status().Code)
	}
	return "internal error; see the webhook's log"
}

func (m *Mutator) handle(ctx context.Context, req admission.Request) (admission.Response, bool, error) {
	kind, ok := resourceKinds[req.Resource.Resource]
	if !ok || req.Resource.Group != GroupName || req.SubResource != "" {
		return admission.Allowed("not a resource nuclio-webhook masks"), false, nil
	}
	if req.Operation != admissionv1.Create && req.Operation != admissionv1.Update {
		return admission.Allowed("only CREATE and UPDATE are masked"), false, nil
	}
	obj, err := masking.DecodeObject(req.Object.Raw)
	if err != nil {
		// The decoder's message may quote input, so it is not repeated.
		return admission.Response{}, false, deny(http.StatusBadRequest, metav1.StatusReasonBadRequest, "request object is not a JSON object")
	}
	name := req.Name
	if name == "" {
		name, _, _ = unstructured.NestedString(obj, "metadata", "name")
	}

	if kind == masking.KindFunction && masking.MaskingDisabled(obj) {
		return m.optOut(obj, name)
	}

	if kind == masking.KindFunction {
		if errs := validateHeaderValues(obj); len(errs) > 0 {
			return admission.Response{}, true, denyInvalid(kind, name, errs)
		}
	}
	res, errs := m.rules[kind].Scrub(obj)
	if len(errs) > 0 {
		return admission.Response{}, true, denyInvalid(kind, name, errs)
	}
	if !res.HasCredentials() {
		if !res.Changed() {
			return admission.Allowed("nothing to mask"), false, nil
		}
		// Only the last-applied annotation held plaintext (for a field the object no longer has).
		resp, err := patch(req.Object.Raw, res.Object)
		return resp, false, err
	}
	if name == "" {
		return admission.Response{}, true, denyInvalid(kind, name, field.ErrorList{field.Required(field.NewPath("metadata", "name"),
			"an object carrying credentials needs a name: generateName is resolved after admission, so its credentials Secret could not be named")})
	}

	if err := retry.RetryOnConflict(retry.DefaultBackoff, func() error {
		return m.storeSecret(ctx, req, kind, name, obj, res)
	}); err != nil {
		return admission.Response{}, true, err
	}
	maskedFields.WithLabelValues(req.Resource.Resource).Add(float64(len(res.MaskedPaths)))
	logf.FromContext(ctx).V(1).Info("masked credentials", "paths", res.MaskedPaths, "references", len(res.References), "dryRun", isDryRun(req))
	resp, err := patch(req.Object.Raw, res.Object)
	return resp, true, err
}

// validateHeaderValues refuses code-entry header values with line breaks, NUL or other control
// characters (HTTP header injection). Every header value is masked below, so after this webhook the
// build-source policy only sees "$ref:" tokens: this is the last admission step that sees the plaintext,
// and it applies the policy's rule to it (the fetcher checks again when it sends the request). The
// message mirrors the policy's; values are never echoed.
func validateHeaderValues(obj map[string]interface{}) field.ErrorList {
	headers, found, err := unstructured.NestedMap(obj, "spec", "build", "codeEntryAttributes", "headers")
	if !found || err != nil {
		return nil // absent, or not an object: the policy and the server's validation report it
	}
	var errs field.ErrorList
	p := field.NewPath("spec", "build", "codeEntryAttributes", "headers")
	for name, v := range headers {
		value, ok := v.(string)
		if !ok {
			continue
		}
		for _, r := range value {
			if (r < 0x20 && r != '\t') || r == 0x7f {
				errs = append(errs, field.Invalid(p.Key(name), "<redacted>",
					"header values must be strings without line breaks or NUL characters"))
				break
			}
		}
	}
	return errs
}

// optOut handles spec.disableSensitiveFieldsMasking: true.
func (m *Mutator) optOut(obj map[string]interface{}, name string) (admission.Response, bool, error) {
	fp := field.NewPath("spec", "disableSensitiveFieldsMasking")
	if !m.config.AllowOptOut {
		return admission.Response{}, false, denyInvalid(masking.KindFunction, name, field.ErrorList{field.Forbidden(fp,
			"opting out of credential masking is not allowed on this cluster (nuclio-webhook allowOptOut is false); remove the field")})
	}
	// The processor skips its restore when the flag is set, so a token would reach the trigger as-is.
	if tokens := masking.ReferencedTokens(obj["spec"]); tokens.Len() > 0 {
		return admission.Response{}, true, denyInvalid(masking.KindFunction, name, field.ErrorList{field.Invalid(fp, true,
			fmt.Sprintf("the function still holds %d \"$ref:\" reference(s), which are never restored when masking is disabled; submit the plaintext values", tokens.Len()))})
	}
	resp := admission.Allowed("credential masking disabled for this function")
	resp.Warnings = []string{"spec.disableSensitiveFieldsMasking is true: credentials in this function are stored in plaintext"}
	return resp, false, nil
}

// storeSecret validates the re-submitted tokens against the object's Secret and writes the Secret
// (unless the request is a dry run). It returns a *denial for refusals; a Conflict error makes the caller
// retry from a fresh read.
func (m *Mutator) storeSecret(ctx context.Context, req admission.Request, kind masking.ObjectKind, name string,
	obj map[string]interface{}, res *masking.ScrubResult) error {
	secretName, err := masking.SecretName(kind, name)
	if err != nil {
		return denyInvalid(kind, name, field.ErrorList{field.Invalid(field.NewPath("metadata", "name"), name, err.Error())})
	}
	key := client.ObjectKey{Namespace: req.Namespace, Name: secretName}

	// A create must know whether its object already exists (below). That read goes through
	// kube-apiserver's aggregator back to nuclio-apiserver and is the slowest of the webhook's API calls,
	// so it runs beside the Secret read rather than after it.
	type existence struct {
		exists bool
		err    error
	}
	var objectState chan existence
	if req.Operation == admissionv1.Create {
		readCtx, cancel := context.WithCancel(ctx)
		defer cancel()
		objectState = make(chan existence, 1) // buffered: the reader never blocks if we return early
		go func() {
			exists, err := m.objectExists(readCtx, kind, req.Namespace, name)
			objectState <- existence{exists, err}
		}()
	}

	existing := &corev1.Secret{}
	found := true
	if err := m.reader.Get(ctx, key, existing); err != nil {
		if !apierrors.IsNotFound(err) {
			return fmt.Errorf("reading Secret %s: %w", key, err)
		}
		found = false
	}
	stored := map[string]string{}
	if found {
		if err := masking.IsManagedFor(existing, kind, name); err != nil {
			return deny(http.StatusConflict, metav1.StatusReasonConflict, "%v", err)
		}
		if existing.DeletionTimestamp != nil {
			return deny(http.StatusConflict, metav1.StatusReasonConflict,
				"Secret %s holding the credentials of %s %q is being deleted; retry once it is gone", key, kind, name)
		}
		if stored, err = masking.DecodeSecretData(existing.Data); err != nil {
			return deny(http.StatusConflict, metav1.StatusReasonConflict,
				"Secret %s is not in Nuclio's format (%v); delete it and submit the plaintext values", key, err)
		}
	}

	var missing field.ErrorList
	for token, ref := range res.References {
		if _, ok := stored[token]; !ok {
			missing = append(missing, field.Invalid(ref.Field, field.OmitValueType{},
				fmt.Sprintf("reference %q has no stored value in Secret %s; submit the plaintext value", token, key)))
		}
	}
	if len(missing) > 0 {
		return denyInvalid(kind, name, missing)
	}

	desired := make(map[string]string, len(stored)+len(res.Secrets))
	if req.Operation == admissionv1.Create {
		// A new object starts from what it references; anything else in an old Secret is stale.
		for token := range res.References {
			desired[token] = stored[token]
		}
		state := <-objectState
		if state.err != nil {
			return state.err
		}
		if state.exists {
			// The create will fail with AlreadyExists; the Secret belongs to the live object.
			return nil
		}
	} else {
		maps.Copy(desired, stored)
	}
	maps.Copy(desired, res.Secrets)

	if isDryRun(req) {
		return nil
	}
	project, _, _ := unstructured.NestedString(obj, "metadata", "labels", masking.LabelProjectName)
	want, err := masking.NewSecret(kind, req.Namespace, name, project, desired)
	if err != nil {
		return denyInvalid(kind, name, field.ErrorList{field.Invalid(field.NewPath("metadata", "name"), name, err.Error())})
	}
	want.Annotations = map[string]string{AnnotationCredentialsUpdated: m.now().UTC().Format(time.RFC3339)}

	switch {
	case !found:
		if err := m.writer.Create(ctx, want); err != nil {
			if apierrors.IsAlreadyExists(err) {
				return apierrors.NewConflict(corev1.Resource("secrets"), secretName, err) // retry from a fresh read
			}
			return fmt.Errorf("creating Secret %s: %w", key, err)
		}
		secretActions.WithLabelValues("create").Inc()
	case req.Operation == admissionv1.Create && len(existing.OwnerReferences) > 0:
		// Left by a deleted incarnation of this object and not yet collected: garbage collection would
		// delete it after we wrote to it, so replace it with a fresh, unowned Secret.
		if err := m.writer.Delete(ctx, existing, client.Preconditions{UID: &existing.UID, ResourceVersion: &existing.ResourceVersion}); err != nil && !apierrors.IsNotFound(err) {
			if apierrors.IsConflict(err) {
				return err
			}
			return fmt.Errorf("replacing stale Secret %s: %w", key, err)
		}
		if err := m.writer.Create(ctx, want); err != nil {
			if apierrors.IsAlreadyExists(err) {
				return apierrors.NewConflict(corev1.Resource("secrets"), secretName, err)
			}
			return fmt.Errorf("creating Secret %s: %w", key, err)
		}
		secretActions.WithLabelValues("replace").Inc()
	default:
		pendingPrune := !res.Tokens().Equal(sets.KeySet(stored))
		if maps.Equal(desired, stored) && !pendingPrune && maps.Equal(existing.Labels, want.Labels) {
			return nil // nothing to write
		}
		updated := existing.DeepCopy()
		updated.Data = want.Data
		updated.Labels = want.Labels
		if updated.Annotations == nil {
			updated.Annotations = map[string]string{}
		}
		// Refreshing the timestamp also tells the reconciler when it may prune the keys this update dropped.
		updated.Annotations[AnnotationCredentialsUpdated] = want.Annotations[AnnotationCredentialsUpdated]
		if err := m.writer.Update(ctx, updated); err != nil {
			if apierrors.IsConflict(err) {
				return err
			}
			return fmt.Errorf("updating Secret %s: %w", key, err)
		}
		secretActions.WithLabelValues("update").Inc()
	}
	return nil
}

// objectExists reports whether the object being created already exists (the create will then fail).
func (m *Mutator) objectExists(ctx context.Context, kind masking.ObjectKind, namespace, name string) (bool, error) {
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(GVKFor(kind))
	err := m.reader.Get(ctx, client.ObjectKey{Namespace: namespace, Name: name}, u)
	switch {
	case err == nil:
		return true, nil
	case apierrors.IsNotFound(err):
		return false, nil
	default:
		return false, fmt.Errorf("checking whether %s %s/%s exists: %w", kind, namespace, name, err)
	}
}

func isDryRun(req admission.Request) bool { return req.DryRun != nil && *req.DryRun }

// patch answers with the JSON patch from the request's raw object to masked.
func patch(raw []byte, masked map[string]interface{}) (admission.Response, error) {
	b, err := json.Marshal(masked)
	if err != nil {
		return admission.Response{}, fmt.Errorf("encoding the masked object: %w", err)
	}
	return admission.PatchResponseFromRaw(raw, b), nil
}
