package emulator

import (
	"net/http"
	"strings"
	"testing"
)

func TestMethodContentTypeAndBody(t *testing.T) {
	v := newEnv(t, Options{})
	req, _ := http.NewRequest(http.MethodPut, v.srv.URL+"/v1", strings.NewReader("[]"))
	hr, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	r := decode(t, hr)
	hr.Body.Close()
	if r.Status != 405 || r.Header.Get("Allow") != "POST" || errField(r, "code") != "methodNotAllowed" {
		t.Fatalf("PUT: got %d %v %s", r.Status, r.Header.Get("Allow"), r.Raw)
	}
	if st, _, _ := get(t, v.srv.URL+"/v1"); st != 405 {
		t.Fatalf("GET /v1: got %d, want 405", st)
	}
	for _, tc := range []struct{ name, body, ctype, code string }{
		{"object not array", `{"taskType":"ping"}`, "application/json", "invalidRequestBody"},
		{"not json", `hello`, "application/json", "invalidRequestBody"},
		{"empty array", `[]`, "application/json", "invalidRequestBody"},
		{"array of non-objects", `[1,2]`, "application/json", "invalidRequestBody"},
		{"wrong content type", `[{"taskType":"ping","ping":true}]`, "text/plain", "invalidContentType"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := v.postWith(tc.body, map[string]string{"Authorization": "Bearer " + testKey, "Content-Type": tc.ctype})
			if r.Status != 400 || errField(r, "code") != tc.code {
				t.Fatalf("got %d %s, want 400 %s", r.Status, r.Raw, tc.code)
			}
		})
	}
	if n := v.e.Stats().Requests; n != 7 {
		t.Fatalf("Requests = %d, want 7 (every API request counts)", n)
	}
}

func TestAuth(t *testing.T) {
	v := newEnv(t, Options{})
	ping := `{"taskType":"ping","ping":true}`
	for _, tc := range []struct {
		name, body, header string
		status             int
		code               string
	}{
		{"no key", "[" + ping + "]", "", 401, "missingApiKey"},
		{"wrong bearer", "[" + ping + "]", "Bearer nope", 401, "invalidApiKey"},
		{"not bearer", "[" + ping + "]", "Basic " + testKey, 401, "invalidApiKey"},
		{"good bearer", "[" + ping + "]", "Bearer " + testKey, 200, ""},
		{"auth task", `[{"taskType":"authentication","apiKey":"` + testKey + `"},` + ping + "]", "", 200, ""},
		{"auth task wrong key", `[{"taskType":"authentication","apiKey":"x"},` + ping + "]", "", 401, "invalidApiKey"},
		{"auth task without key", `[{"taskType":"authentication"},` + ping + "]", "", 401, "missingApiKey"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := map[string]string{}
			if tc.header != "" {
				h["Authorization"] = tc.header
			}
			r := v.postWith(tc.body, h)
			if r.Status != tc.status {
				t.Fatalf("status %d, want %d: %s", r.Status, tc.status, r.Raw)
			}
			if tc.code == "" {
				if len(r.Data) != 1 || r.Data[0]["pong"] != true {
					t.Fatalf("want one pong item, got %s", r.Raw)
				}
				return
			}
			e := r.Errors[0]
			if e["code"] != tc.code || e["parameter"] != "apiKey" || e["taskType"] != "authentication" ||
				e["type"] != "string" || !strings.HasPrefix(e["documentation"].(string), "https://runware.ai/docs/") || e["message"] == "" {
				t.Fatalf("error fields: %v", e)
			}
			if strings.Contains(r.Raw, "nope") {
				t.Fatal("reply echoes the key")
			}
		})
	}
}

func TestAnyKeyWhenAPIKeyEmpty(t *testing.T) {
	e := New(Options{})
	defer e.Close()
	if ae := e.authenticate(httptestRequest("Bearer whatever"), []fields{{"taskType": []byte(`"ping"`)}}); ae != nil {
		t.Fatalf("any non-empty key must pass: %v", ae)
	}
	if ae := e.authenticate(httptestRequest(""), []fields{{"taskType": []byte(`"ping"`)}}); ae == nil || ae.Code != "missingApiKey" {
		t.Fatalf("empty key must fail with missingApiKey, got %v", ae)
	}
}

func httptestRequest(auth string) *http.Request {
	r, _ := http.NewRequest(http.MethodPost, "http://x/v1", nil)
	if auth != "" {
		r.Header.Set("Authorization", auth)
	}
	return r
}

