// Copyright The nuclio-apiserver Authors.
// SPDX-License-Identifier: Apache-2.0

package chart

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestNotes renders NOTES.txt for every value set. helm template does not print the notes, so the test
// renders a copy of the chart with one more template that wraps NOTES.txt into a ConfigMap.
func TestNotes(t *testing.T) {
	helm(t)
	dir := filepath.Join(t.TempDir(), "nuclio-apiserver")
	if err := os.CopyFS(dir, os.DirFS(chartDir)); err != nil {
		t.Fatal(err)
	}
	notes, err := os.ReadFile(filepath.Join(dir, "templates", "NOTES.txt"))
	if err != nil {
		t.Fatal(err)
	}
	wrapper := `{{- define "test.notes" }}` + string(notes) + `{{- end }}
apiVersion: v1
kind: ConfigMap
metadata:
  name: notes-under-test
data:
  notes: {{ include "test.notes" . | quote }}
`
	if err := os.WriteFile(filepath.Join(dir, "templates", "zz-notes-under-test.yaml"), []byte(wrapper), fs.FileMode(0o644)); err != nil {
		t.Fatal(err)
	}
	saved := chartDir
	t.Cleanup(func() { chartDir = saved })
	for _, vs := range valueSets(t) {
		t.Run(vs.name, func(t *testing.T) {
			v := values(t, vs) // from the original chart
			chartDir = dir
			defer func() { chartDir = saved }()
			r := mustRender(t, vs)
			text, _ := r.one(t, "ConfigMap", "notes-under-test").Object["data"].(map[string]interface{})["notes"].(string)
			must := []string{"kubectl get apiservice v1beta1.nuclio.io"}
			mustNot := []string{"<no value>"}
			openIngress := getBool(v, "networkPolicy.enabled") && len(getStrings(v, "networkPolicy.apiserver.kubeAPIServerCIDRs")) == 0 &&
				len(get(v, "networkPolicy.apiserver.extraFrom").([]interface{})) == 0
			if openIngress {
				must = append(must, "WARNING: networkPolicy.apiserver.kubeAPIServerCIDRs is empty")
			} else {
				mustNot = append(mustNot, "kubeAPIServerCIDRs is empty")
			}
			if getString(v, "etcd.mode") == "embedded" && !getBool(v, "etcd.embedded.persistence.enabled") {
				must = append(must, "WARNING: etcd.embedded.persistence.enabled is false")
			}
			for _, s := range must {
				if !strings.Contains(text, s) {
					t.Errorf("notes lack %q:\n%s", s, text)
				}
			}
			for _, s := range mustNot {
				if strings.Contains(text, s) {
					t.Errorf("notes contain %q:\n%s", s, text)
				}
			}
		})
	}
}
