package masking

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// ScrubResult is the outcome of RuleSet.Scrub.
type ScrubResult struct {
	// Object is the masked object. It shares unchanged subtrees with the input, which is never modified;
	// treat both as read-only or copy before mutating.
	Object map[string]interface{}
	// Secrets maps each token issued by this call to the plaintext it replaced.
	Secrets map[string]string
	// References maps each re-submitted token found in the object to where it was found. The caller must
	// check that the stored Secret still holds a value for it.
	References map[string]Reference
	// MaskedPaths lists, sorted, the paths whose values were replaced by tokens (not counting the
	// last-applied-configuration annotation). Paths are not credentials and may be logged.
	MaskedPaths []string
	// LastAppliedScrubbed reports whether the kubectl last-applied-configuration annotation was rewritten.
	LastAppliedScrubbed bool
}

// Reference locates a re-submitted token.
type Reference struct {
	// Path is the Nuclio path of the field.
	Path string
	// Field is the same location as a Kubernetes field path, for error messages.
	Field *field.Path
}

// Changed reports whether Object differs from the input.
func (r *ScrubResult) Changed() bool { return len(r.MaskedPaths) > 0 || r.LastAppliedScrubbed }

// HasCredentials reports whether the object carries anything the Secret must hold: a value masked now or
// a re-submitted token.
func (r *ScrubResult) HasCredentials() bool { return len(r.Secrets) > 0 || len(r.References) > 0 }

// Tokens returns every token the masked object refers to (issued now or re-submitted).
func (r *ScrubResult) Tokens() sets.Set[string] {
	s := sets.New[string]()
	for t := range r.Secrets {
		s.Insert(t)
	}
	for t := range r.References {
		s.Insert(t)
	}
	return s
}

// Scrub masks every credential that rs names in obj (a Kubernetes object decoded from JSON, ideally with
// json.Decoder.UseNumber so numbers survive byte for byte) and returns the masked copy with the map of
// tokens to plaintexts. The kubectl last-applied-configuration annotation, when present, is rewritten with
// the same tokens (its plaintexts are not collected: the object's own values are authoritative).
//
// The returned field.ErrorList names each offending field, never its value: a "$ref:" value outside a
// sensitive field or not equal to its own field's token, two paths that differ only in letter case (they
// would share one token), a path that cannot be stored as a Secret key, or a last-applied annotation that
// is not a JSON object. On error the result is nil.
func (rs *RuleSet) Scrub(obj map[string]interface{}) (*ScrubResult, field.ErrorList) {
	w := &walker{
		rs:     rs,
		res:    &ScrubResult{Secrets: map[string]string{}, References: map[string]Reference{}},
		owners: map[string]string{},
	}
	masked, _ := w.root(obj)
	lastApplied, lastAppliedErr := w.scrubLastApplied(masked)
	if lastAppliedErr != nil {
		w.errs = append(w.errs, lastAppliedErr)
	}
	if len(w.errs) > 0 {
		return nil, w.errs
	}
	if lastApplied != nil {
		masked = withAnnotation(masked, AnnotationLastAppliedConfiguration, *lastApplied)
		w.res.LastAppliedScrubbed = true
	}
	sort.Strings(w.res.MaskedPaths)
	w.res.Object = masked
	return w.res, nil
}

// walker carries the state of one Scrub call.
type walker struct {
	rs *RuleSet
	// annotation is set while walking the last-applied annotation: plaintexts become tokens but are not
	// collected, and nothing is validated (the annotation is never restored by anyone).
	annotation bool
	res        *ScrubResult
	// owners maps each token to the first path that produced it, to detect case collisions.
	owners map[string]string
	errs   field.ErrorList
}

// walkedMetadata are the metadata fields Nuclio's functionconfig.Meta has; the rest of metadata
// (managedFields, ownerReferences, ...) is Kubernetes bookkeeping and is neither masked nor restored.
var walkedMetadata = sets.New("name", "namespace", "labels", "annotations")

// root walks metadata (restricted to walkedMetadata) and spec, and leaves every other top-level field
// (apiVersion, kind, status) alone.
func (w *walker) root(obj map[string]interface{}) (map[string]interface{}, bool) {
	var out map[string]interface{}
	for _, k := range sortedKeys(obj) {
		var nv interface{}
		var changed bool
		switch k {
		case "spec":
			nv, changed = w.walk(obj[k], "/spec", field.NewPath("spec"))
		case "metadata":
			nv, changed = w.metadata(obj[k])
		default:
			continue
		}
		if changed {
			if out == nil {
				out = shallowCopy(obj)
			}
			out[k] = nv
		}
	}
	if out == nil {
		return obj, false
	}
	return out, true
}

