package server

import "testing"

// TestResourceOf pins how the request counter names what a request touched.
func TestResourceOf(t *testing.T) {
	for path, want := range map[string]struct {
		resource   string
		collection bool
	}{
		"/api/v1/namespaces/ns/pods":                                {"pods", true},
		"/api/v1/namespaces/ns/pods/p1":                             {"pods", false},
		"/api/v1/namespaces/ns/pods/p1/log":                         {"pods/log", false},
		"/api/v1/namespaces/ns":                                     {"namespaces", false},
		"/api/v1/namespaces":                                        {"namespaces", true},
		"/api/v1/nodes":                                             {"nodes", true},
		"/apis/rbac.authorization.k8s.io/v1/namespaces/ns/roles":    {"roles", true},
		"/apis/rbac.authorization.k8s.io/v1/namespaces/ns/roles/r1": {"roles", false},
		"/healthz": {"other", false},
	} {
		r, c := resourceOf(path)
		if r != want.resource || c != want.collection {
			t.Errorf("%s: %s %v, want %s %v", path, r, c, want.resource, want.collection)
		}
	}
}
