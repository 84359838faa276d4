package executor_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dubline/dubline/executor"
	"github.com/dubline/dubline/kling"
	"github.com/dubline/dubline/planner"
	"github.com/dubline/dubline/runware"
	"github.com/dubline/dubline/runware/emulator"
	"github.com/dubline/dubline/storage"
)

// BenchmarkRun2000 runs 2,000 jobs at concurrency 100 against the
// in-process emulator over loopback HTTP (2 s per generation, no jitter),
// with uploads PUT to an in-memory HTTP bucket. The ideal is
// 2000/100 * 2 s = 40 s; the target is within 1.10x of it.
// Run: go test -run '^$' -bench Run2000 -benchtime 1x ./executor/
func BenchmarkRun2000(b *testing.B) {
	const jobs, conc, latency = 2000, 100, 2 * time.Second
	for i := 0; i < b.N; i++ {
		benchOnce(b, jobs, conc, latency)
	}
}

func benchOnce(b *testing.B, jobs, conc int, latency time.Duration) {
	b.StopTimer()
	emu := emulator.New(emulator.Options{APIKey: "k", Latency: latency, Seed: 7})
	api := httptest.NewServer(emu)
	defer func() { api.Close(); emu.Close() }()
	files := httptest.NewServer(http.FileServer(http.Dir(filepath.Join("..", "testdata", "media"))))
	defer files.Close()
	bucket := newMemBucket()
	defer bucket.srv.Close()

	c, err := runware.New(runware.Options{
		URL: api.URL + "/v1", APIKey: "k",
		PollInitialDelay: latency, PollInterval: 50 * time.Millisecond, PollMaxInterval: 100 * time.Millisecond,
	})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	// Inputs are uploaded once (mediaStorage) and referenced by UUID, as
	// staging does for local files; the emulator then reads no HTTP per task.
	video, _, err := c.UploadMedia(context.Background(), files.URL+"/face.mp4")
	if err != nil {
		b.Fatal(err)
	}
	audio, _, err := c.UploadMedia(context.Background(), files.URL+"/speech_4_2s.wav")
	if err != nil {
		b.Fatal(err)
	}
	plan := &planner.Plan{Name: "bench", Concurrency: conc, BudgetWindow: 20 * time.Hour, Output: planner.Output{PresignTTL: time.Hour}}
	for i := 0; i < jobs; i++ {
		id := fmt.Sprintf("j%05d", i)
		plan.Jobs = append(plan.Jobs, planner.Job{
			Index: i, ID: id,
			Video:    planner.Input{Raw: video, Kind: planner.InputRunware, URL: video},
			Audio:    planner.Input{Raw: audio, Kind: planner.InputRunware, URL: audio},
			Request:  new(kling.DefaultRequest()),
			Estimate: kling.JobPrice(4.2, 1), OutputKeys: []string{id + ".mp4"}, Fingerprint: id,
		})
	}
	timed := &timedAPI{api: c}
	opt := executor.Options{API: timed, Dest: bucket, Inputs: passInputs{}, StateDir: b.TempDir()}

	b.StartTimer()
	start := time.Now()
	rep, err := executor.Run(context.Background(), plan, opt)
	elapsed := time.Since(start)
	b.StopTimer()
	if err != nil || !rep.Done() {
		b.Fatalf("err %v stopped %q totals %+v", err, rep.StoppedBy, rep.Totals)
	}
	if n := bucket.count(); n != jobs {
		b.Fatalf("%d objects in the bucket, want %d", n, jobs)
	}
	var durs []time.Duration
	for _, j := range rep.Jobs {
		durs = append(durs, j.Finished.Sub(j.Started))
	}
	slices.Sort(durs)
	var sum time.Duration
	for _, d := range durs {
		sum += d
	}
	avg := sum / time.Duration(len(durs))
	b.Logf("job time (submitting -> succeeded): avg %v p50 %v p99 %v; slot overhead per job %v",
		avg, durs[len(durs)/2], durs[len(durs)*99/100], elapsed*time.Duration(conc)/time.Duration(jobs)-avg)
	b.Logf("Submit: %s; Wait: %s", timed.submit.summary(), timed.wait.summary())
	ideal := time.Duration((jobs+conc-1)/conc) * latency
	st := c.Stats()
	b.ReportMetric(elapsed.Seconds()/ideal.Seconds(), "x-ideal")
	b.ReportMetric(elapsed.Seconds(), "s-wall")
	b.ReportMetric(float64(st.Requests)/float64(jobs), "API-req/job")
	b.ReportMetric(float64(st.SubmitRequests)/float64(jobs), "submit-req/job")
	b.ReportMetric(float64(st.PollRequests)/float64(jobs), "poll-req/job")
	b.ReportMetric(peakRSSMB(), "peakRSS-MB")
}

