package masking_test

import (
	"encoding/json"
	"fmt"
	"math/rand"
	"sort"
	"testing"

	"github.com/nuclio-apiserver/nuclio-apiserver/pkg/masking"
)

// credentialedFunction carries credentials in every placement the webhook must handle: Kafka SASL and
// OAuth, Kafka TLS material, Kinesis keys, a RabbitMQ URL with userinfo, v3io and MQTT passwords,
// EventHub, Pub/Sub and IoT Core keys, S3 and git code-entry credentials, every code-entry header, a
// dataBinding URL and secret, a flexVolume access key and the Kafka annotations. Written for these tests.
const credentialedFunction = `{
  "apiVersion": "nuclio.io/v1beta1",
  "kind": "NuclioFunction",
  "metadata": {
    "name": "orders",
    "namespace": "team-a",
    "labels": {"nuclio.io/project-name": "shop"},
    "annotations": {
      "nuclio.io/kafka-sasl-password": "annotation-sasl-pw",
      "nuclio.io/kafka-ca-cert": "annotation-ca-pem",
      "description": "not a secret"
    }
  },
  "spec": {
    "runtime": "python:3.9",
    "handler": "main:handler",
    "env": [{"name": "LOG_LEVEL", "value": "debug"}],
    "resources": {"requests": {"cpu": "25m", "memory": "1Mi"}, "limits": {"cpu": "200m", "memory": "200Mi"}},
    "minReplicas": 1,
    "maxReplicas": 3,
    "targetCPU": 75,
    "build": {
      "codeEntryType": "s3",
      "image": "registry.example/orders:latest",
      "timestamp": 1712345678901234567,
      "codeEntryAttributes": {
        "s3Bucket": "bucket",
        "s3ItemKey": "orders.zip",
        "s3AccessKeyId": "AKIAEXAMPLE",
        "s3SecretAccessKey": "s3-secret-key",
        "s3SessionToken": "s3-session-token",
        "workDir": "/src",
        "password": "git-password",
        "headers": {
          "Authorization": "Bearer header-token",
          "X-V3io-Session-Key": "S3cr3t-v3io-session",
          "X-Api-Key": "custom-header-key"
        }
      }
    },
    "triggers": {
      "kafka": {
        "kind": "kafka-cluster", "class": "", "name": "kafka", "numWorkers": 2,
        "attributes": {
          "brokers": ["kafka-0:9092", "kafka-1:9092"],
          "topics": ["orders"],
          "caCert": "kafka-ca-pem",
          "accessKey": "kafka-access-key",
          "accessCertificate": "kafka-access-cert",
          "sasl": {
            "enable": true, "user": "svc", "password": "S3cr3t-sasl",
            "oauth": {"clientId": "client", "clientSecret": "kafka-oauth-secret", "tokenURL": "https://idp.example/token"}
          }
        }
      },
      "kinesis": {
        "kind": "kinesis",
        "attributes": {"accessKeyID": "AKIAKINESIS", "secretAccessKey": "kinesis-secret", "regionName": "us-east-1",
                       "streamName": "s", "shards": [0, 1]}
      },
      "rmq": {"kind": "rabbit-mq", "url": "amqp://user:rabbit-password@rabbitmq:5672", "attributes": {"exchangeName": "x"}},
      "v3io": {"kind": "v3ioStream", "url": "http://v3io-webapi:8081/container/stream", "username": "admin", "password": "v3io-access-key"},
      "mqtt": {"kind": "mqtt", "url": "tcp://mqtt:1883", "username": "m", "password": "mqtt-password"},
      "eventhub": {"kind": "eventhub", "attributes": {"sharedAccessKeyName": "listen", "sharedAccessKeyValue": "eventhub-key", "namespace": "ns"}},
      "pubsub": {"kind": "pubsub", "attributes": {"projectID": "p", "credentials": {"contents": "{\"type\":\"service_account\"}"}}},
      "iot": {"kind": "iotCoreMqtt", "attributes": {"deviceID": "d", "privateKey": {"contents": "-----BEGIN PRIVATE KEY-----"}}},
      "nats": {"kind": "nats", "url": "nats://nats:4222"},
      "http": {"kind": "http", "numWorkers": 4, "attributes": {"serviceType": "ClusterIP", "ingresses": {"i": {"host": "h.example", "paths": ["/"]}}}}
    },
    "dataBindings": {"db": {"class": "v3io", "url": "https://user:databinding-password@v3io:8443", "secret": "databinding-secret"}},
    "volumes": [
      {"volume": {"name": "fuse", "flexVolume": {"driver": "v3io/fuse", "options": {"accessKey": "flex-access-key", "container": "users"}}},
       "volumeMount": {"name": "fuse", "mountPath": "/v3io"}}
    ]
  },
  "status": {"state": "ready", "message": "$ref:status is never scrubbed"}
}`

