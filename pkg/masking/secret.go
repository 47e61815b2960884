package masking

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"
)

// Constants of Nuclio's masking format (nuclio/nuclio:pkg/common/scrubber.go,
// nuclio/nuclio:pkg/functionconfig/scrubber.go, nuclio/nuclio:pkg/platform/apigateway.go,
// nuclio/nuclio:pkg/common/consts.go) and of this project's ownership labels.
const (
	// ReferencePrefix starts every reference token.
	ReferencePrefix = "$ref:"
	// SecretKeyPrefix starts every encoded Secret key.
	SecretKeyPrefix = "NUCLIO_B64_"
	// SecretContentKey is the Secret key holding all encoded pairs as base64(JSON); the processor reads
	// only this key (as the file <FunctionSecretMountPath>/content).
	SecretContentKey = "content"

	// FunctionSecretType is the type of a function's credentials Secret.
	FunctionSecretType corev1.SecretType = "nuclio.io/functionconfig"
	// APIGatewaySecretType is the type of an API gateway's credentials Secret.
	APIGatewaySecretType corev1.SecretType = "nuclio.io/apigatewayconfig"

	// FunctionSecretMountPath is where the processor expects the function Secret to be mounted.
	FunctionSecretMountPath = "/etc/nuclio/secrets"
	// RestoreFromSecretEnvVar, set to "true" on the processor container, makes the processor restore its
	// configuration from the mounted Secret at start-up.
	RestoreFromSecretEnvVar = "NUCLIO_RESTORE_FUNCTION_CONFIG_FROM_SECRET"

	// LabelFunctionName names the function a Secret belongs to (Nuclio's label).
	LabelFunctionName = "nuclio.io/function-name"
	// LabelAPIGatewayName names the API gateway a Secret belongs to (Nuclio's label).
	LabelAPIGatewayName = "nuclio.io/apigateway-name"
	// LabelProjectName names the object's project (Nuclio's label; "default" when the object has none).
	LabelProjectName = "nuclio.io/project-name"
	// LabelManagedBy with value ManagedByValue marks a Secret as written by the nuclio-webhook. A Secret
	// without it is never read or written by the webhook.
	LabelManagedBy = "app.kubernetes.io/managed-by"
	// ManagedByValue is the value of LabelManagedBy on Secrets the webhook owns.
	ManagedByValue = "nuclio-webhook"

	// AnnotationLastAppliedConfiguration is kubectl's client-side-apply annotation.
	AnnotationLastAppliedConfiguration = "kubectl.kubernetes.io/last-applied-configuration"

	// DefaultProjectName is the project Nuclio assumes when an object has no project label.
	DefaultProjectName = "default"
)

// EncodeKey returns the Secret key for token: SecretKeyPrefix + standard base64(token) with every "="
// replaced by "_" (Nuclio's EncodeSecretKey). It returns an error when the result is not a valid Secret
// key, which Nuclio does not check: standard base64 yields "+" or "/" for some bytes (for ASCII paths,
// a ">", "?" or "~" at certain offsets, or any non-ASCII character), and keys are limited to 253
// characters.
func EncodeKey(token string) (string, error) {
	key := SecretKeyPrefix + strings.ReplaceAll(base64.StdEncoding.EncodeToString([]byte(token)), "=", "_")
	if errs := validation.IsConfigMapKey(key); len(errs) > 0 {
		return "", fmt.Errorf("encoded Secret key is invalid: %s", strings.Join(errs, "; "))
	}
	return key, nil
}

// DecodeKey is the inverse of EncodeKey: it strips SecretKeyPrefix, turns "_" back into "=" and decodes
// standard base64. It returns an error if key lacks the prefix or is not valid base64.
func DecodeKey(key string) (string, error) {
	enc, ok := strings.CutPrefix(key, SecretKeyPrefix)
	if !ok {
		return "", fmt.Errorf("secret key %q does not start with %q", key, SecretKeyPrefix)
	}
	dec, err := base64.StdEncoding.DecodeString(strings.ReplaceAll(enc, "_", "="))
	if err != nil {
		return "", fmt.Errorf("secret key %q is not valid base64: %w", key, err)
	}
	return string(dec), nil
}

