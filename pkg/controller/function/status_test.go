// Copyright The nuclio-apiserver Authors.
// SPDX-License-Identifier: Apache-2.0

package function

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestEventNote(t *testing.T) {
	if got := eventNote("short"); got != "short" {
		t.Errorf("eventNote(short) = %q", got)
	}
	long := "build Job x failed: container kaniko exited with code 1:\n" + strings.Repeat("line é\n", 400) + "error: the reason"
	got := eventNote(long)
	if len(got) > maxEventNote || !utf8.ValidString(got) {
		t.Fatalf("note of %d bytes, valid UTF-8 %v", len(got), utf8.ValidString(got))
	}
	if !strings.HasPrefix(got, "build Job x failed") || !strings.HasSuffix(got, "error: the reason") {
		t.Errorf("note %q must keep the summary and the last lines", got)
	}
}

func TestTruncate(t *testing.T) {
	s := strings.Repeat("é", maxMessageLength)
	got := truncate(s)
	if len(got) > maxMessageLength || !utf8.ValidString(got) {
		t.Errorf("truncate: %d bytes, valid %v", len(got), utf8.ValidString(got))
	}
}
