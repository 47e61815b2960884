// Package masking moves credentials out of Nuclio objects (NuclioFunction, NuclioAPIGateway) into
// Kubernetes Secrets, in the exact format Nuclio 1.14 uses, so that Nuclio's processor restores them at
// start-up. It works on generic JSON (map[string]interface{} as produced by encoding/json) so that
// unknown and free-form fields survive untouched; it performs no I/O.
//
// # Paths
//
// A field is named by its Nuclio path (nuclio/gosecretive, used by nuclio/nuclio:pkg/common/scrubber.go):
// every map entry appends "/" + key, every slice element appends "[" + index + "]", the root is "".
// JSON field names are used, so /spec/triggers/my-kafka/attributes/sasl/password and
// /spec/volumes[0]/volume/flexVolume/options/accessKey are paths, and an annotation key's own "/" is part
// of the path (/metadata/annotations/nuclio.io/kafka-sasl-password). Only metadata.name, metadata.namespace,
// metadata.labels, metadata.annotations and spec are walked: those are the fields of Nuclio's
// functionconfig.Config, which is what Nuclio scrubs and what the processor restores.
//
// # Rules
//
// A Rule is a regular expression over paths, matched case-insensitively (Nuclio compiles every entry with
// a "(?i)" prefix, nuclio/nuclio:pkg/platformconfig/types.go CompileSensitiveFieldsRegex). Only non-empty
// string leaves are masked; numbers, booleans and objects never are. The built-in function rules are
// Nuclio's GetDefaultSensitiveFields list verbatim (NuclioDefaultFunctionRules) plus the gaps Nuclio leaves
// (GapFunctionRules); API gateways use Nuclio's single gateway path plus nothing else. Administrators may
// add regular expressions (NewRuleSet's extra argument); like Nuclio's customSensitiveFields they can only
// add to the built-in list, never remove from it.
//
// # Tokens
//
// A masked value is replaced by its reference token, "$ref:" followed by the lower-cased path
// (nuclio/nuclio:pkg/common/scrubber.go generateSecretKey), for example
// "$ref:/spec/triggers/my-kafka/attributes/sasl/password". The token is also the Secret key (encoded, see
// below). Nuclio's processor restores a configuration by replacing every string whose whole value equals
// a key of the Secret (gosecretive Restore); it is path-independent.
//
// Credentials inside URLs (userinfo, e.g. amqp://user:password@host:5672 in a RabbitMQ trigger's url) are
// masked by replacing the whole URL with its token: the processor only restores whole values, so a token
// embedded in the middle of a URL would never be restored. The price is that the stored object no longer
// shows the host; the Secret holds the complete URL. A value counts as a URL with userinfo when its
// authority (the part after an optional "scheme://", up to the first "/", "?" or "#") contains "@"
// (see HasUserinfo); this deliberately also catches scheme-less "user:pass@host:port" strings.
//
// A value that already starts with "$ref:" is a re-submitted token. It is accepted only in a field that
// the rules mark as sensitive and only if it is exactly the token of that field: Nuclio checks the path
// alone, which would let a writer copy a stored credential into another field (for example a build
// header sent to a URL of their choosing); we refuse that. Whether the Secret still holds the value is for
// the caller to check (ScrubResult.References).
//
// # Secret format
//
// See EncodeSecretData: one key per token, "NUCLIO_B64_" + standard base64 of the token with every "="
// replaced by "_", whose value is the plaintext, plus "content": standard base64 of the JSON object that
// maps those encoded keys to the plaintexts ("" when nothing is masked). The processor reads only
// /etc/nuclio/secrets/content (nuclio/nuclio:cmd/processor/app/processor.go); Nuclio's dashboard reads the
// individual keys. Secret names are deterministic (SecretName) and ownership is carried by labels
// (SecretLabels, IsManagedFor).
package masking