// timedAPI records how long Submit and Wait take, to tell the executor's
// overhead from the client's and the emulator's.
type timedAPI struct {
	api          executor.API
	submit, wait durations
}

func (t *timedAPI) Submit(ctx context.Context, task runware.Task) (runware.SubmitResult, error) {
	defer t.submit.since(time.Now())
	return t.api.Submit(ctx, task)
}

func (t *timedAPI) Wait(ctx context.Context, id string, n int) (*runware.Result, error) {
	defer t.wait.since(time.Now())
	return t.api.Wait(ctx, id, n)
}

type durations struct {
	mu sync.Mutex
	d  []time.Duration
}

func (d *durations) since(t time.Time) {
	d.mu.Lock()
	d.d = append(d.d, time.Since(t))
	d.mu.Unlock()
}

func (d *durations) summary() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	s := slices.Clone(d.d)
	slices.Sort(s)
	if len(s) == 0 {
		return "none"
	}
	return fmt.Sprintf("p50 %v p90 %v p99 %v max %v", s[len(s)/2], s[len(s)*9/10], s[len(s)*99/100], s[len(s)-1])
}

// passInputs passes media UUIDs and URLs through (no staging here).
type passInputs struct{}

func (passInputs) URL(_ context.Context, in planner.Input) (string, error) { return in.URL, nil }

// memBucket is an HTTP server taking PUTs (Runware's uploadEndpoint) and
// a storage.Destination over the same map.
type memBucket struct {
	srv  *httptest.Server
	mu   sync.Mutex
	objs map[string]storage.Object
}

func newMemBucket() *memBucket {
	m := &memBucket{objs: map[string]storage.Object{}}
	m.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, _ := io.Copy(io.Discard, r.Body)
		if r.Method != http.MethodPut {
			http.Error(w, "PUT only", http.StatusMethodNotAllowed)
			return
		}
		key := strings.TrimPrefix(r.URL.Path, "/")
		m.mu.Lock()
		m.objs[key] = storage.Object{Key: key, Size: n, ContentType: r.Header.Get("Content-Type")}
		m.mu.Unlock()
	}))
	return m
}

func (m *memBucket) UploadURL(_ context.Context, key, _ string, _ time.Duration) (string, error) {
	return m.srv.URL + "/" + key + "?X-Amz-Signature=bench", nil
}

func (m *memBucket) Stat(_ context.Context, key string) (storage.Object, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	o, ok := m.objs[key]
	if !ok {
		return o, storage.ErrNotFound
	}
	return o, nil
}

func (m *memBucket) CopyFromURL(ctx context.Context, src, key, ct string) (storage.Object, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, src, nil)
	if err != nil {
		return storage.Object{}, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return storage.Object{}, err
	}
	defer resp.Body.Close()
	n, _ := io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != http.StatusOK {
		return storage.Object{}, fmt.Errorf("GET: HTTP %d", resp.StatusCode)
	}
	o := storage.Object{Key: key, Size: n, ContentType: ct}
	m.mu.Lock()
	m.objs[key] = o
	m.mu.Unlock()
	return o, nil
}

func (m *memBucket) String() string { return "mem://bench/" }

func (m *memBucket) count() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.objs)
}

// peakRSSMB reads the process's peak resident set (VmHWM) on Linux; it
// includes the in-process emulator and HTTP servers.
func peakRSSMB() float64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == "VmHWM:" {
			kb, _ := strconv.ParseFloat(f[1], 64)
			return kb / 1024
		}
	}
	return 0
}
