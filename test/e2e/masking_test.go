// Copyright The nuclio-apiserver Authors.
// SPDX-License-Identifier: Apache-2.0

package e2e

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/nuclio-apiserver/nuclio-apiserver/pkg/masking"
)

// credentials are the plaintexts of the masking suite, each one unique so that any leak is found by a
// plain substring search of API output or storage files.
var credentials = map[string]string{
	"kafka-sasl":       "e2e-kafka-sasl-Pw1",
	"kinesis-id":       "E2EKINESISKEYID",
	"kinesis-secret":   "e2e-kinesis-secret-Pw2",
	"rabbit-url":       "amqp://user:e2e-rabbit-Pw3@rabbit.example.com:5672/vh",
	"v3io":             "e2e-v3io-access-Pw4",
	"mqtt":             "e2e-mqtt-Pw5",
	"eventhub":         "e2e-eventhub-key-Pw6",
	"s3-secret":        "e2e-s3-secret-Pw7",
	"s3-token":         "e2e-s3-session-Pw8",
	"header":           "Bearer e2e-header-Pw9",
	"databinding":      "e2e-databinding-Pw10",
	"kafka-annotation": "e2e-kafka-annotation-Pw11",
	"gateway":          "e2e-gateway-Pw12",
	"patched-merge":    "e2e-merge-patch-Pw13",
	"patched-json":     "e2e-json-patch-Pw14",
}

// credentialFunction carries a credential in every placement the issue lists.
func credentialFunction(name string) string {
	c := credentials
	return fmt.Sprintf(`apiVersion: nuclio.io/v1beta1
kind: NuclioFunction
metadata:
  name: %s
  annotations:
    nuclio.io/kafka-sasl-password: %q
spec:
  runtime: golang
  handler: main:Handler
  image: registry.example.com/creds:1
  dataBindings:
    db: {class: v3io, kind: v3io, url: "https://webapi.example.com", secret: %q}
  build:
    codeEntryType: s3
    codeEntryAttributes:
      s3Bucket: functions
      s3ItemKey: creds.zip
      s3Region: eu-west-1
      s3AccessKeyId: AKIAEXAMPLE
      s3SecretAccessKey: %q
      s3SessionToken: %q
      headers: {Authorization: %q}
  triggers:
    kafka:
      kind: kafka-cluster
      attributes: {brokers: [kafka.example.com:9092], topics: [t], sasl: {enable: true, user: svc, password: %q}}
    kinesis:
      kind: kinesis
      attributes: {accessKeyID: %q, secretAccessKey: %q, regionName: eu-west-1, streamName: s}
    rabbit:
      kind: rabbit-mq
      url: %q
      attributes: {exchangeName: x}
    v3io:
      kind: v3ioStream
      url: https://webapi.example.com/container/stream
      password: %q
    mqtt:
      kind: mqtt
      url: tcp://mqtt.example.com:1883
      username: svc
      password: %q
    eventhub:
      kind: eventhub
      attributes: {sharedAccessKeyName: svc, sharedAccessKeyValue: %q, namespace: ns}
`, name, c["kafka-annotation"], c["databinding"], c["s3-secret"], c["s3-token"], c["header"], c["kafka-sasl"],
		c["kinesis-id"], c["kinesis-secret"], c["rabbit-url"], c["v3io"], c["mqtt"], c["eventhub"])
}

func credentialGateway(name, function string) string {
	return fmt.Sprintf(`apiVersion: nuclio.io/v1beta1
kind: NuclioAPIGateway
metadata: {name: %s}
spec:
  host: %s.example.com
  authenticationMode: basicAuth
  authentication: {basicAuth: {username: admin, password: %q}}
  upstreams: [{kind: nucliofunction, nucliofunction: {name: %s}}]
`, name, name, credentials["gateway"], function)
}

// assertNoPlaintext fails if any credential appears in s.
func assertNoPlaintext(t *testing.T, where, s string) {
	t.Helper()
	for name, value := range credentials {
		if strings.Contains(s, value) {
			t.Errorf("%s contains the %s credential in plaintext", where, name)
		}
	}
}

// secretValues decodes the credentials Secret of an object, as Nuclio's processor would.
func secretValues(t *testing.T, ns string, kind masking.ObjectKind, name string) (map[string]string, *corev1.Secret) {
	t.Helper()
	secretName, err := masking.SecretName(kind, name)
	if err != nil {
		t.Fatal(err)
	}
	var secret *corev1.Secret
	eventually(t, 10*time.Second, func() error {
		secret, err = cp.Kube.CoreV1().Secrets(ns).Get(context.Background(), secretName, metav1.GetOptions{})
		return err
	})
	values, err := masking.DecodeSecretData(secret.Data)
	if err != nil {
		t.Fatalf("secret %s: %v", secretName, err)
	}
	return values, secret
}