// EncodeSecretData encodes a map of token → plaintext as Secret data in Nuclio's format: one
// EncodeKey(token) key per entry holding the plaintext, plus SecretContentKey holding standard base64 of
// the JSON object {encoded key: plaintext} (keys sorted, as encoding/json writes maps). With no entries,
// content is empty and is the only key, as Nuclio writes it so that the Secret can always be mounted.
// It fails only if a token cannot be encoded (see EncodeKey); the error names the token, not the value.
func EncodeSecretData(secrets map[string]string) (map[string][]byte, error) {
	data := make(map[string][]byte, len(secrets)+1)
	encoded := make(map[string]string, len(secrets))
	for token, value := range secrets {
		key, err := EncodeKey(token)
		if err != nil {
			return nil, fmt.Errorf("reference %q: %w", token, err)
		}
		encoded[key] = value
		data[key] = []byte(value)
	}
	if len(encoded) == 0 {
		data[SecretContentKey] = []byte{}
		return data, nil
	}
	content, err := json.Marshal(encoded)
	if err != nil {
		return nil, fmt.Errorf("encoding secret content: %w", err)
	}
	data[SecretContentKey] = []byte(base64.StdEncoding.EncodeToString(content))
	return data, nil
}

// DecodeSecretData returns the token → plaintext map held by Secret data in Nuclio's format, read from
// the individual keys (Nuclio's DecodeSecretData; SecretContentKey is skipped). It returns an error naming
// the first key that is not in the format. Values are never part of an error.
func DecodeSecretData(data map[string][]byte) (map[string]string, error) {
	out := make(map[string]string, len(data))
	for key, value := range data {
		if key == SecretContentKey {
			continue
		}
		token, err := DecodeKey(key)
		if err != nil {
			return nil, err
		}
		out[token] = string(value)
	}
	return out, nil
}

// DecodeContent returns the token → plaintext map held by a SecretContentKey value, as the processor
// reads it (Nuclio's DecodeSecretsMapContent): base64, then a JSON object of encoded keys. Empty content
// decodes to an empty map.
func DecodeContent(content []byte) (map[string]string, error) {
	raw, err := base64.StdEncoding.DecodeString(string(content))
	if err != nil {
		return nil, fmt.Errorf("secret content is not valid base64: %w", err)
	}
	if len(raw) == 0 {
		return map[string]string{}, nil
	}
	var encoded map[string]string
	if err := json.Unmarshal(raw, &encoded); err != nil {
		return nil, fmt.Errorf("secret content is not a JSON object of strings: %w", err)
	}
	data := make(map[string][]byte, len(encoded))
	for k, v := range encoded {
		data[k] = []byte(v)
	}
	return DecodeSecretData(data)
}

// SecretType returns the Secret type Nuclio uses for kind.
func SecretType(kind ObjectKind) corev1.SecretType {
	if kind == KindAPIGateway {
		return APIGatewaySecretType
	}
	return FunctionSecretType
}

// NameLabel returns the label that names the owning object of a Secret for kind.
func NameLabel(kind ObjectKind) string {
	if kind == KindAPIGateway {
		return LabelAPIGatewayName
	}
	return LabelFunctionName
}

const (
	secretNameSuffix = "-credentials"
	hashLength       = 10
)

func secretNamePrefix(kind ObjectKind) string {
	if kind == KindAPIGateway {
		return "nuclio-apigateway-"
	}
	return "nuclio-"
}

var nonLabelChars = regexp.MustCompile(`[^a-z0-9-]+`)

