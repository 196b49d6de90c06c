package jobs

import "testing"

func TestCanTransition(t *testing.T) {
	for _, tc := range []struct {
		from, to JobRunState
		ok       bool
	}{
		{StatePending, StateSubmitted, true},
		{StateSubmitted, StateRunning, true},
		{StateRunning, StateCompleted, true},
		{StateRunning, StateFailed, true},
		{StatePending, StateCancelPending, true},
		{StateRunning, StateCancelPending, true},
		{StateCancelPending, StateCancelled, true},
		{StatePending, StateRunning, false},
		{StatePending, StateCompleted, false},
		{StateCompleted, StateRunning, false},
		{StateCancelled, StateCancelPending, false},
		{StateFailed, StateFailed, true},     // bookkeeping on finished runs
		{StateRunning, StateSubmitted, true}, // retry: a new driver attempt
		{StateRunning, StateRunning, true},
		{StateCancelPending, StateRunning, false},
	} {
		if got := CanTransition(tc.from, tc.to); got != tc.ok {
			t.Errorf("%s -> %s: got %v, want %v", tc.from, tc.to, got, tc.ok)
		}
	}
}

func TestSubstitute(t *testing.T) {
	def := "2"
	tmpl := JobTemplate{ID: "t", JobTemplateData: JobTemplateData{
		ExecutionRoleArn: "arn:aws:iam::000000000000:role/${R}", ReleaseLabel: "emr-6.5.0-latest",
		JobDriver: JobDriver{SparkSubmitJobDriver: &SparkSubmitJobDriver{EntryPoint: "${E}", EntryPointArguments: []string{"${N}", "lit"}}},
		ParameterConfiguration: map[string]TemplateParameterConfiguration{
			"R": {Type: ParameterString}, "E": {Type: ParameterString}, "N": {Type: ParameterNumber, DefaultValue: &def}},
	}}
	refs, err := templateReferences(tmpl.JobTemplateData)
	if err != nil || len(refs) != 3 {
		t.Fatalf("references %v %v", refs, err)
	}
	values, err := resolveParameters(tmpl, map[string]string{"R": "x", "E": "s3://a \"quoted\".py"})
	if err != nil {
		t.Fatal(err)
	}
	r, err := substitute(tmpl.JobTemplateData, values)
	if err != nil {
		t.Fatal(err)
	}
	d := r.JobDriver.SparkSubmitJobDriver
	if r.ExecutionRoleArn != "arn:aws:iam::000000000000:role/x" || d.EntryPoint != `s3://a "quoted".py` || d.EntryPointArguments[0] != "2" || d.EntryPointArguments[1] != "lit" {
		t.Fatalf("substituted %+v %+v", r, d)
	}
	for name, given := range map[string]map[string]string{
		"missing":    {"R": "x"},
		"not number": {"R": "x", "E": "e", "N": "two"},
		"undeclared": {"R": "x", "E": "e", "Z": "1"},
	} {
		if _, err := resolveParameters(tmpl, given); err == nil {
			t.Errorf("%s: accepted %v", name, given)
		}
	}
}