func containsValue(values map[string]string, v string) bool {
	for _, x := range values {
		if x == v {
			return true
		}
	}
	return false
}

// TestCredentialsAreMasked writes credentials through every client path and checks that they only
// exist in the credentials Secrets.
func TestCredentialsAreMasked(t *testing.T) {
	ctx := context.Background()
	ns := createNamespace(t, "e2e-masking")
	w, err := nuclio.NuclioV1beta1().NuclioFunctions(ns).Watch(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()

	// Four write paths for functions, one name each; the gateway by client-side apply.
	mustKubectl(t, "admin", []byte(credentialFunction("csa")), "apply", "-n", ns, "-f", "-")
	mustKubectl(t, "admin", []byte(credentialFunction("ssa")), "apply", "--server-side", "-n", ns, "-f", "-")
	mustKubectl(t, "admin", []byte(credentialFunction("created")), "create", "-n", ns, "-f", "-")
	mustKubectl(t, "admin", []byte(credentialGateway("gw", "csa")), "apply", "-n", ns, "-f", "-")
	// Patches that add new plaintext to an existing (masked) function.
	mustKubectl(t, "admin", nil, "patch", "nfn", "created", "-n", ns, "--type=merge",
		"-p", fmt.Sprintf(`{"spec":{"triggers":{"mqtt":{"password":%q}}}}`, credentials["patched-merge"]))
	mustKubectl(t, "admin", nil, "patch", "nfn", "created", "-n", ns, "--type=json",
		"-p", fmt.Sprintf(`[{"op":"replace","path":"/spec/triggers/v3io/password","value":%q}]`, credentials["patched-json"]))

	// GET and LIST through kube-apiserver, as YAML and JSON, and the last-applied annotation.
	for _, format := range []string{"yaml", "json"} {
		assertNoPlaintext(t, "kubectl get nuclio -o "+format, mustKubectl(t, "admin", nil, "get", "nuclio", "-n", ns, "-o", format))
		for _, name := range []string{"csa", "ssa", "created"} {
			assertNoPlaintext(t, "kubectl get nfn "+name, mustKubectl(t, "admin", nil, "get", "nfn", name, "-n", ns, "-o", format))
		}
	}
	lastApplied := mustKubectl(t, "admin", nil, "get", "nfn", "csa", "-n", ns, "-o", `jsonpath={.metadata.annotations.kubectl\.kubernetes\.io/last-applied-configuration}`)
	if !strings.Contains(lastApplied, "$ref:") {
		t.Errorf("last-applied-configuration was not rewritten with tokens: %.200s", lastApplied)
	}

	// WATCH events.
	deadline := time.After(10 * time.Second)
	for events := 0; events < 5; {
		select {
		case ev := <-w.ResultChan():
			events++
			assertNoPlaintext(t, fmt.Sprintf("watch event %s", ev.Type), fmt.Sprintf("%+v", ev.Object))
		case <-deadline:
			t.Fatalf("saw %d watch events, want ≥5", events)
		}
	}

	// The Secrets hold the originals, in Nuclio's format.
	for _, name := range []string{"csa", "ssa"} {
		values, secret := secretValues(t, ns, masking.KindFunction, name)
		if secret.Type != "nuclio.io/functionconfig" || secret.Labels["nuclio.io/function-name"] != name {
			t.Errorf("secret of %s: type %q labels %v", name, secret.Type, secret.Labels)
		}
		for key, v := range credentials {
			if key == "gateway" || strings.HasPrefix(key, "patched") {
				continue
			}
			if !containsValue(values, v) {
				t.Errorf("secret of %s lacks the %s credential", name, key)
			}
		}
		if values["$ref:/spec/triggers/kafka/attributes/sasl/password"] != credentials["kafka-sasl"] {
			t.Errorf("kafka password not under Nuclio's token: %v", keysOf(values))
		}
	}
	patched, _ := secretValues(t, ns, masking.KindFunction, "created")
	if !containsValue(patched, credentials["patched-merge"]) || !containsValue(patched, credentials["patched-json"]) {
		t.Errorf("patched credentials missing from the secret: %v", keysOf(patched))
	}
	gw, gwSecret := secretValues(t, ns, masking.KindAPIGateway, "gw")
	if gwSecret.Type != "nuclio.io/apigatewayconfig" || !containsValue(gw, credentials["gateway"]) {
		t.Errorf("gateway secret: type %q keys %v", gwSecret.Type, keysOf(gw))
	}

	// Nothing reached nuclio-apiserver's storage in plaintext: search every file of the embedded etcd.
	assertStorageClean(t)
}

func keysOf(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// assertStorageClean reads every file of nuclio-apiserver's embedded etcd (bbolt database and WAL).
func assertStorageClean(t *testing.T) {
	t.Helper()
	files := 0
	err := filepath.Walk(cp.NuclioAPIServerDataDir(), func(path string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() || info.Mode()&os.ModeSocket != 0 {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		files++
		for name, value := range credentials {
			if bytes.Contains(data, []byte(value)) {
				t.Errorf("storage file %s contains the %s credential", path, name)
			}
		}
		return nil
	})
	if err != nil || files == 0 {
		t.Fatalf("reading storage: %v (%d files)", err, files)
	}
}

func TestMaskingDryRunCollisionAndDeletion(t *testing.T) {
	ctx := context.Background()
	ns := createNamespace(t, "e2e-masking-edges")
	secrets := cp.Kube.CoreV1().Secrets(ns)

	// Dry-run masks the response and writes no Secret.
	out := mustKubectl(t, "admin", []byte(credentialFunction("dry")), "apply", "--dry-run=server", "-n", ns, "-o", "yaml", "-f", "-")
	assertNoPlaintext(t, "dry-run response", out)
	dryName, _ := masking.SecretName(masking.KindFunction, "dry")
	if _, err := secrets.Get(ctx, dryName, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("dry-run wrote Secret %s: %v", dryName, err)
	}

	// A Secret we do not own, under the name the function would use, is never overwritten.
	collideName, _ := masking.SecretName(masking.KindFunction, "collide")
	foreign := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: collideName}, StringData: map[string]string{"mine": "keep"}}
	if _, err := secrets.Create(ctx, foreign, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	_, errOut, err := kubectl(t, "admin", []byte(credentialFunction("collide")), "apply", "-n", ns, "-f", "-")
	if err == nil || !strings.Contains(errOut, collideName) {
		t.Errorf("a colliding foreign Secret should refuse the write, naming it: %v %s", err, errOut)
	}
	assertNoPlaintext(t, "refusal message", errOut)
	got, err := secrets.Get(ctx, collideName, metav1.GetOptions{})
	if err != nil || string(got.Data["mine"]) != "keep" || len(got.Data) != 1 {
		t.Errorf("foreign Secret changed: %v %v", err, got.Data)
	}
	if _, _, err := kubectl(t, "admin", nil, "get", "nfn", "collide", "-n", ns); err == nil {
		t.Error("the refused function was stored")
	}

	// Deleting a function deletes its Secret (ownerReference set once the function exists).
	mustKubectl(t, "admin", []byte(credentialFunction("gone")), "apply", "-n", ns, "-f", "-")
	goneName, _ := masking.SecretName(masking.KindFunction, "gone")
	eventually(t, 30*time.Second, func() error {
		s, err := secrets.Get(ctx, goneName, metav1.GetOptions{})
		if err != nil {
			return err
		}
		if len(s.OwnerReferences) != 1 || s.OwnerReferences[0].Kind != "NuclioFunction" {
			return fmt.Errorf("not adopted yet: %v", s.OwnerReferences)
		}
		return nil
	})
	mustKubectl(t, "admin", nil, "delete", "nfn", "gone", "-n", ns)
	eventually(t, 60*time.Second, func() error {
		if _, err := secrets.Get(ctx, goneName, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
			return fmt.Errorf("secret %s still there: %v", goneName, err)
		}
		return nil
	})
}

// TestWebhookDownFailsClosed: with nuclio-webhook stopped, a write carrying credentials is refused
// (failurePolicy Fail, and the backstop policy) and nothing is stored.
func TestWebhookDownFailsClosed(t *testing.T) {
	ctx := context.Background()
	ns := createNamespace(t, "e2e-webhook-down")
	cp.StopWebhook()
	defer func() {
		if err := cp.StartWebhook(ctx); err != nil {
			t.Fatal(err)
		}
	}()
	_, errOut, err := kubectl(t, "admin", []byte(credentialFunction("down")), "apply", "-n", ns, "-f", "-")
	if err == nil {
		t.Fatal("write accepted while the webhook was down")
	}
	assertNoPlaintext(t, "error", errOut)
	if _, err := nuclio.NuclioV1beta1().NuclioFunctions(ns).Get(ctx, "down", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("function stored while the webhook was down: %v", err)
	}
	assertStorageClean(t)
}