func (w *walker) metadata(v interface{}) (interface{}, bool) {
	m, ok := v.(map[string]interface{})
	if !ok {
		return v, false
	}
	var out map[string]interface{}
	for _, k := range sortedKeys(m) {
		if !walkedMetadata.Has(k) {
			continue
		}
		nv, changed := w.walk(m[k], "/metadata/"+k, field.NewPath("metadata").Child(k))
		if changed {
			if out == nil {
				out = shallowCopy(m)
			}
			out[k] = nv
		}
	}
	if out == nil {
		return v, false
	}
	return out, true
}

// walk returns v with every credential below it masked, and whether anything changed. Unchanged
// subtrees are returned as they are; changed maps and slices are copied.
func (w *walker) walk(v interface{}, path string, fp *field.Path) (interface{}, bool) {
	switch t := v.(type) {
	case map[string]interface{}:
		var out map[string]interface{}
		for _, k := range sortedKeys(t) {
			if !w.annotation && path == "/metadata/annotations" && k == AnnotationLastAppliedConfiguration {
				continue // handled by scrubLastApplied
			}
			nv, changed := w.walk(t[k], path+"/"+k, childPath(fp, k))
			if changed {
				if out == nil {
					out = shallowCopy(t)
				}
				out[k] = nv
			}
		}
		if out == nil {
			return v, false
		}
		return out, true
	case []interface{}:
		var out []interface{}
		for i, e := range t {
			nv, changed := w.walk(e, path+"["+strconv.Itoa(i)+"]", fp.Index(i))
			if changed {
				if out == nil {
					out = append([]interface{}(nil), t...)
				}
				out[i] = nv
			}
		}
		if out == nil {
			return v, false
		}
		return out, true
	case string:
		return w.leaf(t, path, fp)
	default:
		return v, false
	}
}

func (w *walker) leaf(value, path string, fp *field.Path) (interface{}, bool) {
	if value == "" {
		return value, false
	}
	token := Token(path)
	if strings.HasPrefix(value, ReferencePrefix) {
		if w.annotation {
			return value, false
		}
		if !w.rs.IsSensitivePath(path) {
			w.errs = append(w.errs, field.Forbidden(fp, "holds a \"$ref:\" reference, but is not a sensitive field; "+
				"references are accepted only in the field they were issued for"))
			return value, false
		}
		if value != token {
			w.errs = append(w.errs, field.Invalid(fp, field.OmitValueType{}, fmt.Sprintf(
				"reference was not issued for this field; the only reference accepted here is %q (or submit the plaintext value)", token)))
			return value, false
		}
		if w.claim(token, path, fp) {
			w.res.References[token] = Reference{Path: path, Field: fp}
		}
		return value, false
	}
	if !w.rs.ShouldMask(path, value) {
		return value, false
	}
	if w.annotation {
		return token, true
	}
	if !w.claim(token, path, fp) {
		return value, false
	}
	if _, err := EncodeKey(token); err != nil {
		w.errs = append(w.errs, field.Invalid(fp, field.OmitValueType{}, fmt.Sprintf(
			"this field holds a credential, but its path cannot be stored as a Secret key in Nuclio's format (%v); rename the trigger or key", err)))
		return value, false
	}
	w.res.Secrets[token] = value
	w.res.MaskedPaths = append(w.res.MaskedPaths, path)
	return token, true
}

// claim records that path produced token and reports false (recording an error) if another path already
// did: two paths that differ only in letter case would share one Secret key.
func (w *walker) claim(token, path string, fp *field.Path) bool {
	if other, ok := w.owners[token]; ok && other != path {
		w.errs = append(w.errs, field.Invalid(fp, field.OmitValueType{}, fmt.Sprintf(
			"differs from %s only in letter case; both would use reference %q, so one credential would overwrite the other", other, token)))
		return false
	}
	w.owners[token] = path
	return true
}

// scrubLastApplied masks the kubectl last-applied-configuration annotation of obj. It returns the new
// annotation value when it changed, nil when it did not (or is absent).
func (w *walker) scrubLastApplied(obj map[string]interface{}) (*string, *field.Error) {
	raw, ok := annotation(obj, AnnotationLastAppliedConfiguration)
	if !ok || raw == "" {
		return nil, nil
	}
	fp := field.NewPath("metadata", "annotations").Key(AnnotationLastAppliedConfiguration)
	applied, err := decodeObject([]byte(raw))
	if err != nil {
		// Refuse rather than store a blob we cannot inspect: it may hold the very credentials we mask.
		return nil, field.Invalid(fp, field.OmitValueType{}, "must be a JSON object so that credentials in it can be masked")
	}
	aw := &walker{rs: w.rs, annotation: true, res: &ScrubResult{}, owners: map[string]string{}}
	masked, changed := aw.root(applied)
	if !changed {
		return nil, nil
	}
	encoded, err := encodeJSON(masked)
	if err != nil {
		return nil, field.InternalError(fp, fmt.Errorf("re-encoding the masked annotation: %w", err))
	}
	if strings.HasSuffix(raw, "\n") { // kubectl writes a trailing newline; keep the annotation byte-stable
		encoded += "\n"
	}
	return &encoded, nil
}

