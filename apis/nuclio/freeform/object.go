// Copyright The nuclio-apiserver Authors.
// SPDX-License-Identifier: Apache-2.0

// Package freeform holds the schema-less JSON object type that Nuclio uses for kind-specific settings
// (trigger `attributes`, `build.codeEntryAttributes`, `runtimeAttributes`, `platform.attributes`,
// function event `attributes`, status `logs` records).
//
// Nuclio declares these fields as Go `map[string]interface{}` and reads them per trigger kind or runtime
// (nuclio/nuclio:pkg/functionconfig/types.go), so the server must keep whatever JSON a client sends there,
// unknown keys and nesting included, while every other field stays strictly typed.
package freeform

import (
	"encoding/json"
	"fmt"
)

// Object is an arbitrary JSON object. Values are what a JSON decoder yields: nil, bool, string, int64 or
// float64 (the Kubernetes serializers keep integers as int64), json.Number, []interface{} and
// map[string]interface{}. Go code may also store other JSON-marshalable values; DeepCopy normalises
// those through a JSON round trip.
//
// openapi-gen inlines named map types, so the published schema of every Object field is set by
// pkg/openapi: `type: object` with `x-kubernetes-preserve-unknown-fields: true`, the shape Nuclio's CRDs
// give the whole spec, which server-side apply treats as a free-form value.
type Object map[string]interface{}

// DeepCopyInto copies in into out; both may be nil. Used by the generated deepcopy functions.
func (in Object) DeepCopyInto(out *Object) {
	if in == nil {
		*out = nil
		return
	}
	copied := make(Object, len(in))
	for k, v := range in {
		copied[k] = deepCopyValue(v)
	}
	*out = copied
}

// DeepCopy returns a copy of in that shares no mutable state with it (nil for nil).
func (in Object) DeepCopy() Object {
	var out Object
	in.DeepCopyInto(&out)
	return out
}

// deepCopyValue copies one JSON value. Immutable scalars are returned as they are; containers are copied
// recursively; anything else (a struct or typed slice put there by Go code) is copied through JSON so
// the copy can never alias the original.
func deepCopyValue(v interface{}) interface{} {
	switch t := v.(type) {
	case nil, bool, string, json.Number,
		int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64, float32, float64:
		return t
	case map[string]interface{}:
		out := make(map[string]interface{}, len(t))
		for k, e := range t {
			out[k] = deepCopyValue(e)
		}
		return out
	case Object:
		return t.DeepCopy()
	case []interface{}:
		out := make([]interface{}, len(t))
		for i, e := range t {
			out[i] = deepCopyValue(e)
		}
		return out
	case map[string]string:
		out := make(map[string]string, len(t))
		for k, e := range t {
			out[k] = e
		}
		return out
	case []string:
		return append([]string(nil), t...)
	default:
		raw, err := json.Marshal(t)
		if err != nil {
			// Only reachable from Go code that stored a value JSON cannot represent (a channel, a func):
			// such an object could never have been encoded or stored either.
			panic(fmt.Sprintf("freeform: cannot deep-copy value of type %T: %v", t, err))
		}
		var out interface{}
		if err := json.Unmarshal(raw, &out); err != nil {
			panic(fmt.Sprintf("freeform: cannot deep-copy value of type %T: %v", t, err))
		}
		return out
	}
}

// String returns a value of o as a string when it is one; ok is false when the key is missing or holds
// another type.
func (in Object) String(key string) (value string, ok bool) {
	value, ok = in[key].(string)
	return value, ok
}

// Map returns the nested object at key when it is a JSON object.
func (in Object) Map(key string) (map[string]interface{}, bool) {
	switch t := in[key].(type) {
	case map[string]interface{}:
		return t, true
	case Object:
		return t, true
	}
	return nil, false
}