// SecretName returns the deterministic name of the credentials Secret of the object of kind named
// objectName (the Secret lives in the object's namespace, so the name depends on nothing else).
//
// Rule: functions use "nuclio-<name>-credentials", API gateways "nuclio-apigateway-<name>-credentials",
// when that is a DNS-1123 label of at most 63 characters. Otherwise the name is lower-cased, every run of
// characters outside [a-z0-9-] becomes "-", it is truncated to fit and trimmed of "-", and the first 10
// hex digits of SHA-256(objectName) are inserted before "-credentials" so that distinct names stay
// distinct. The result is always a DNS-1123 label of at most 63 characters. Nuclio's own names are
// "nuclio-<name>-" + 8 random [a-z0-9] (nuclio/nuclio:pkg/common/scrubber.go generateObjectSecretName);
// ours always end in "-credentials", an 11-letter segment, so the two can be told apart.
//
// Names can still collide across kinds or with a hashed form (a function named "apigateway-x" and a
// gateway "x"); ownership labels make the webhook refuse rather than share such a Secret.
func SecretName(kind ObjectKind, objectName string) (string, error) {
	if objectName == "" {
		return "", fmt.Errorf("object name is empty")
	}
	prefix := secretNamePrefix(kind)
	simple := prefix + objectName + secretNameSuffix
	if len(validation.IsDNS1123Label(objectName)) == 0 && len(simple) <= validation.DNS1123LabelMaxLength {
		return simple, nil
	}
	sum := sha256.Sum256([]byte(objectName))
	hash := hex.EncodeToString(sum[:])[:hashLength]
	room := validation.DNS1123LabelMaxLength - len(prefix) - 1 - hashLength - len(secretNameSuffix)
	s := nonLabelChars.ReplaceAllString(strings.ToLower(objectName), "-")
	if len(s) > room {
		s = s[:room]
	}
	s = strings.Trim(s, "-")
	name := prefix + hash + secretNameSuffix
	if s != "" {
		name = prefix + s + "-" + hash + secretNameSuffix
	}
	if errs := validation.IsDNS1123Label(name); len(errs) > 0 {
		// Unreachable by construction; kept so a future edit cannot silently produce a bad name.
		return "", fmt.Errorf("derived secret name %q is invalid: %s", name, strings.Join(errs, "; "))
	}
	return name, nil
}

// SecretLabels returns the labels of the credentials Secret of the object of kind named objectName in
// project projectName (DefaultProjectName when empty): Nuclio's name and project labels plus
// LabelManagedBy=ManagedByValue. It returns an error when a value is not a valid label value (for example
// an object name longer than 63 characters).
func SecretLabels(kind ObjectKind, objectName, projectName string) (map[string]string, error) {
	if projectName == "" {
		projectName = DefaultProjectName
	}
	labels := map[string]string{
		NameLabel(kind):  objectName,
		LabelProjectName: projectName,
		LabelManagedBy:   ManagedByValue,
	}
	for k, v := range labels {
		if errs := validation.IsValidLabelValue(v); len(errs) > 0 {
			return nil, fmt.Errorf("label %s=%q: %s", k, v, strings.Join(errs, "; "))
		}
	}
	return labels, nil
}

// NewSecret builds the credentials Secret of the object of kind named objectName, in namespace, holding
// secrets (token → plaintext) in Nuclio's format. It returns an error if the name, labels or keys cannot
// be formed; errors never contain values.
func NewSecret(kind ObjectKind, namespace, objectName, projectName string, secrets map[string]string) (*corev1.Secret, error) {
	name, err := SecretName(kind, objectName)
	if err != nil {
		return nil, err
	}
	labels, err := SecretLabels(kind, objectName, projectName)
	if err != nil {
		return nil, err
	}
	data, err := EncodeSecretData(secrets)
	if err != nil {
		return nil, err
	}
	return &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: namespace, Labels: labels},
		Type:       SecretType(kind),
		Data:       data,
	}, nil
}

// IsManagedFor returns nil if secret is the credentials Secret this webhook wrote for the object of kind
// named objectName: type SecretType(kind), LabelManagedBy=ManagedByValue and NameLabel(kind)=objectName.
// Otherwise it returns an error that says which check failed (it never includes data), suitable for a
// denial message.
func IsManagedFor(secret *corev1.Secret, kind ObjectKind, objectName string) error {
	ref := secret.Namespace + "/" + secret.Name
	if secret.Labels[LabelManagedBy] != ManagedByValue {
		return fmt.Errorf("secret %s exists but is not managed by %s (label %s=%s is missing); "+
			"it is left untouched: rename or remove it so that the credentials of %s %q can be stored",
			ref, ManagedByValue, LabelManagedBy, ManagedByValue, kind, objectName)
	}
	if got := secret.Labels[NameLabel(kind)]; got != objectName {
		return fmt.Errorf("secret %s is managed by %s for %s=%q, not for %s %q; it is left untouched",
			ref, ManagedByValue, NameLabel(kind), got, kind, objectName)
	}
	if secret.Type != SecretType(kind) {
		return fmt.Errorf("secret %s has type %q, not %q; it is left untouched", ref, secret.Type, SecretType(kind))
	}
	return nil
}
