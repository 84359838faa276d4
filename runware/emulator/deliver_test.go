package emulator

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"flag"
	"io"
	"net/http"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/dubline/dubline/internal/s3test"
	"github.com/dubline/dubline/kling"
	"github.com/dubline/dubline/media"
)

// recorder is an HTTP endpoint that keeps what it receives.
type recorder struct {
	mu      sync.Mutex
	bodies  [][]byte
	ctypes  []string
	methods []string
	answer  func(n int) int // status for the n-th request (0-based)
}

func (rc *recorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	rc.mu.Lock()
	n := len(rc.bodies)
	rc.bodies = append(rc.bodies, b)
	rc.ctypes = append(rc.ctypes, r.Header.Get("Content-Type"))
	rc.methods = append(rc.methods, r.Method)
	rc.mu.Unlock()
	status := 200
	if rc.answer != nil {
		status = rc.answer(n)
	}
	w.WriteHeader(status)
}

func (rc *recorder) count() int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return len(rc.bodies)
}

func TestUploadEndpointPUT(t *testing.T) {
	rc := &recorder{}
	sink := newServer(t, rc)
	v := newEnv(t, Options{})
	id := newID()
	task := v.task(id)
	task["uploadEndpoint"] = sink + "/out/clip.mov?X-Amz-Signature=s3cr3t"
	task["outputFormat"] = "MOV"
	task["numberResults"] = 2
	v.post(body(task))
	r := v.wait(id, 2)
	if rc.count() != 2 {
		t.Fatalf("want one PUT per result, got %d", rc.count())
	}
	src := readFile(t, "face.mp4")
	for i := range 2 {
		if rc.methods[i] != "PUT" || rc.ctypes[i] != "video/quicktime" || !bytes.Equal(rc.bodies[i], src) {
			t.Fatalf("PUT %d: %s %s %d bytes", i, rc.methods[i], rc.ctypes[i], len(rc.bodies[i]))
		}
	}
	if s := v.e.Stats(); s.BytesUploaded != int64(2*len(src)) || s.UploadsFailed != 0 {
		t.Fatalf("stats %+v", s)
	}
	if !strings.HasSuffix(r.Data[0]["videoURL"].(string), ".mov") {
		t.Fatalf("videoURL extension: %v", r.Data[0]["videoURL"])
	}
}

// TestUploadEndpointPresignedS3 PUTs into a real SigV4-checking S3
// (versitygw) through a presigned URL, as Dubline's executor will.
func TestUploadEndpointPresignedS3(t *testing.T) {
	s3srv := s3test.Start(t, "out")
	pc := s3.NewPresignClient(s3srv.Client())
	ctx := context.Background()
	signed, err := pc.PresignPutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("out"), Key: aws.String("jobs/0042.mp4"),
		ContentType: aws.String("video/mp4")}, s3.WithPresignExpires(5*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	// A presign for another Content-Type must be refused by S3 (proves the
	// emulator sends the format's Content-Type and S3 really checks it).
	wrong, err := pc.PresignPutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("out"), Key: aws.String("jobs/wrong.mp4"),
		ContentType: aws.String("video/webm")}, s3.WithPresignExpires(5*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	v := newEnv(t, Options{})
	ok, bad := newID(), newID()
	t1, t2 := v.task(ok), v.task(bad)
	t1["uploadEndpoint"], t2["uploadEndpoint"] = signed.URL, wrong.URL
	v.post(body(t1, t2))
	v.wait(ok, 1)
	v.wait(bad, 1)
	got, ctype := s3srv.Get(t, "out", "jobs/0042.mp4")
	if !bytes.Equal(got, readFile(t, "face.mp4")) || ctype != "video/mp4" {
		t.Fatalf("object: %d bytes, %s", len(got), ctype)
	}
	if s3srv.Exists(t, "out", "jobs/wrong.mp4") {
		t.Fatal("the mismatched presign must be refused")
	}
	if s := v.e.Stats(); s.BytesUploaded != int64(len(got)) || s.UploadsFailed != 1 || s.Succeeded != 2 {
		t.Fatalf("stats %+v", s)
	}
}

