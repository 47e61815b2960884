// Copyright The nuclio-apiserver Authors.
// SPDX-License-Identifier: Apache-2.0

package registry

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/nuclio-apiserver/nuclio-apiserver/apis/nuclio"
)

var projectTable = TableConvertor[*nuclio.NuclioProject]{Columns: []Column[*nuclio.NuclioProject]{
	{Name: "Owner", Type: "string", Value: func(p *nuclio.NuclioProject) interface{} { return p.Spec.Owner }},
	{Name: "Description", Type: "string", Priority: 1, Value: func(p *nuclio.NuclioProject) interface{} { return p.Spec.Description }},
}}

func project(name, rv string) nuclio.NuclioProject {
	return nuclio.NuclioProject{ObjectMeta: metav1.ObjectMeta{Name: name, ResourceVersion: rv}, Spec: nuclio.ProjectSpec{Owner: "o-" + name, Description: "d"}}
}

func TestTableConvertor(t *testing.T) {
	ctx := context.Background()
	list := &nuclio.NuclioProjectList{
		ListMeta: metav1.ListMeta{ResourceVersion: "42", Continue: "next", RemainingItemCount: ptr.To[int64](7)},
		Items:    []nuclio.NuclioProject{project("a", "1"), project("b", "2")},
	}
	single := project("c", "3")

	// Columns: NAME first, AGE last, priorities kept (-o wide shows priority 1).
	table, err := projectTable.ConvertToTable(ctx, list, nil)
	if err != nil {
		t.Fatal(err)
	}
	type col struct {
		Name, Type, Format string
		Priority           int32
	}
	var cols []col
	for _, c := range table.ColumnDefinitions {
		cols = append(cols, col{c.Name, c.Type, c.Format, c.Priority})
	}
	wantCols := []col{{"Name", "string", "name", 0}, {"Owner", "string", "", 0}, {"Description", "string", "", 1}, {"Age", "date", "", 0}}
	if diff := cmp.Diff(wantCols, cols); diff != "" {
		t.Errorf("columns (-want +got):\n%s", diff)
	}

	// A list keeps its paging state, so that kubectl get --chunk-size and watch-after-list work.
	if table.ResourceVersion != "42" || table.Continue != "next" || table.RemainingItemCount == nil || *table.RemainingItemCount != 7 {
		t.Errorf("list metadata = %q/%q/%v, want 42/next/7", table.ResourceVersion, table.Continue, table.RemainingItemCount)
	}
	wantRows := [][]interface{}{{"a", "o-a", "d", "<unknown>"}, {"b", "o-b", "d", "<unknown>"}}
	if len(table.Rows) != 2 {
		t.Fatalf("%d rows, want 2", len(table.Rows))
	}
	for i, row := range table.Rows {
		if diff := cmp.Diff(wantRows[i], row.Cells); diff != "" {
			t.Errorf("row %d (-want +got):\n%s", i, diff)
		}
		if row.Object.Object != &list.Items[i] {
			t.Errorf("row %d does not reference its item", i)
		}
	}

	// A single object: one row, its resourceVersion.
	table, err = projectTable.ConvertToTable(ctx, &single, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(table.Rows) != 1 || table.ResourceVersion != "3" || table.Continue != "" {
		t.Errorf("single object: %d rows, rv %q, continue %q", len(table.Rows), table.ResourceVersion, table.Continue)
	}

	// NoHeaders (kubectl get --no-headers on later pages) drops the definitions, not the rows.
	table, err = projectTable.ConvertToTable(ctx, list, &metav1.TableOptions{NoHeaders: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(table.ColumnDefinitions) != 0 || len(table.Rows) != 2 || len(table.Rows[0].Cells) != 4 {
		t.Errorf("noHeaders: %d columns, %d rows", len(table.ColumnDefinitions), len(table.Rows))
	}

	// Age is rendered for a real creation time.
	aged := project("d", "4")
	aged.CreationTimestamp = metav1.Unix(1, 0)
	table, err = projectTable.ConvertToTable(ctx, &aged, nil)
	if err != nil {
		t.Fatal(err)
	}
	if age, ok := table.Rows[0].Cells[3].(string); !ok || age == "" || age == "<unknown>" {
		t.Errorf("age cell = %#v", table.Rows[0].Cells[3])
	}

	// Objects of another kind are an error, not an empty row.
	if _, err := projectTable.ConvertToTable(ctx, &nuclio.NuclioFunction{}, nil); err == nil {
		t.Error("a function printed as a project row")
	}
	if _, err := projectTable.ConvertToTable(ctx, &nuclio.NuclioFunctionList{Items: []nuclio.NuclioFunction{{}}}, nil); err == nil {
		t.Error("a function list printed as project rows")
	}
}
