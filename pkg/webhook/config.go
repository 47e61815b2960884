package webhook

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	kjson "sigs.k8s.io/json"
	"sigs.k8s.io/yaml"

	"github.com/nuclio-apiserver/nuclio-apiserver/pkg/masking"
)

// Config is the webhook's configuration file (the --config flag), YAML or JSON. Unknown fields are
// errors. Example:
//
//	extraSensitivePaths: ['^/spec/env\[\d+\]/value$']
//	extraAPIGatewaySensitivePaths: []
//	allowOptOut: false
//	orphanGracePeriod: 10m
//	settlePeriod: 1m
//	resyncPeriod: 5m
type Config struct {
	// ExtraSensitivePaths are Go regular expressions over NuclioFunction paths (pkg/masking), matched
	// case-insensitively, added to the built-in list like Nuclio's customSensitiveFields. Paths outside
	// the subtrees the MutatingWebhookConfiguration's matchConditions look at require removing those
	// matchConditions, and the backstop policy does not check them.
	ExtraSensitivePaths []string `json:"extraSensitivePaths,omitempty"`
	// ExtraAPIGatewaySensitivePaths are the same for NuclioAPIGateway objects.
	ExtraAPIGatewaySensitivePaths []string `json:"extraAPIGatewaySensitivePaths,omitempty"`
	// AllowOptOut lets a function set spec.disableSensitiveFieldsMasking: true and keep its credentials
	// in plaintext. Default false: such a function is refused.
	AllowOptOut bool `json:"allowOptOut,omitempty"`
	// OrphanGracePeriod is how long a Secret written for an object that never came to exist (its create
	// was refused after this webhook ran) is kept before the reconciler deletes it. Must exceed the
	// longest time a create request can spend between this webhook and storage. Default 10m.
	OrphanGracePeriod metav1.Duration `json:"orphanGracePeriod,omitempty"`
	// SettlePeriod is how long after the webhook last wrote a Secret the reconciler waits before pruning
	// keys the stored object no longer references, so that an in-flight request is never pruned from
	// under. Default 1m.
	SettlePeriod metav1.Duration `json:"settlePeriod,omitempty"`
	// ResyncPeriod is how often the reconciler re-examines every Secret it manages (pruning after an
	// update that removed all credentials, which the webhook's matchConditions skip). Default 5m.
	ResyncPeriod metav1.Duration `json:"resyncPeriod,omitempty"`
}

// Default durations of Config.
const (
	DefaultOrphanGracePeriod = 10 * time.Minute
	DefaultSettlePeriod      = time.Minute
	DefaultResyncPeriod      = 5 * time.Minute
)

// DefaultConfig returns the configuration used when no --config is given.
func DefaultConfig() Config {
	c := Config{}
	c.setDefaults()
	return c
}

func (c *Config) setDefaults() {
	if c.OrphanGracePeriod.Duration == 0 {
		c.OrphanGracePeriod.Duration = DefaultOrphanGracePeriod
	}
	if c.SettlePeriod.Duration == 0 {
		c.SettlePeriod.Duration = DefaultSettlePeriod
	}
	if c.ResyncPeriod.Duration == 0 {
		c.ResyncPeriod.Duration = DefaultResyncPeriod
	}
}

// LoadConfig parses a configuration file strictly (unknown fields are errors), applies the defaults and
// validates the result.
func LoadConfig(data []byte) (Config, error) {
	js, err := yaml.YAMLToJSON(data)
	if err != nil {
		return Config{}, fmt.Errorf("webhook config: not valid YAML: %w", err)
	}
	// Check durations first so that a bad one is reported with its field name.
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(js, &fields); err != nil {
		return Config{}, fmt.Errorf("webhook config: must be a mapping: %w", err)
	}
	for _, name := range []string{"orphanGracePeriod", "settlePeriod", "resyncPeriod"} {
		if raw, ok := fields[name]; ok {
			var d metav1.Duration
			if err := json.Unmarshal(raw, &d); err != nil {
				return Config{}, fmt.Errorf("webhook config: %s: must be a duration such as 90s or 10m: %w", name, err)
			}
		}
	}
	var c Config
	// Case-sensitive and strict, as Kubernetes decodes its own configuration files.
	strictErrs, err := kjson.UnmarshalStrict(js, &c)
	if err != nil {
		return Config{}, fmt.Errorf("webhook config: %w", err)
	}
	if len(strictErrs) > 0 {
		return Config{}, fmt.Errorf("webhook config: %w", errors.Join(strictErrs...))
	}
	c.setDefaults()
	if err := c.Validate(); err != nil {
		return Config{}, err
	}
	return c, nil
}

// Validate returns an error naming the first invalid field: a sensitive path that is not a valid regular
// expression, or a negative duration.
func (c Config) Validate() error {
	if _, err := masking.NewRuleSet(masking.KindFunction, c.ExtraSensitivePaths); err != nil {
		return fmt.Errorf("webhook config: extraSensitivePaths: %w", err)
	}
	if _, err := masking.NewRuleSet(masking.KindAPIGateway, c.ExtraAPIGatewaySensitivePaths); err != nil {
		return fmt.Errorf("webhook config: extraAPIGatewaySensitivePaths: %w", err)
	}
	for name, d := range map[string]time.Duration{
		"orphanGracePeriod": c.OrphanGracePeriod.Duration,
		"settlePeriod":      c.SettlePeriod.Duration,
		"resyncPeriod":      c.ResyncPeriod.Duration,
	} {
		if d < 0 {
			return fmt.Errorf("webhook config: %s: must not be negative", name)
		}
	}
	return nil
}