func TestValidation(t *testing.T) {
	v := newEnv(t, Options{})
	set := func(path string, val any) func(map[string]any) {
		return func(m map[string]any) {
			parts := strings.Split(path, ".")
			cur := m
			for _, p := range parts[:len(parts)-1] {
				next, ok := cur[p].(map[string]any)
				if !ok {
					next = map[string]any{}
					cur[p] = next
				}
				cur = next
			}
			if val == nil {
				delete(cur, parts[len(parts)-1])
			} else {
				cur[parts[len(parts)-1]] = val
			}
		}
	}
	for _, tc := range []struct {
		name      string
		mut       func(map[string]any)
		code, par string
		allowed   bool
	}{
		{"taskUUID missing", set("taskUUID", nil), "missingTaskUUID", "taskUUID", false},
		{"taskUUID not v4", set("taskUUID", "6ba7b810-9dad-11d1-80b4-00c04fd430c8"), "invalidTaskUUID", "taskUUID", false},
		{"taskUUID number", set("taskUUID", 7), "invalidTaskUUID", "taskUUID", false},
		{"unknown parameter", set("seed", 5), "unsupportedParameter", "seed", false},
		{"model missing", set("model", nil), "missingModel", "model", false},
		{"other model", set("model", "klingai:6@1"), "unknownModel", "model", true},
		{"deliveryMethod sync", set("deliveryMethod", "sync"), "invalidDeliveryMethod", "deliveryMethod", true},
		{"outputType base64", set("outputType", "base64Data"), "invalidOutputType", "outputType", true},
		{"outputFormat AVI", set("outputFormat", "AVI"), "invalidOutputFormat", "outputFormat", true},
		{"outputFormat lower case", set("outputFormat", "mp4"), "invalidOutputFormat", "outputFormat", true},
		{"outputQuality string", set("outputQuality", "95"), "invalidOutputQuality", "outputQuality", false},
		{"outputQuality float", set("outputQuality", 95.5), "invalidOutputQuality", "outputQuality", false},
		{"outputQuality low", set("outputQuality", 19), "invalidOutputQuality", "outputQuality", false},
		{"outputQuality high", set("outputQuality", 100), "invalidOutputQuality", "outputQuality", false},
		{"numberResults 0", set("numberResults", 0), "invalidNumberResults", "numberResults", false},
		{"numberResults 5", set("numberResults", 5), "invalidNumberResults", "numberResults", false},
		{"ttl 59", set("ttl", 59), "invalidTTL", "ttl", false},
		{"ttl string", set("ttl", "600"), "invalidTTL", "ttl", false},
		{"includeCost string", set("includeCost", "true"), "invalidIncludeCost", "includeCost", false},
		{"safety not object", set("safety", true), "invalidSafety", "safety", false},
		{"safety.checkContent number", set("safety.checkContent", 1), "invalidCheckContent", "safety.checkContent", false},
		{"safety.mode bad", set("safety.mode", "strict"), "invalidMode", "safety.mode", true},
		{"safety unknown", set("safety.level", 2), "unsupportedParameter", "safety.level", false},
		{"webhookURL not URI", set("webhookURL", "not a url"), "invalidWebhookURL", "webhookURL", false},
		{"uploadEndpoint ftp", set("uploadEndpoint", "ftp://host/x"), "invalidUploadEndpoint", "uploadEndpoint", false},
		{"inputs missing", set("inputs", nil), "missingInputs", "inputs", false},
		{"inputs.video missing", set("inputs.video", nil), "missingVideo", "inputs.video", false},
		{"inputs.audio number", set("inputs.audio", 5), "invalidAudio", "inputs.audio", false},
		{"inputs.video array", set("inputs.video", []string{"x"}), "invalidVideo", "inputs.video", false},
		{"inputs unknown", set("inputs.image", "x"), "unsupportedParameter", "inputs.image", false},
		{"originalAudioVolume high", set("providerSettings.klingai.originalAudioVolume", 2.5), "invalidOriginalAudioVolume", "providerSettings.klingai.originalAudioVolume", false},
		{"soundVolume step", set("providerSettings.klingai.soundVolume", 0.005), "invalidSoundVolume", "providerSettings.klingai.soundVolume", false},
		{"soundVolume string", set("providerSettings.klingai.soundVolume", "1"), "invalidSoundVolume", "providerSettings.klingai.soundVolume", false},
		{"other provider", set("providerSettings.openai", map[string]any{}), "unsupportedParameter", "providerSettings.openai", false},
		{"klingai unknown", set("providerSettings.klingai.mode", "pro"), "unsupportedParameter", "providerSettings.klingai.mode", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			task := v.task(newID())
			tc.mut(task)
			r := v.post(body(task))
			if r.Status != 400 || len(r.Errors) != 1 || len(r.Data) != 0 {
				t.Fatalf("want 400 with one error, got %d: %s", r.Status, r.Raw)
			}
			e := r.Errors[0]
			if e["code"] != tc.code || e["parameter"] != tc.par || e["taskType"] != "videoInference" || e["message"] == "" {
				t.Fatalf("got %v, want code %s parameter %s", e, tc.code, tc.par)
			}
			if id, _ := task["taskUUID"].(string); id != "" && e["taskUUID"] != id {
				t.Fatalf("taskUUID %v, want %s", e["taskUUID"], id)
			}
			if doc, _ := e["documentation"].(string); !strings.HasPrefix(doc, docBase) {
				t.Fatalf("documentation %q", doc)
			}
			if _, has := e["allowedValues"]; has != tc.allowed {
				t.Fatalf("allowedValues present=%v, want %v: %v", has, tc.allowed, e)
			}
		})
	}
	if s := v.e.Stats(); s.TasksAccepted != 0 {
		t.Fatalf("invalid tasks were accepted: %d", s.TasksAccepted)
	}
}

