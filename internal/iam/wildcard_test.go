package iam

import "testing"

func TestGlob(t *testing.T) {
	tests := []struct {
		pattern, s string
		want       bool
	}{
		{"*", "", true},
		{"*", "anything:at/all", true},
		{"**", "x", true},
		{"", "", true},
		{"", "a", false},
		{"abc", "abc", true},
		{"abc", "ABC", false}, // case-sensitive; callers fold case where a rule says so
		{"abc", "abcd", false},
		{"ab*", "ab", true},
		{"ab*", "abzzz", true},
		{"ab*", "a", false},
		{"*bc", "abc", true},
		{"*bc", "bcx", false},
		{"a*c", "ac", true},
		{"a*c", "abbbc", true},
		{"a*c", "abcb", false},
		{"a?c", "abc", true},
		{"a?c", "ac", false},
		{"a?c", "abbc", false},
		{"a?c", "aéc", true}, // '?' is one character, not one byte
		{"?", "é", true},
		{"??", "é", false},
		{"*?", "", false},
		{"*?", "é", true},
		{"a*b*c", "a-b-b-c", true},
		{"a*b*c", "a-c-b", false},
		{"*a*a*a*a*b", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", false}, // greedy matcher stays linear
		{"s3:get*", "s3:getobject", true},
		{"emr-containers:*jobrun*", "emr-containers:startjobrun", true},
		{"emr-containers:describe?", "emr-containers:describe", false},
		{"literal?*", "literal", false},
		{"*:*", "emr-containers:startjobrun", true},
	}
	for _, tt := range tests {
		if got := compileGlob(tt.pattern).match(tt.s); got != tt.want {
			t.Errorf("glob %q matching %q = %v, want %v", tt.pattern, tt.s, got, tt.want)
		}
	}
}

func TestResourcePattern(t *testing.T) {
	const vc = "arn:aws:emr-containers:us-east-1:123456789012:/virtualclusters/abc"
	tests := []struct {
		name, pattern, s string
		want             bool
	}{
		{"star matches every resource", "*", vc, true},
		{"star matches the no-resource marker", "*", "*", true},
		{"an ARN does not match the no-resource marker", "arn:aws:emr-containers:*:*:*", "*", false},
		{"exact", vc, vc, true},
		{"case-sensitive", vc, "arn:aws:emr-containers:us-east-1:123456789012:/virtualclusters/ABC", false},
		{"trailing star takes the rest", "arn:aws:emr-containers:us-east-1:123456789012:/virtualclusters/*", vc + "/jobruns/j1", true},
		{"trailing star needs the prefix", "arn:aws:emr-containers:us-east-1:123456789012:/jobtemplates/*", vc, false},
		{"star per segment: any region and account", "arn:aws:emr-containers:*:*:/virtualclusters/abc", vc, true},
		{"star per segment still needs the rest", "arn:aws:emr-containers:*:*:/virtualclusters/abd", vc, false},
		{"question mark in a segment", "arn:aws:emr-containers:us-east-?:123456789012:/virtualclusters/abc", vc, true},
		{"question mark never matches a colon", "arn:aws:s3:::a?z", "arn:aws:s3:::a:z", false},
		{"inner star stays inside its segment", "arn:aws:s3:::a*z", "arn:aws:s3:::a:z", false},
		{"inner star within the segment", "arn:aws:s3:::a*z", "arn:aws:s3:::a/b/z", true},
		{"segment-ending star crosses colons", "arn:aws:logs:us-east-1:1:log-group:*:x", "arn:aws:logs:us-east-1:1:log-group:a:b:x", true},
		{"segment-ending star then a literal segment that is missing", "arn:aws:logs:us-east-1:1:log-group:*:x", "arn:aws:logs:us-east-1:1:log-group:a:b:y", false},
		{"empty segments are segments", "arn:aws:s3:::b?cket", "arn:aws:s3:::bucket", true},
		{"account star does not swallow a missing segment", "arn:aws:s3:*:b?", "arn:aws:s3", false},
		{"star as the whole region segment matches an empty region", "arn:aws:iam:*:123:user/?ob", "arn:aws:iam::123:user/bob", true},
		{"too few segments", "arn:aws:iam:*:123:user/?ob", "arn:aws:iam:123:user/bob", false},
		{"job runs of any cluster", "arn:aws:emr-containers:us-east-1:123456789012:/virtualclusters/*/jobruns/*", vc + "/jobruns/j1", true},
		{"job runs pattern does not match the cluster itself", "arn:aws:emr-containers:us-east-1:123456789012:/virtualclusters/*/jobruns/*", vc, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := compileResource(tt.pattern)
			if got := r.match(tt.s); got != tt.want {
				t.Errorf("resource %q matching %q = %v, want %v", tt.pattern, tt.s, got, tt.want)
			}
		})
	}
}