// credentialedFunctionMasked lists the paths masking must replace in credentialedFunction.
var credentialedFunctionMasked = []string{
	"/metadata/annotations/nuclio.io/kafka-ca-cert",
	"/metadata/annotations/nuclio.io/kafka-sasl-password",
	"/spec/build/codeEntryAttributes/headers/Authorization",
	"/spec/build/codeEntryAttributes/headers/X-Api-Key",
	"/spec/build/codeEntryAttributes/headers/X-V3io-Session-Key",
	"/spec/build/codeEntryAttributes/password",
	"/spec/build/codeEntryAttributes/s3SecretAccessKey",
	"/spec/build/codeEntryAttributes/s3SessionToken",
	"/spec/dataBindings/db/secret",
	"/spec/dataBindings/db/url",
	"/spec/triggers/eventhub/attributes/sharedAccessKeyValue",
	"/spec/triggers/iot/attributes/privateKey/contents",
	"/spec/triggers/kafka/attributes/accessCertificate",
	"/spec/triggers/kafka/attributes/accessKey",
	"/spec/triggers/kafka/attributes/caCert",
	"/spec/triggers/kafka/attributes/sasl/oauth/clientSecret",
	"/spec/triggers/kafka/attributes/sasl/password",
	"/spec/triggers/kinesis/attributes/accessKeyID",
	"/spec/triggers/kinesis/attributes/secretAccessKey",
	"/spec/triggers/mqtt/password",
	"/spec/triggers/pubsub/attributes/credentials/contents",
	"/spec/triggers/rmq/url",
	"/spec/triggers/v3io/password",
	"/spec/volumes[0]/volume/flexVolume/options/accessKey",
}

// plainFunction holds nothing to mask: the common shape of an HTTP function with an ingress and a cron
// trigger.
const plainFunction = `{
  "apiVersion": "nuclio.io/v1beta1",
  "kind": "NuclioFunction",
  "metadata": {"name": "hello", "namespace": "team-a", "labels": {"nuclio.io/project-name": "default"}},
  "spec": {
    "runtime": "python:3.9", "handler": "helloworld:handler", "minReplicas": 1, "maxReplicas": 1,
    "build": {"functionSourceCode": "ZGVmIGhhbmRsZXIoY29udGV4dCwgZXZlbnQpOgogICAgcmV0dXJuICJoaSIK"},
    "triggers": {
      "default-http": {"kind": "http", "class": "", "name": "default-http", "numWorkers": 1,
        "attributes": {"serviceType": "ClusterIP"}},
      "cron": {"kind": "cron", "attributes": {"interval": "10s", "event": {"body": "tick", "headers": {"Content-Type": "text/plain"}}}}
    },
    "volumes": [{"volume": {"name": "cfg", "configMap": {"name": "cfg"}}, "volumeMount": {"name": "cfg", "mountPath": "/etc/cfg"}}]
  }
}`

// gateway is an API gateway with basic authentication.
const gateway = `{
  "apiVersion": "nuclio.io/v1beta1",
  "kind": "NuclioAPIGateway",
  "metadata": {"name": "shop", "namespace": "team-a", "labels": {"nuclio.io/project-name": "shop"},
    "annotations": {"nuclio.io/kafka-sasl-password": "not a gateway rule"}},
  "spec": {
    "host": "shop.example", "name": "shop", "authenticationMode": "basicAuth",
    "authentication": {"basicAuth": {"username": "admin", "password": "gateway-password"}},
    "upstreams": [{"kind": "nucliofunction", "nucliofunction": {"name": "orders"}}]
  }
}`