func TestWebhookRetriesAndFlatBody(t *testing.T) {
	rc := &recorder{answer: func(n int) int {
		if n == 0 {
			return 500
		}
		return 204
	}}
	hook := newServer(t, rc)
	v := newEnv(t, Options{})
	id := newID()
	task := v.task(id)
	task["webhookURL"] = hook + "/hook?token=t"
	v.post(body(task))
	it := v.wait(id, 1).Data[0]
	eventually(t, "webhook delivery", func() bool { return v.e.Stats().WebhooksSent == 1 })
	if rc.count() != 2 {
		t.Fatalf("want one failed + one good POST, got %d", rc.count())
	}
	var got map[string]any
	if err := json.Unmarshal(rc.bodies[1], &got); err != nil || rc.ctypes[1] != "application/json" {
		t.Fatalf("webhook body: %v %s", err, rc.bodies[1])
	}
	if got["taskUUID"] != id || got["videoURL"] != it["videoURL"] || got["status"] != "success" || got["cost"] != 0.0462 {
		t.Fatalf("flat body expected, got %v", got)
	}
}

func TestWebhookForFailureAndGivingUp(t *testing.T) {
	rc := &recorder{answer: func(int) int { return 500 }}
	hook := newServer(t, rc)
	v := newEnv(t, Options{WebhookRetries: 1})
	v.e.Inject(Fault{Kind: FaultGeneration})
	id := newID()
	task := v.task(id)
	task["webhookURL"] = hook
	v.post(body(task))
	v.wait(id, 1)
	eventually(t, "two attempts", func() bool { return rc.count() == 2 })
	time.Sleep(400 * time.Millisecond) // longer than a third attempt's backoff would be
	if rc.count() != 2 || v.e.Stats().WebhooksSent != 0 {
		t.Fatalf("want exactly 1 + 1 retry, got %d", rc.count())
	}
	var got map[string]any
	_ = json.Unmarshal(rc.bodies[0], &got)
	if got["status"] != "error" || got["code"] != "timeoutProvider" || got["taskUUID"] != id {
		t.Fatalf("failure webhook: %v", got)
	}
}

func TestMediaStorageAndInputForms(t *testing.T) {
	v := newEnv(t, Options{})
	video := readFile(t, "face.mp4")
	up := func(media string) map[string]any {
		r := v.post(body(map[string]any{"taskType": "mediaStorage", "taskUUID": newID(), "operation": "upload", "media": media}))
		if r.Status != 200 || r.Data[0]["operation"] != "upload" || !validUUIDv4(r.Data[0]["mediaUUID"].(string)) {
			t.Fatalf("upload: %d %s", r.Status, r.Raw)
		}
		return r.Data[0]
	}
	byURL := up(v.file("face.mp4"))
	byData := up("data:video/mp4;base64," + base64.StdEncoding.EncodeToString(video))
	for _, m := range []map[string]any{byURL, byData} {
		st, _, b := get(t, m["mediaURL"].(string))
		if st != 200 || !bytes.Equal(b, video) {
			t.Fatalf("mediaURL: %d %d bytes", st, len(b))
		}
	}
	// Inputs: a media UUID for the video, bare base64 for the audio.
	id := newID()
	task := v.task(id)
	task["inputs"] = map[string]any{"video": byURL["mediaUUID"], "audio": base64.StdEncoding.EncodeToString(readFile(t, "speech_4_2s.wav"))}
	v.post(body(task))
	if r := v.wait(id, 1); r.Data[0]["status"] != "success" || r.Data[0]["cost"] != 0.0462 {
		t.Fatalf("UUID + base64 inputs: %s", r.Raw)
	}
	del := v.post(body(map[string]any{"taskType": "mediaStorage", "taskUUID": newID(), "operation": "delete", "media": byURL["mediaUUID"]}))
	if del.Status != 200 || del.Data[0]["mediaUUID"] != byURL["mediaUUID"] || del.Data[0]["mediaURL"] != nil {
		t.Fatalf("delete: %s", del.Raw)
	}
	if st, _, _ := get(t, byURL["mediaURL"].(string)); st != 404 {
		t.Fatalf("deleted media still served: %d", st)
	}
	for _, tc := range []struct{ task, code string }{
		{`{"taskType":"mediaStorage","taskUUID":"` + newID() + `","operation":"delete","media":"` + newID() + `"}`, "mediaNotFound"},
		{`{"taskType":"mediaStorage","taskUUID":"` + newID() + `","operation":"move","media":"x"}`, "invalidOperation"},
		{`{"taskType":"mediaStorage","taskUUID":"` + newID() + `","operation":"upload"}`, "missingMedia"},
		{`{"taskType":"mediaStorage","taskUUID":"` + newID() + `","operation":"upload","media":"` + v.file("nope.mp4") + `"}`, "downloadFailed"},
	} {
		if r := v.post("[" + tc.task + "]"); errField(r, "code") != tc.code || r.Status < 400 {
			t.Fatalf("want %s, got %d %s", tc.code, r.Status, r.Raw)
		}
	}
}