func TestValidationDetails(t *testing.T) {
	v := newEnv(t, Options{})
	task := v.task(newID())
	task["outputFormat"] = "AVI"
	r := v.post(body(task))
	e := r.Errors[0]
	if e["documentation"] != docBase+"#request-outputformat" || e["type"] != "string" {
		t.Fatalf("documentation/type: %v", e)
	}
	if got := e["allowedValues"].([]any); len(got) != 3 || got[0] != "MP4" {
		t.Fatalf("allowedValues %v", got)
	}
	task = v.task(newID())
	task["providerSettings"] = map[string]any{"klingai": map[string]any{"soundVolume": 3}}
	e = v.post(body(task)).Errors[0]
	if e["documentation"] != docBase+"#request-providersettings-klingai-soundvolume" || e["min"] != 0.0 || e["max"] != 2.0 || e["multiplier"] != 0.01 || e["type"] != "float" {
		t.Fatalf("volume error: %v", e)
	}
	// Upload endpoints carry credentials; errors must not echo them.
	task = v.task(newID())
	task["uploadEndpoint"] = "s3://bucket/key?X-Amz-Signature=secret"
	if r := v.post(body(task)); strings.Contains(r.Raw, "secret") || r.Status != 400 {
		t.Fatalf("reply leaks the endpoint or passes: %s", r.Raw)
	}
}

func TestMixedBatchErrorsArePerTask(t *testing.T) {
	v := newEnv(t, Options{})
	good, bad := v.task(newID()), v.task(newID())
	bad["outputQuality"] = "95"
	r := v.post(body(good, bad, map[string]any{"taskType": "ping", "ping": true}, map[string]any{"taskType": "textInference", "taskUUID": newID()}))
	if r.Status != 200 || len(r.Data) != 2 || len(r.Errors) != 2 {
		t.Fatalf("want 200 with 2 data + 2 errors, got %d: %s", r.Status, r.Raw)
	}
	if r.Data[0]["taskUUID"] != good["taskUUID"] || len(r.Data[0]) != 2 {
		t.Fatalf("ack must be exactly {taskType, taskUUID}: %v", r.Data[0])
	}
	if r.Errors[0]["taskUUID"] != bad["taskUUID"] || r.Errors[0]["code"] != "invalidOutputQuality" {
		t.Fatalf("error not scoped to the bad task: %v", r.Errors[0])
	}
	if r.Errors[1]["code"] != "unsupportedTaskType" {
		t.Fatalf("unknown task type: %v", r.Errors[1])
	}
	// Nothing accepted: the first error's status.
	bad2 := v.task(newID())
	bad2["model"] = "x"
	r = v.post(body(bad2, bad))
	if r.Status != 400 || len(r.Data) != 0 || len(r.Errors) != 2 {
		t.Fatalf("all-invalid batch: %d %s", r.Status, r.Raw)
	}
	if s := v.e.Stats(); s.TasksAccepted != 1 {
		t.Fatalf("TasksAccepted %d, want 1", s.TasksAccepted)
	}
}

func TestPingAccountAndStats(t *testing.T) {
	v := newEnv(t, Options{Balance: 12345})
	id := newID()
	r := v.post(`[{"taskType":"ping","ping":true},{"taskType":"accountManagement","operation":"getDetails","taskUUID":"` + id + `"}]`)
	if r.Status != 200 || r.Data[0]["pong"] != true || r.Data[1]["balance"] != 1.2345 || r.Data[1]["taskUUID"] != id {
		t.Fatalf("got %s", r.Raw)
	}
	r = v.post(`[{"taskType":"accountManagement","operation":"getUsage"}]`)
	if r.Status != 400 || errField(r, "code") != "invalidOperation" {
		t.Fatalf("bad operation: %s", r.Raw)
	}
	v.e.SetBalance(0)
	if r := v.post(`[{"taskType":"accountManagement","operation":"getDetails"}]`); r.Data[0]["balance"] != UnlimitedBalanceUSD {
		t.Fatalf("unlimited balance: %s", r.Raw)
	}
	st, h, b := get(t, v.srv.URL+"/debug/stats")
	if st != 200 || h.Get("Content-Type") != "application/json" || !strings.Contains(string(b), `"Requests":3`) {
		t.Fatalf("stats: %d %s", st, b)
	}
}

func TestGetResponseUnknownTask(t *testing.T) {
	v := newEnv(t, Options{})
	id := newID()
	r := v.post(getResponse(id))
	if r.Status != 404 || errField(r, "code") != "taskNotFound" || errField(r, "taskUUID") != id || errField(r, "taskType") != "getResponse" {
		t.Fatalf("got %d %s", r.Status, r.Raw)
	}
	r = v.post(`[{"taskType":"getResponse","taskUUID":"nope"}]`)
	if r.Status != 400 || errField(r, "code") != "invalidTaskUUID" {
		t.Fatalf("bad uuid: %s", r.Raw)
	}
	if n := v.e.Stats().GetResponseCalls; n != 2 {
		t.Fatalf("GetResponseCalls %d", n)
	}
}
