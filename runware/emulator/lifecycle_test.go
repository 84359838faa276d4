package emulator

import (
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/dubline/dubline/internal/testutil"
)

func TestQueueDelay(t *testing.T) {
	v := newEnv(t, Options{QueueDelay: 200 * time.Millisecond, Latency: 10 * time.Millisecond})
	id := newID()
	start := time.Now()
	v.post(body(v.task(id)))
	time.Sleep(50 * time.Millisecond)
	r := v.post(getResponse(id))
	if r.Data[0]["status"] != "processing" || r.Data[0]["progress"] != 0.0 {
		t.Fatalf("queued task: %s", r.Raw)
	}
	v.wait(id, 1)
	if el := time.Since(start); el < 210*time.Millisecond {
		t.Fatalf("finished after %v, before QueueDelay+Latency", el)
	}
}

func TestCloseStopsBackgroundWork(t *testing.T) {
	e := New(Options{Latency: time.Hour})
	srv := newServer(t, e)
	files := newServer(t, http.FileServer(http.Dir(mediaDir)))
	task := map[string]any{"taskType": "videoInference", "taskUUID": newID(), "model": "klingai:7@1",
		"inputs": map[string]any{"video": files + "/face.mp4", "audio": files + "/speech_4_2s.wav"}}
	req, _ := http.NewRequest(http.MethodPost, srv, strings.NewReader(body(task)))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer k")
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("submit: %v %v", err, resp)
	}
	resp.Body.Close()
	done := make(chan struct{})
	go func() { e.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(2 * time.Second):
		t.Fatal("Close did not stop an hour-long generation")
	}
	// After Close new tasks are refused, not left hanging.
	task["taskUUID"] = newID()
	req, _ = http.NewRequest(http.MethodPost, srv, strings.NewReader(body(task)))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer k")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 503 {
		t.Fatalf("after Close: %d", resp.StatusCode)
	}
}

func TestSecretsStayOutOfRepliesAndLogs(t *testing.T) {
	const secret = "SIGNATURE0123456789abcdef"
	var logs testutil.Buffer
	refuse := newServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Like S3: the error body echoes the request's query.
		http.Error(w, "<Error><CanonicalRequest>"+r.URL.RawQuery+"</CanonicalRequest></Error>", 403)
	}))
	v := newEnv(t, Options{Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	ok, bad := newID(), newID()
	t1, t2 := v.task(ok), v.task(bad)
	t1["uploadEndpoint"] = refuse + "/o.mp4?X-Amz-Credential=AKIA&X-Amz-Signature=" + secret
	t1["webhookURL"] = refuse + "/hook?token=" + secret
	t2["inputs"].(map[string]any)["video"] = v.files.URL + "/missing.mp4?X-Amz-Signature=" + secret
	v.post(body(t1, t2))
	r1, r2 := v.wait(ok, 1), v.wait(bad, 1)
	eventually(t, "upload attempt", func() bool { return v.e.Stats().UploadsFailed == 1 })
	if errField(r2, "code") != "downloadFailed" || !strings.Contains(errField(r2, "message").(string), "missing.mp4") {
		t.Fatalf("download failure: %s", r2.Raw)
	}
	for what, s := range map[string]string{"reply 1": r1.Raw, "reply 2": r2.Raw, "logs": logs.String()} {
		if strings.Contains(s, secret) || strings.Contains(s, testKey) {
			t.Fatalf("%s leaks a secret: %s", what, s)
		}
	}
	if !strings.Contains(logs.String(), "upload failed") {
		t.Fatalf("the upload failure should be logged: %s", logs.String())
	}
}