func decode(t testing.TB, s string) map[string]interface{} {
	t.Helper()
	obj, err := masking.DecodeObject([]byte(s))
	if err != nil {
		t.Fatalf("decoding test object: %v", err)
	}
	return obj
}

func ruleSet(t testing.TB, kind masking.ObjectKind, extra ...string) *masking.RuleSet {
	t.Helper()
	rs, err := masking.NewRuleSet(kind, extra)
	if err != nil {
		t.Fatalf("NewRuleSet(%s): %v", kind, err)
	}
	return rs
}

func canonical(t testing.TB, v interface{}) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("marshal: %v", err)
	}
	return string(b)
}

// generatedFunctions returns n pseudo-random functions (deterministic for a seed) whose triggers,
// code-entry attributes, dataBindings, annotations and volumes mix sensitive and harmless names at
// depths 1 to 5, with empty, plain, URL, non-string and nested values. They exercise the agreement between
// the Go rules, the backstop policy and the webhook's matchConditions.
func generatedFunctions(seed int64, n int) []map[string]interface{} {
	r := rand.New(rand.NewSource(seed))
	keys := []string{"password", "Password", "secret", "url", "URL", "attributes", "sasl", "oauth", "clientSecret",
		"accessKeyID", "secretAccessKey", "caCert", "accessKey", "accessCertificate", "sharedAccessKeyValue",
		"credentials", "privateKey", "contents", "headers", "user", "brokers", "host", "paths", "a/password", "name"}
	values := []interface{}{"", "plain-value", "amqp://u:p@host:5672", "kafka:9092", "nats://nats:4222",
		"user@host", json.Number("42"), true, nil}
	var tree func(depth int) interface{}
	tree = func(depth int) interface{} {
		switch x := r.Intn(10); {
		case depth > 0 && x < 3:
			m := map[string]interface{}{}
			for i := r.Intn(4); i >= 0; i-- {
				m[keys[r.Intn(len(keys))]] = tree(depth - 1)
			}
			return m
		case depth > 0 && x == 3:
			l := []interface{}{}
			for i := r.Intn(3); i >= 0; i-- {
				l = append(l, tree(depth-1))
			}
			return l
		default:
			return values[r.Intn(len(values))]
		}
	}
	mapOf := func(depth int) map[string]interface{} {
		m := map[string]interface{}{}
		for i := r.Intn(4); i >= 0; i-- {
			m[keys[r.Intn(len(keys))]] = tree(depth)
		}
		return m
	}
	out := make([]map[string]interface{}, 0, n)
	for i := 0; i < n; i++ {
		spec := map[string]interface{}{"runtime": "python:3.9"}
		triggers := map[string]interface{}{}
		for j := r.Intn(3); j >= 0; j-- {
			triggers[fmt.Sprintf("t%d", j)] = mapOf(4)
		}
		spec["triggers"] = triggers
		if r.Intn(3) == 0 {
			spec["build"] = map[string]interface{}{"codeEntryAttributes": mapOf(2)}
		}
		if r.Intn(4) == 0 {
			spec["dataBindings"] = map[string]interface{}{"db": mapOf(2)}
		}
		if r.Intn(4) == 0 {
			spec["volumes"] = []interface{}{map[string]interface{}{"volume": map[string]interface{}{
				"name": "v", "flexVolume": map[string]interface{}{"options": map[string]interface{}{"accessKey": values[r.Intn(3)]}}}}}
		}
		md := map[string]interface{}{"name": fmt.Sprintf("gen-%d", i), "namespace": "gen"}
		if r.Intn(3) == 0 {
			md["annotations"] = map[string]interface{}{
				[]string{"nuclio.io/kafka-sasl-password", "nuclio.io/kafka-ca-cert", "other/annotation"}[r.Intn(3)]: values[r.Intn(3)],
			}
		}
		out = append(out, map[string]interface{}{"apiVersion": "nuclio.io/v1beta1", "kind": "NuclioFunction",
			"metadata": md, "spec": spec})
	}
	return out
}

func sortedCopy(s []string) []string {
	out := append([]string(nil), s...)
	sort.Strings(out)
	return out
}
