// Copyright The nuclio-apiserver Authors.
// SPDX-License-Identifier: Apache-2.0

package registry

import (
	"context"
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/duration"
	"k8s.io/apiserver/pkg/registry/rest"
)

// Column is one server-side printed column. Priority 0 columns are always shown; priority 1 only with
// `kubectl get -o wide`.
type Column[T Object] struct {
	Name        string
	Type        string // string, integer, date, ...
	Description string
	Priority    int32
	Value       func(obj T) interface{}
}

// TableConvertor prints objects of one kind as a metav1.Table (what kubectl get shows). NAME comes first
// and AGE last, as for built-in kinds.
type TableConvertor[T Object] struct {
	Columns []Column[T]
}

var _ rest.TableConvertor = TableConvertor[Object]{}

// ConvertToTable converts a single object or a list.
func (c TableConvertor[T]) ConvertToTable(_ context.Context, object runtime.Object, tableOptions runtime.Object) (*metav1.Table, error) {
	table := &metav1.Table{}
	opts, _ := tableOptions.(*metav1.TableOptions)
	if opts == nil || !opts.NoHeaders {
		table.ColumnDefinitions = append(table.ColumnDefinitions, metav1.TableColumnDefinition{
			Name: "Name", Type: "string", Format: "name", Description: "Name of the object (metadata.name).",
		})
		for _, col := range c.Columns {
			table.ColumnDefinitions = append(table.ColumnDefinitions, metav1.TableColumnDefinition{
				Name: col.Name, Type: col.Type, Description: col.Description, Priority: col.Priority,
			})
		}
		table.ColumnDefinitions = append(table.ColumnDefinitions, metav1.TableColumnDefinition{
			Name: "Age", Type: "date", Description: "Time since creation (metadata.creationTimestamp).",
		})
	}

	addRow := func(obj runtime.Object) error {
		o, ok := obj.(T)
		if !ok {
			return fmt.Errorf("cannot print %T as a table row", obj)
		}
		cells := make([]interface{}, 0, len(c.Columns)+2)
		cells = append(cells, o.GetName())
		for _, col := range c.Columns {
			cells = append(cells, col.Value(o))
		}
		cells = append(cells, age(o.GetCreationTimestamp()))
		table.Rows = append(table.Rows, metav1.TableRow{Cells: cells, Object: runtime.RawExtension{Object: obj}})
		return nil
	}

	if meta.IsListType(object) {
		if err := meta.EachListItem(object, addRow); err != nil {
			return nil, err
		}
		if l, err := meta.ListAccessor(object); err == nil {
			table.ResourceVersion = l.GetResourceVersion()
			table.Continue = l.GetContinue()
			table.RemainingItemCount = l.GetRemainingItemCount()
		}
		return table, nil
	}
	if err := addRow(object); err != nil {
		return nil, err
	}
	if m, err := meta.Accessor(object); err == nil {
		table.ResourceVersion = m.GetResourceVersion()
	}
	return table, nil
}

// age renders a creation time the way kubectl does ("5m", "2d3h"); "<unknown>" when unset.
func age(t metav1.Time) string {
	if t.IsZero() {
		return "<unknown>"
	}
	return duration.HumanDuration(time.Since(t.Time))
}
