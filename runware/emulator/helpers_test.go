package emulator

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
)

const testKey = "test-key-123"

var mediaDir = filepath.Join("..", "..", "testdata", "media")

// env is an emulator on a real HTTP server plus a file server for inputs.
type env struct {
	t     *testing.T
	e     *Emulator
	srv   *httptest.Server
	files *httptest.Server
}

func newEnv(t *testing.T, o Options) *env {
	t.Helper()
	if o.APIKey == "" {
		o.APIKey = testKey
	}
	if o.Latency == 0 {
		o.Latency = 20 * time.Millisecond
	}
	e := New(o)
	srv := httptest.NewServer(e)
	files := httptest.NewServer(http.FileServer(http.Dir(mediaDir)))
	t.Cleanup(func() { e.Close(); srv.Close(); files.Close() })
	return &env{t: t, e: e, srv: srv, files: files}
}

func (v *env) file(name string) string { return v.files.URL + "/" + name }

// resp is a decoded API reply.
type resp struct {
	Status int
	Header http.Header
	Raw    string
	Data   []map[string]any
	Errors []map[string]any
}

// post sends body to the API with the test key.
func (v *env) post(body string) resp {
	v.t.Helper()
	return v.postWith(body, map[string]string{"Authorization": "Bearer " + testKey})
}

func (v *env) postWith(body string, headers map[string]string) resp {
	v.t.Helper()
	req, err := http.NewRequest(http.MethodPost, v.srv.URL+"/v1", strings.NewReader(body))
	if err != nil {
		v.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for k, val := range headers {
		req.Header.Set(k, val)
	}
	hr, err := http.DefaultClient.Do(req)
	if err != nil {
		v.t.Fatalf("POST: %v", err)
	}
	defer hr.Body.Close()
	return decode(v.t, hr)
}

func decode(t *testing.T, hr *http.Response) resp {
	t.Helper()
	raw, err := io.ReadAll(hr.Body)
	if err != nil {
		t.Fatal(err)
	}
	r := resp{Status: hr.StatusCode, Header: hr.Header, Raw: string(raw)}
	if len(raw) > 0 && strings.HasPrefix(hr.Header.Get("Content-Type"), "application/json") {
		if err := json.Unmarshal(raw, &r); err != nil {
			t.Fatalf("reply is not JSON: %v: %s", err, raw)
		}
	}
	return r
}

// task returns a valid videoInference task as a map; mutate before sending.
func (v *env) task(id string) map[string]any {
	return map[string]any{
		"taskType": "videoInference", "taskUUID": id, "model": "klingai:7@1",
		"deliveryMethod": "async", "outputType": "URL", "outputFormat": "MP4", "outputQuality": 95,
		"numberResults": 1, "includeCost": true,
		"inputs":           map[string]any{"video": v.file("face.mp4"), "audio": v.file("speech_4_2s.wav")},
		"providerSettings": map[string]any{"klingai": map[string]any{"originalAudioVolume": 0, "soundVolume": 1}},
	}
}

func body(tasks ...any) string {
	b, err := json.Marshal(tasks)
	if err != nil {
		panic(err)
	}
	return string(b)
}

func newID() string { return uuid.NewString() }

func getResponse(id string) string {
	return fmt.Sprintf(`[{"taskType":"getResponse","taskUUID":%q}]`, id)
}

// wait polls getResponse until n items succeeded or an error shows up.
func (v *env) wait(id string, n int) resp {
	v.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		r := v.post(getResponse(id))
		if len(r.Errors) > 0 {
			return r
		}
		done := 0
		for _, d := range r.Data {
			switch d["status"] {
			case "success":
				done++
			case "error":
				return r
			}
		}
		if done >= n {
			return r
		}
		time.Sleep(5 * time.Millisecond)
	}
	v.t.Fatalf("task %s did not finish", id)
	return resp{}
}

func readFile(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(mediaDir, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func get(t *testing.T, url string) (int, http.Header, []byte) {
	t.Helper()
	hr, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer hr.Body.Close()
	b, _ := io.ReadAll(hr.Body)
	return hr.StatusCode, hr.Header, b
}

// eventually retries cond until it holds or a second passes.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(3 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}

func errField(r resp, field string) any {
	if len(r.Errors) == 0 {
		return nil
	}
	return r.Errors[0][field]
}

var _ = bytes.Equal

func newServer(t *testing.T, h http.Handler) string {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL
}
