// Copyright The nuclio-apiserver Authors.
// SPDX-License-Identifier: Apache-2.0

package chart

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	yamlv3 "go.yaml.in/yaml/v3"
	kjson "sigs.k8s.io/json"
	"sigs.k8s.io/yaml"
)

// strictJSON decodes JSON into target, refusing unknown and duplicate fields.
func strictJSON(data []byte, target interface{}) error {
	strictErrs, err := kjson.UnmarshalStrict(data, target)
	if err != nil {
		return err
	}
	if len(strictErrs) > 0 {
		return fmt.Errorf("%v", strictErrs)
	}
	return nil
}

// values returns the effective values of a value set: the chart's values.yaml with the set's files merged
// over it the way Helm merges them (maps recursively, anything else replaced).
func values(t *testing.T, vs valueSet) map[string]interface{} {
	t.Helper()
	v := readYAMLMap(t, filepath.Join(chartDir, "values.yaml"))
	for _, f := range vs.files {
		v = merge(v, readYAMLMap(t, f))
	}
	if len(vs.sets) > 0 {
		t.Fatalf("values() does not interpret --set (%v)", vs.sets)
	}
	return v
}

func readYAMLMap(t *testing.T, path string) map[string]interface{} {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]interface{}{}
	if err := yaml.Unmarshal(data, &m); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return m
}

func merge(dst, src map[string]interface{}) map[string]interface{} {
	out := map[string]interface{}{}
	for k, v := range dst {
		out[k] = v
	}
	for k, v := range src {
		if sm, ok := v.(map[string]interface{}); ok {
			if dm, ok := out[k].(map[string]interface{}); ok {
				out[k] = merge(dm, sm)
				continue
			}
		}
		out[k] = v
	}
	return out
}

// get reads a dotted path from values.
func get(v map[string]interface{}, path string) interface{} {
	var cur interface{} = v
	for _, p := range strings.Split(path, ".") {
		m, ok := cur.(map[string]interface{})
		if !ok {
			return nil
		}
		cur = m[p]
	}
	return cur
}

func getString(v map[string]interface{}, path string) string {
	s, _ := get(v, path).(string)
	return s
}

func getBool(v map[string]interface{}, path string) bool {
	b, _ := get(v, path).(bool)
	return b
}

func getStrings(v map[string]interface{}, path string) []string {
	var out []string
	l, _ := get(v, path).([]interface{})
	for _, e := range l {
		out = append(out, fmt.Sprint(e))
	}
	return out
}

func getInt(v map[string]interface{}, path string) (int, bool) {
	switch n := get(v, path).(type) {
	case float64:
		return int(n), true
	case int64:
		return int(n), true
	case int:
		return n, true
	}
	return 0, false
}

// schemaNode is the part of values.schema.json this test walks.
type schemaNode struct {
	Ref                  string                 `json:"$ref"`
	Type                 interface{}            `json:"type"`
	Properties           map[string]*schemaNode `json:"properties"`
	AdditionalProperties interface{}            `json:"additionalProperties"`
	Required             []string               `json:"required"`
	Definitions          map[string]*schemaNode `json:"definitions"`
}

func loadSchema(t *testing.T) *schemaNode {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(chartDir, "values.schema.json"))
	if err != nil {
		t.Fatal(err)
	}
	s := &schemaNode{}
	if err := json.Unmarshal(data, s); err != nil {
		t.Fatal(err)
	}
	return s
}

func (s *schemaNode) resolve(root *schemaNode) *schemaNode {
	if s.Ref == "" {
		return s
	}
	return root.Definitions[strings.TrimPrefix(s.Ref, "#/definitions/")]
}

// documentedLeaves walks values.yaml (with its comments) and the schema in step, following the helm-docs
// convention: a key with a "# -- description" comment is a documented value (whatever its type); a key
// without one must be a mapping of further keys, which the schema must describe property by property
// (with additionalProperties false and every key required). It returns the dotted paths of the values.
func documentedLeaves(t *testing.T) []string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(chartDir, "values.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var doc yamlv3.Node
	if err := yamlv3.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	root := loadSchema(t)
	var leaves []string
	var walk func(node *yamlv3.Node, schema *schemaNode, prefix string)
	walk = func(node *yamlv3.Node, schema *schemaNode, prefix string) {
		if node.Kind != yamlv3.MappingNode {
			t.Errorf("values.yaml %s: want a mapping", prefix)
			return
		}
		if schema.AdditionalProperties != false {
			t.Errorf("values.schema.json %s: additionalProperties must be false for a structured object", prefix)
		}
		seen := map[string]bool{}
		for i := 0; i < len(node.Content); i += 2 {
			key, val := node.Content[i], node.Content[i+1]
			path := strings.TrimPrefix(prefix+"."+key.Value, ".")
			seen[key.Value] = true
			prop, ok := schema.Properties[key.Value]
			if !ok {
				t.Errorf("values.yaml %s is not in values.schema.json", path)
				continue
			}
			prop = prop.resolve(root)
			if strings.HasPrefix(strings.TrimSpace(key.HeadComment), "# --") || strings.Contains(key.HeadComment, "\n# --") {
				leaves = append(leaves, path)
				continue
			}
			if val.Kind != yamlv3.MappingNode || prop.Properties == nil {
				t.Errorf("values.yaml %s: document it with a \"# -- ...\" comment above the key", path)
				continue
			}
			walk(val, prop, path)
		}
		for name := range schema.Properties {
			if !seen[name] && !(prefix == "" && name == "global") {
				t.Errorf("values.schema.json %s.%s has no default in values.yaml", prefix, name)
			}
		}
		req := map[string]bool{}
		for _, r := range schema.Required {
			req[r] = true
		}
		for name := range seen {
			if !req[name] {
				t.Errorf("values.schema.json %s: %s should be required (values.yaml always sets it)", prefix, name)
			}
		}
	}
	walk(doc.Content[0], root, "")
	sort.Strings(leaves)
	return leaves
}

// TestValuesDocumented checks that every value is described in values.yaml, typed in values.schema.json
// and listed in the chart's README, and that the README lists no value that does not exist.
func TestValuesDocumented(t *testing.T) {
	leaves := documentedLeaves(t)
	if len(leaves) < 50 {
		t.Fatalf("only %d values found; the walk is broken", len(leaves))
	}
	readme, err := os.ReadFile(filepath.Join(chartDir, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, table, ok := strings.Cut(string(readme), "\n## Values\n")
	if !ok {
		t.Fatal(`README.md has no "## Values" section`)
	}
	rows := map[string]bool{}
	for _, m := range regexp.MustCompile("(?m)^\\| `([A-Za-z0-9_.]+)` \\|").FindAllStringSubmatch(table, -1) {
		rows[m[1]] = true
	}
	known := map[string]bool{}
	for _, l := range leaves {
		known[l] = true
		if !rows[l] {
			t.Errorf("README.md has no table row for `%s`", l)
		}
	}
	for r := range rows {
		if !known[r] {
			t.Errorf("README.md documents `%s`, which is not a value", r)
		}
	}
}
