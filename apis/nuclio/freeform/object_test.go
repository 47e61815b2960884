// Copyright The nuclio-apiserver Authors.
// SPDX-License-Identifier: Apache-2.0

package freeform

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// DeepCopy is hand-written, so it gets its own test: a copy must equal the original and share no
// mutable state with it, whatever Go code stored in the map (the round-trip fuzz test only ever puts
// JSON-decoded values there).
func TestDeepCopy(t *testing.T) {
	type custom struct {
		A []int `json:"a"`
	}
	orig := Object{
		"s":      "x",
		"i":      int64(1),
		"f":      1.5,
		"n":      json.Number("7"),
		"nil":    nil,
		"map":    map[string]interface{}{"list": []interface{}{"a", map[string]interface{}{"k": "v"}}},
		"object": Object{"k": "v"},
		"strmap": map[string]string{"k": "v"},
		"strs":   []string{"a"},
		"custom": custom{A: []int{1}},
	}
	cp := orig.DeepCopy()

	// Values Go code stored are normalised to their JSON form (the custom struct) in the copy.
	want := Object{
		"s": "x", "i": int64(1), "f": 1.5, "n": json.Number("7"), "nil": nil,
		"map":    map[string]interface{}{"list": []interface{}{"a", map[string]interface{}{"k": "v"}}},
		"object": Object{"k": "v"},
		"strmap": map[string]string{"k": "v"},
		"strs":   []string{"a"},
		"custom": map[string]interface{}{"a": []interface{}{float64(1)}},
	}
	if diff := cmp.Diff(want, cp); diff != "" {
		t.Fatalf("copy (-want +got):\n%s", diff)
	}

	// Mutating every container of the copy leaves the original alone.
	cp["map"].(map[string]interface{})["list"].([]interface{})[1].(map[string]interface{})["k"] = "changed"
	cp["object"].(Object)["k"] = "changed"
	cp["strmap"].(map[string]string)["k"] = "changed"
	cp["strs"].([]string)[0] = "changed"
	cp["s"] = "changed"
	if got := orig["map"].(map[string]interface{})["list"].([]interface{})[1].(map[string]interface{})["k"]; got != "v" {
		t.Errorf("nested list element shared: %v", got)
	}
	if orig["object"].(Object)["k"] != "v" || orig["strmap"].(map[string]string)["k"] != "v" || orig["strs"].([]string)[0] != "a" || orig["s"] != "x" {
		t.Errorf("original changed through the copy: %#v", orig)
	}

	if Object(nil).DeepCopy() != nil {
		t.Error("nil copies to non-nil")
	}
}

func TestAccessors(t *testing.T) {
	o := Object{"s": "x", "n": int64(1), "m": map[string]interface{}{"a": 1}, "o": Object{"b": 2}}
	if v, ok := o.String("s"); !ok || v != "x" {
		t.Errorf("String(s) = %q, %v", v, ok)
	}
	if _, ok := o.String("n"); ok {
		t.Error("String(n) accepted an int")
	}
	if _, ok := o.String("missing"); ok {
		t.Error("String(missing) = ok")
	}
	if m, ok := o.Map("m"); !ok || m["a"] != 1 {
		t.Errorf("Map(m) = %v, %v", m, ok)
	}
	if m, ok := o.Map("o"); !ok || m["b"] != 2 {
		t.Errorf("Map(o) = %v, %v", m, ok)
	}
	if _, ok := o.Map("s"); ok {
		t.Error("Map(s) accepted a string")
	}
}