func TestFFmpegOutput(t *testing.T) {
	if _, err := exec.LookPath("ffmpeg"); err != nil {
		t.Fatal("ffmpeg is a documented dependency of the test machine")
	}
	v := newEnv(t, Options{FFmpeg: true})
	for _, format := range []string{"WEBM", "MOV"} {
		id := newID()
		task := v.task(id)
		task["outputFormat"] = format
		task["providerSettings"] = map[string]any{"klingai": map[string]any{"originalAudioVolume": 0.5, "soundVolume": 1.5}}
		v.post(body(task))
		r := v.wait(id, 1)
		if len(r.Data) == 0 {
			t.Fatalf("%s: %s", format, r.Raw)
		}
		st, h, b := get(t, r.Data[0]["videoURL"].(string))
		info, err := media.Probe(bytes.NewReader(b), int64(len(b)), "out."+kling.Ext(format))
		if st != 200 || err != nil || h.Get("Content-Type") != kling.ContentType(format) {
			t.Fatalf("%s output: %d %v %s", format, st, err, h.Get("Content-Type"))
		}
		if info.Format != kling.Ext(format) || !info.Video || info.Seconds < 2.8 || info.Seconds > 3.3 {
			t.Fatalf("%s output info %+v: want the source video's length", format, info)
		}
	}
}

func TestRegisterFlags(t *testing.T) {
	var o Options
	fs := flag.NewFlagSet("sandbox", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	o.RegisterFlags(fs)
	if o.FaultRates.SlowDelay != DefaultSlowDelay || o.FaultRates.VideoURL422For != DefaultVideoURL422For ||
		o.FaultRates.GenerationCode != DefaultGenerationCode {
		t.Fatalf("flag defaults: %+v", o.FaultRates)
	}
	err := fs.Parse([]string{"--api-key", "k", "--balance", "2.5", "--latency", "3s", "--jitter", "1s", "--queue-delay", "500ms",
		"--seed", "9", "--ffmpeg", "--error-shape", "data", "--fault-429", "0.1", "--fault-503", "0.2", "--fault-reset", "0.3",
		"--fault-generation", "0.4", "--fault-upload", "0.5", "--fault-504", "0.6", "--retry-after", "2", "--fault-nobody", "0.7",
		"--fault-500-nonjson", "0.8", "--fault-slow", "0.9", "--slow-delay", "1500ms", "--fault-videourl-422", "1",
		"--videourl-422-for", "7s", "--fault-expire", "0.05", "--generation-code", "providerContentModeration"})
	if err != nil {
		t.Fatal(err)
	}
	want := Options{APIKey: "k", Balance: 25000, Latency: 3 * time.Second, LatencyJitter: time.Second, QueueDelay: 500 * time.Millisecond,
		Seed: 9, FFmpeg: true, ErrorShape: "data", FaultRates: FaultRates{
			Status429: 0.1, Status503: 0.2, Reset: 0.3, Generation: 0.4, Upload: 0.5,
			Status504: 0.6, RetryAfter: 2, NoBody: 0.7, NonJSON500: 0.8, Slow: 0.9, SlowDelay: 1500 * time.Millisecond,
			VideoURL422: 1, VideoURL422For: 7 * time.Second, Expire: 0.05, GenerationCode: "providerContentModeration"}}
	if o.APIKey != want.APIKey || o.Balance != want.Balance || o.Latency != want.Latency || o.LatencyJitter != want.LatencyJitter ||
		o.QueueDelay != want.QueueDelay || o.Seed != want.Seed || !o.FFmpeg || o.ErrorShape != "data" || o.FaultRates != want.FaultRates {
		t.Fatalf("got %+v", o)
	}
	for _, bad := range [][]string{
		{"--balance", "1.23456"}, // finer than $0.0001
		{"--fault-504", "1.5"}, {"--fault-nobody", "-0.1"}, {"--fault-slow", "NaN"}, {"--fault-429", "x"},
		{"--retry-after", "-1"}, {"--retry-after", "2s"}, {"--slow-delay", "soon"},
	} {
		if err := fs.Parse(bad); err == nil {
			t.Errorf("%v must be refused", bad)
		}
	}
}
