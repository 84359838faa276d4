package runware

import (
	"fmt"
	"reflect"
	"testing"
)

func TestParseEnvelopeShapes(t *testing.T) {
	type want struct {
		data      int
		errs      int
		code      string
		taskUUID  string
		param     string
		allowed   []string
		notJSON   bool
		firstStat string
	}
	cases := []struct {
		name string
		body string
		want want
	}{
		{"data only", `{"data":[{"taskType":"videoInference","taskUUID":"a"}]}`,
			want{data: 1}},
		{"errors only", `{"errors":[{"code":"invalidApiKey","message":"bad","parameter":"apiKey","taskType":"authentication"}]}`,
			want{errs: 1, code: "invalidApiKey", param: "apiKey"}},
		{"both", `{"data":[{"taskUUID":"a"}],"errors":[{"code":"invalidWidth","taskUUID":"b"}]}`,
			want{data: 1, errs: 1, code: "invalidWidth", taskUUID: "b"}},
		{"neither", `{}`, want{}},
		{"error object with top-level taskUUID", `{"error":{"code":"serverError","message":"x"},"taskUUID":"t1"}`,
			want{errs: 1, code: "serverError", taskUUID: "t1"}},
		{"error string", `{"error":"something broke"}`, want{errs: 1}},
		{"bare array of errors", `[{"code":"rateLimitExceeded","message":"slow down"}]`,
			want{errs: 1, code: "rateLimitExceeded"}},
		{"bare array mixed", `[{"taskUUID":"a","status":"processing"},{"status":"error","taskUUID":"b"}]`,
			want{data: 1, errs: 1, taskUUID: "b", firstStat: "processing"}},
		{"parameter as array", `{"errors":[{"code":"invalidParameter","parameter":["inputs","video"]}]}`,
			want{errs: 1, code: "invalidParameter", param: "inputs,video"}},
		{"allowedValues array", `{"errors":[{"code":"invalidOutputFormat","allowedValues":["MP4","WEBM","MOV"]}]}`,
			want{errs: 1, code: "invalidOutputFormat", allowed: []string{"MP4", "WEBM", "MOV"}}},
		{"allowedValues numeric-key object", `{"errors":[{"code":"invalidOutputFormat","allowedValues":{"2":"MOV","0":"MP4","1":"WEBM","10":"X"}}]}`,
			want{errs: 1, code: "invalidOutputFormat", allowed: []string{"MP4", "WEBM", "MOV", "X"}}},
		{"allowedValues numbers", `{"errors":[{"code":"invalidNumberResults","allowedValues":[1,2,3,4]}]}`,
			want{errs: 1, code: "invalidNumberResults", allowed: []string{"1", "2", "3", "4"}}},
		{"data item with embedded error", `{"data":[{"taskUUID":"a","status":"error","error":{"code":"timeoutProvider"}}]}`,
			want{data: 1, firstStat: "error"}},
		{"html", `<html>502 Bad Gateway</html>`, want{notJSON: true}},
		{"empty", ``, want{notJSON: true}},
		{"truncated", `{"data":[`, want{notJSON: true}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			env, err := parseEnvelope([]byte(tc.body))
			if tc.want.notJSON {
				if err == nil {
					t.Fatalf("want a parse error, got %+v", env)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(env.Data) != tc.want.data || len(env.Errors) != tc.want.errs {
				t.Fatalf("data=%d errors=%d, want %d/%d", len(env.Data), len(env.Errors), tc.want.data, tc.want.errs)
			}
			if tc.want.firstStat != "" && env.Data[0].Status != tc.want.firstStat {
				t.Errorf("status %q, want %q", env.Data[0].Status, tc.want.firstStat)
			}
			if tc.want.errs == 0 {
				return
			}
			e := apiError(env.Errors[0], 400, "")
			if e.Code != tc.want.code {
				t.Errorf("code %q, want %q", e.Code, tc.want.code)
			}
			if e.TaskUUID != tc.want.taskUUID {
				t.Errorf("taskUUID %q, want %q", e.TaskUUID, tc.want.taskUUID)
			}
			if e.Parameter != tc.want.param {
				t.Errorf("parameter %q, want %q", e.Parameter, tc.want.param)
			}
			if !reflect.DeepEqual(e.AllowedValues, tc.want.allowed) {
				t.Errorf("allowedValues %q, want %q", e.AllowedValues, tc.want.allowed)
			}
		})
	}
}

func TestAPIErrorRedactsKeyAndKeepsProviderDetail(t *testing.T) {
	env, err := parseEnvelope([]byte(`{"errors":[{"code":"invalidApiKey","message":"key sk-SECRET is not valid","parameter":"apiKey=sk-SECRET","allowedValues":["sk-SECRET"],"responseContent":{"message":"upstream said no"}}]}`))
	if err != nil {
		t.Fatal(err)
	}
	e := apiError(env.Errors[0], 401, "sk-SECRET")
	if got := e.Error(); !contains(got, "REDACTED") || contains(got, "sk-SECRET") || !contains(got, "upstream said no") {
		t.Errorf("error text %q", got)
	}
	if e.Class != Fatal {
		t.Errorf("class %v, want fatal", e.Class)
	}
	if contains(e.Parameter, "sk-SECRET") || contains(fmt.Sprint(e.AllowedValues), "sk-SECRET") {
		t.Errorf("key echoed in parameter %q or allowed values %q", e.Parameter, e.AllowedValues)
	}
}
