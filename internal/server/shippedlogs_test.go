package server

import (
	"strings"
	"testing"
)

func TestLastLines(t *testing.T) {
	text := "1\n2\n3\n4\n5"
	for n, want := range map[int]string{0: "", 1: "5", 2: "4\n5", 5: "1\n2\n3\n4\n5", 9: "1\n2\n3\n4\n5"} {
		got, err := lastLines(strings.NewReader(text), n)
		if err != nil || strings.Join(got, "") != want {
			t.Errorf("lastLines(%d) = %q, %v; want %q", n, strings.Join(got, ""), err, want)
		}
	}
}

func TestShippedExecutor(t *testing.T) {
	for name, want := range map[string]string{"pi-0123456789abcdef-exec-12": "12", "my-exec-app-3fa-exec-1": "1", "pi-0123456789abcdef-driver": ""} {
		id, ok := shippedExecutor(name)
		if id != want || ok != (want != "") {
			t.Errorf("shippedExecutor(%q) = %q, %v; want %q", name, id, ok, want)
		}
	}
}