// Restore returns a copy of v (a JSON value) in which every string equal to a key of secrets is replaced
// by that key's value, wherever it is. This is the processor's path-independent restore
// (gosecretive Restore); v is not modified.
func Restore(v interface{}, secrets map[string]string) interface{} {
	out, _ := restore(v, secrets)
	return out
}

func restore(v interface{}, secrets map[string]string) (interface{}, bool) {
	switch t := v.(type) {
	case map[string]interface{}:
		var out map[string]interface{}
		for k, e := range t {
			if nv, changed := restore(e, secrets); changed {
				if out == nil {
					out = shallowCopy(t)
				}
				out[k] = nv
			}
		}
		if out == nil {
			return v, false
		}
		return out, true
	case []interface{}:
		var out []interface{}
		for i, e := range t {
			if nv, changed := restore(e, secrets); changed {
				if out == nil {
					out = append([]interface{}(nil), t...)
				}
				out[i] = nv
			}
		}
		if out == nil {
			return v, false
		}
		return out, true
	case string:
		if s, ok := secrets[t]; ok {
			return s, true
		}
	}
	return v, false
}

// ReferencedTokens returns every string value in v (a JSON value) that starts with "$ref:", wherever it
// is. Because the processor's restore is path-independent, a Secret key that is not in this set is not
// used by the object and can be pruned.
func ReferencedTokens(v interface{}) sets.Set[string] {
	s := sets.New[string]()
	var visit func(interface{})
	visit = func(v interface{}) {
		switch t := v.(type) {
		case map[string]interface{}:
			for _, e := range t {
				visit(e)
			}
		case []interface{}:
			for _, e := range t {
				visit(e)
			}
		case string:
			if strings.HasPrefix(t, ReferencePrefix) {
				s.Insert(t)
			}
		}
	}
	visit(v)
	return s
}

// MaskingDisabled reports whether obj sets spec.disableSensitiveFieldsMasking to true (Nuclio's
// per-function opt-out, nuclio/nuclio:pkg/functionconfig/types.go).
func MaskingDisabled(obj map[string]interface{}) bool {
	spec, _ := obj["spec"].(map[string]interface{})
	b, _ := spec["disableSensitiveFieldsMasking"].(bool)
	return b
}

// DecodeObject decodes a JSON object with json.Decoder.UseNumber, so that numbers re-encode exactly as
// they were sent. It returns an error if data is not a single JSON object.
func DecodeObject(data []byte) (map[string]interface{}, error) { return decodeObject(data) }

func decodeObject(data []byte) (map[string]interface{}, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var obj map[string]interface{}
	if err := dec.Decode(&obj); err != nil {
		return nil, err
	}
	if obj == nil {
		return nil, fmt.Errorf("not a JSON object")
	}
	if dec.More() {
		return nil, fmt.Errorf("trailing data after the JSON object")
	}
	return obj, nil
}

func encodeJSON(v interface{}) (string, error) {
	b, err := json.Marshal(v)
	return string(b), err
}

func annotation(obj map[string]interface{}, key string) (string, bool) {
	md, _ := obj["metadata"].(map[string]interface{})
	ann, _ := md["annotations"].(map[string]interface{})
	s, ok := ann[key].(string)
	return s, ok
}

// withAnnotation returns obj with metadata.annotations[key] set to value, copying the maps on the way.
func withAnnotation(obj map[string]interface{}, key, value string) map[string]interface{} {
	out := shallowCopy(obj)
	md, _ := obj["metadata"].(map[string]interface{})
	md = shallowCopy(md)
	ann, _ := md["annotations"].(map[string]interface{})
	ann = shallowCopy(ann)
	ann[key] = value
	md["annotations"] = ann
	out["metadata"] = md
	return out
}

func shallowCopy(m map[string]interface{}) map[string]interface{} {
	out := make(map[string]interface{}, len(m)+1)
	for k, v := range m {
		out[k] = v
	}
	return out
}

func sortedKeys(m map[string]interface{}) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

var identifier = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// childPath extends a field path for error messages: plain identifiers read as fields
// (spec.triggers.kafka), anything else as a map key (metadata.annotations[nuclio.io/kafka-ca-cert]).
func childPath(fp *field.Path, key string) *field.Path {
	if identifier.MatchString(key) {
		return fp.Child(key)
	}
	return fp.Key(key)
}
