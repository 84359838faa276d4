package runware

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dubline/dubline/internal/retry"
	"github.com/dubline/dubline/internal/testutil"

	"github.com/google/uuid"

	"github.com/dubline/dubline/internal/s3test"
	"github.com/dubline/dubline/kling"
	"github.com/dubline/dubline/runware/emulator"
	"github.com/dubline/dubline/storage"
)

// TestUploadEndpointPresignedVersitygw drives the client against the
// emulator over real HTTP with uploadEndpoint set to presigned PUT URLs of
// a real SigV4-checking S3 (versitygw), as the executor does: a matching
// presign lands the result in the bucket with the format's Content-Type;
// a presign signed for another Content-Type is refused by S3, which must
// not fail the task.
func TestUploadEndpointPresignedVersitygw(t *testing.T) {
	ctx := context.Background()
	srv := s3test.Start(t, "out")
	s3 := storage.NewS3FromClient(srv.Client())

	var logs testutil.Buffer
	emu := emulator.New(emulator.Options{
		APIKey:  "sk-emulator-SECRET",
		Latency: 30 * time.Millisecond,
		Logger:  slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
	api := httptest.NewServer(emu)
	files := httptest.NewServer(http.FileServer(http.Dir(filepath.Join("..", "testdata", "media"))))
	c, err := New(Options{
		URL:              api.URL + "/v1",
		APIKey:           "sk-emulator-SECRET",
		BatchWindow:      5 * time.Millisecond,
		PollInitialDelay: 20 * time.Millisecond,
		PollInterval:     20 * time.Millisecond,
		PollMaxInterval:  50 * time.Millisecond,
		RequestTimeout:   5 * time.Second,
		Retry:            retry.Policy{Attempts: 4, Initial: 5 * time.Millisecond, Max: time.Second},
		Rand:             rand.New(rand.NewPCG(21, 22)),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close(); emu.Close(); api.Close(); files.Close() })

	task := func(uploadEndpoint string) Task {
		t := Task{
			TaskUUID: uuid.NewString(), Request: kling.DefaultRequest(),
			Video: files.URL + "/face.mp4", Audio: files.URL + "/speech_4_2s.wav",
		}
		t.Request.SetUploadEndpoint(uploadEndpoint)
		return t
	}
	goodKey, badKey := "jobs/"+uuid.NewString()+".mp4", "jobs/"+uuid.NewString()+".mp4"
	goodURL, err := s3.PresignPut(ctx, "out", goodKey, "video/mp4", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	// Signed for WebM while the task asks for MP4: the emulator PUTs
	// video/mp4 and S3 must refuse the signature.
	badURL, err := s3.PresignPut(ctx, "out", badKey, "video/webm", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	good, bad := task(goodURL), task(badURL)

	for _, tk := range []Task{good, bad} {
		if _, err := c.Submit(ctx, tk); err != nil {
			t.Fatalf("submit %s: %v", tk.TaskUUID, err)
		}
	}
	results := map[string]*Result{}
	for _, tk := range []Task{good, bad} {
		res, err := c.Wait(ctx, tk.TaskUUID, 1)
		if err != nil {
			t.Fatalf("wait %s: %v", tk.TaskUUID, err)
		}
		if len(res.Items) != 1 || res.Items[0].VideoURL == "" {
			t.Fatalf("result %+v: want one item with a videoURL", res)
		}
		results[tk.TaskUUID] = res
	}

	// The matching presign: the object holds exactly what videoURL serves.
	videoURL := results[good.TaskUUID].Items[0].VideoURL
	resp, err := http.Get(videoURL)
	if err != nil {
		t.Fatal(err)
	}
	want, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK || len(want) == 0 {
		t.Fatalf("GET videoURL: HTTP %d, %d bytes, %v", resp.StatusCode, len(want), err)
	}
	got, ctype := srv.Get(t, "out", goodKey)
	if !bytes.Equal(got, want) {
		t.Fatalf("object is %d bytes, videoURL served %d: contents differ", len(got), len(want))
	}
	if ctype != "video/mp4" {
		t.Fatalf("object Content-Type %q, want video/mp4", ctype)
	}

	// The mismatched presign: S3 refused the PUT, the task succeeded anyway.
	if srv.Exists(t, "out", badKey) {
		t.Fatal("S3 stored a PUT whose Content-Type did not match the signed one")
	}
	s := emu.Stats()
	if s.UploadsFailed != 1 || s.BytesUploaded != int64(len(want)) || s.Succeeded != 2 || s.Failed != 0 {
		t.Fatalf("emulator stats: UploadsFailed %d (want 1), BytesUploaded %d (want %d), Succeeded %d, Failed %d",
			s.UploadsFailed, s.BytesUploaded, len(want), s.Succeeded, s.Failed)
	}

	// The failed PUT is logged without the presigned URL's secrets.
	log := logs.String()
	if !strings.Contains(log, "upload failed") {
		t.Fatalf("the refused PUT was not logged:\n%s", log)
	}
	q, err := url.Parse(badURL)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"X-Amz-Signature", "X-Amz-Credential"} {
		if v := q.Query().Get(k); v == "" || strings.Contains(log, v) || strings.Contains(log, url.QueryEscape(v)) {
			t.Fatalf("%s missing from the presign or leaked into the log", k)
		}
	}
}
