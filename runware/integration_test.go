package runware_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/dubline/dubline/internal/retry"
	"github.com/dubline/dubline/kling"
	"github.com/dubline/dubline/runware"
	"github.com/dubline/dubline/runware/emulator"
)

const emuKey = "sk-emulator-SECRET"

// The price of one job with speech_4_2s.wav: 5 billable seconds.
var jobPrice = kling.JobPrice(4.2, 1)

// emuEnv is the emulator on a real HTTP server, a file server for the test
// media, a PUT sink for uploadEndpoint, and a client pointed at it.
type emuEnv struct {
	t     *testing.T
	emu   *emulator.Emulator
	api   *httptest.Server
	files *httptest.Server
	sink  *putSink
	c     *runware.Client
}

// putSink records PUTs, standing in for a presigned S3 URL.
type putSink struct {
	srv   *httptest.Server
	mu    sync.Mutex
	bytes map[string]int
}

func newEmuEnv(t *testing.T, eo emulator.Options, tweak ...func(*runware.Options)) *emuEnv {
	t.Helper()
	if eo.APIKey == "" {
		eo.APIKey = emuKey
	}
	if eo.Latency == 0 {
		eo.Latency = 30 * time.Millisecond
	}
	v := &emuEnv{t: t}
	v.emu = emulator.New(eo)
	v.api = httptest.NewServer(v.emu)
	v.files = httptest.NewServer(http.FileServer(http.Dir(filepath.Join("..", "testdata", "media"))))
	v.sink = &putSink{bytes: map[string]int{}}
	v.sink.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		v.sink.mu.Lock()
		v.sink.bytes[r.URL.Path] += len(b)
		v.sink.mu.Unlock()
	}))
	o := runware.Options{
		URL:              v.api.URL + "/v1",
		APIKey:           emuKey,
		BatchWindow:      5 * time.Millisecond,
		PollInitialDelay: 20 * time.Millisecond,
		PollInterval:     20 * time.Millisecond,
		PollMaxInterval:  50 * time.Millisecond,
		RequestTimeout:   5 * time.Second,
		Retry:            retry.Policy{Attempts: 4, Initial: 5 * time.Millisecond, Max: 2 * time.Second},
		Rand:             rand.New(rand.NewPCG(11, 12)),
	}
	for _, f := range tweak {
		f(&o)
	}
	c, err := runware.New(o)
	if err != nil {
		t.Fatal(err)
	}
	v.c = c
	t.Cleanup(func() { c.Close(); v.emu.Close(); v.api.Close(); v.files.Close(); v.sink.srv.Close() })
	return v
}

func (v *emuEnv) task() runware.Task {
	return runware.Task{
		TaskUUID: uuid.NewString(), Request: kling.DefaultRequest(),
		Video: v.files.URL + "/face.mp4", Audio: v.files.URL + "/speech_4_2s.wav",
	}
}

// run submits and waits for one task.
func (v *emuEnv) run(t runware.Task) (runware.SubmitResult, *runware.Result, error) {
	ctx := context.Background()
	sr, err := v.c.Submit(ctx, t)
	if err != nil {
		return sr, nil, err
	}
	res, err := v.c.Wait(ctx, t.TaskUUID, t.Request.NumberResults())
	return sr, res, err
}

// billedOnce checks the emulator accepted and billed the task exactly once.
func (v *emuEnv) billedOnce(id string) {
	v.t.Helper()
	s := v.emu.Stats()
	if s.AcceptedByUUID[id] != 1 || s.BilledByUUID[id] != jobPrice {
		v.t.Errorf("accepted %d times, billed %v (want 1, %v)", s.AcceptedByUUID[id], s.BilledByUUID[id], jobPrice)
	}
}

func asError(t *testing.T, err error) *runware.Error {
	t.Helper()
	var e *runware.Error
	if !errors.As(err, &e) {
		t.Fatalf("want *runware.Error, got %v", err)
	}
	return e
}

func TestEmulatorHappyPathWithUpload(t *testing.T) {
	v := newEmuEnv(t, emulator.Options{})
	task := v.task()
	task.Request.SetUploadEndpoint(v.sink.srv.URL + "/out/job1.mp4?X-Amz-Signature=abc")
	sr, res, err := v.run(task)
	if err != nil || sr.Conflict || sr.Attempts != 1 {
		t.Fatalf("run = %+v, %v", sr, err)
	}
	if len(res.Items) != 1 || !res.CostReported || res.Cost != jobPrice.USD() || res.Items[0].VideoUUID == "" {
		t.Fatalf("result %+v", res)
	}
	resp, err := http.Get(res.Items[0].VideoURL)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET videoURL: %v %v", resp, err)
	}
	resp.Body.Close()
	v.sink.mu.Lock()
	n := v.sink.bytes["/out/job1.mp4"]
	v.sink.mu.Unlock()
	if n == 0 {
		t.Error("uploadEndpoint received nothing")
	}
	v.billedOnce(task.TaskUUID)
}

// Many concurrent jobs travel in shared submit batches and poll rounds.
func TestEmulatorConcurrentJobsShareRequests(t *testing.T) {
	v := newEmuEnv(t, emulator.Options{})
	var wg sync.WaitGroup
	const jobs = 40
	for range jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			task := v.task()
			if _, _, err := v.run(task); err != nil {
				t.Error(err)
				return
			}
			v.billedOnce(task.TaskUUID)
		}()
	}
	wg.Wait()
	cs, es := v.c.Stats(), v.emu.Stats()
	if es.TasksAccepted != jobs || es.Succeeded != jobs || int64(es.Requests) != cs.Requests {
		t.Errorf("emulator %+v, client %+v", es, cs)
	}
	if cs.SubmitRequests > jobs/4 {
		t.Errorf("%d submit requests for %d jobs: not batched", cs.SubmitRequests, jobs)
	}
	if cs.PollRequests >= cs.TaskPolls {
		t.Errorf("%d poll requests for %d task polls: not shared", cs.PollRequests, cs.TaskPolls)
	}
}

// 429/503/504 with and without a body and a Retry-After: the submit is
// re-sent with the same taskUUID, accepted once, and a Retry-After is
// honoured (the re-send waits at least that long).
func TestEmulatorTransientStatuses(t *testing.T) {
	for _, status := range []int{429, 503, 504} {
		for _, noBody := range []bool{false, true} {
			for _, retryAfter := range []string{"", "1"} {
				name := fmt.Sprintf("%d body=%v retry-after=%q", status, !noBody, retryAfter)
				t.Run(name, func(t *testing.T) {
					t.Parallel()
					v := newEmuEnv(t, emulator.Options{})
					v.emu.Inject(emulator.Fault{Kind: emulator.FaultStatus, TaskType: "videoInference",
						Status: status, NoBody: noBody, RetryAfter: retryAfter})
					task := v.task()
					start := time.Now()
					sr, err := v.c.Submit(context.Background(), task)
					elapsed := time.Since(start)
					if err != nil || sr.Attempts != 2 || sr.Conflict {
						t.Fatalf("Submit = %+v, %v", sr, err)
					}
					if retryAfter != "" && elapsed < time.Second {
						t.Errorf("re-sent after %v, Retry-After said 1s", elapsed)
					}
					if _, err := v.c.Wait(context.Background(), task.TaskUUID, 1); err != nil {
						t.Fatal(err)
					}
					v.billedOnce(task.TaskUUID)
					if s := v.c.Stats(); s.Retries != 1 || s.SubmitRequests != 2 {
						t.Errorf("client stats %+v", s)
					}
				})
			}
		}
	}
}

func TestEmulatorNonJSON500(t *testing.T) {
	t.Run("once: re-sent", func(t *testing.T) {
		v := newEmuEnv(t, emulator.Options{})
		v.emu.Inject(emulator.Fault{Kind: emulator.FaultNonJSON, TaskType: "videoInference"})
		task := v.task()
		sr, _, err := v.run(task)
		if err != nil || sr.Attempts != 2 {
			t.Fatalf("%+v %v", sr, err)
		}
		v.billedOnce(task.TaskUUID)
	})
	t.Run("every attempt: transient error naming the status", func(t *testing.T) {
		v := newEmuEnv(t, emulator.Options{})
		v.emu.Inject(emulator.Fault{Kind: emulator.FaultNonJSON, TaskType: "videoInference", Count: 10})
		_, err := v.c.Submit(context.Background(), v.task())
		e := asError(t, err)
		if e.Class != runware.Transient || e.HTTPStatus != 500 || !strings.Contains(err.Error(), "non-JSON") {
			t.Fatalf("got %v", err)
		}
		if s := v.emu.Stats(); s.Requests != 4 || s.TasksAccepted != 0 {
			t.Errorf("emulator %+v", s)
		}
	})
}

// A reply slower than RequestTimeout: the client gives up on the request
// and re-sends the same taskUUID; the task is paid once.
func TestEmulatorSlowReplyPastRequestTimeout(t *testing.T) {
	v := newEmuEnv(t, emulator.Options{}, func(o *runware.Options) { o.RequestTimeout = 200 * time.Millisecond })
	v.emu.Inject(emulator.Fault{Kind: emulator.FaultSlow, TaskType: "videoInference", Delay: time.Second})
	task := v.task()
	sr, res, err := v.run(task)
	if err != nil || sr.Attempts != 2 || len(res.Items) != 1 {
		t.Fatalf("%+v %+v %v", sr, res, err)
	}
	v.billedOnce(task.TaskUUID)
}

// The emulator accepts the task, then resets the connection: the re-send
// gets 409 conflictTaskUUID, which means "accepted earlier, poll it".
func TestEmulatorResetAfterAcceptIsPaidOnce(t *testing.T) {
	v := newEmuEnv(t, emulator.Options{})
	v.emu.Inject(emulator.Fault{Kind: emulator.FaultReset, TaskType: "videoInference"})
	task := v.task()
	sr, res, err := v.run(task)
	if err != nil || !sr.Conflict || sr.Attempts != 2 || len(res.Items) != 1 {
		t.Fatalf("%+v %+v %v", sr, res, err)
	}
	v.billedOnce(task.TaskUUID)
	if s := v.emu.Stats(); s.DuplicatesRefused != 1 || s.TasksAccepted != 1 {
		t.Errorf("emulator %+v", s)
	}
	if s := v.c.Stats(); s.Conflicts != 1 {
		t.Errorf("client %+v", s)
	}
}

// A resumed run re-sends a journalled task with Resend: 409 is success.
func TestEmulatorResendOfAcceptedTask(t *testing.T) {
	v := newEmuEnv(t, emulator.Options{})
	task := v.task()
	if _, err := v.c.Submit(context.Background(), task); err != nil {
		t.Fatal(err)
	}
	_, err := v.c.Submit(context.Background(), task)
	if e := asError(t, err); e.Class != runware.Permanent || e.Code != "conflictTaskUUID" || e.HTTPStatus != 409 {
		t.Fatalf("plain duplicate: %v", err)
	}
	task.Resend = true
	sr, res, err := v.run(task)
	if err != nil || !sr.Conflict || len(res.Items) != 1 {
		t.Fatalf("%+v %v", sr, err)
	}
	v.billedOnce(task.TaskUUID)
}

// A generation that fails at Runware ends the Wait with the task's own
// error, Terminal, in both error shapes: timeoutProvider is Regenerate,
// insufficientCredits stays Fatal, uploadFailed is Permanent (the result
// may have been billed; regenerating could pay twice).
func TestEmulatorGenerationFailuresAreTerminal(t *testing.T) {
	codes := []struct {
		code  string
		class runware.Class
	}{
		{"timeoutProvider", runware.Regenerate},
		{"insufficientCredits", runware.Fatal},
		{"uploadFailed", runware.Permanent},
	}
	for _, shape := range []string{emulator.ErrorShapeErrors, emulator.ErrorShapeData} {
		for _, tc := range codes {
			t.Run(shape+" "+tc.code, func(t *testing.T) {
				t.Parallel()
				v := newEmuEnv(t, emulator.Options{ErrorShape: shape})
				v.emu.Inject(emulator.Fault{Kind: emulator.FaultGeneration, Code: tc.code})
				task := v.task()
				_, _, err := v.run(task)
				e := asError(t, err)
				if e.Class != tc.class || e.Code != tc.code || e.TaskUUID != task.TaskUUID || !e.Terminal {
					t.Fatalf("got %#v", e)
				}
				if s := v.emu.Stats(); s.BilledByUUID[task.TaskUUID] != 0 || s.AcceptedByUUID[task.TaskUUID] != 1 {
					t.Errorf("emulator %+v", s)
				}
			})
		}
	}
}

// Two tasks accepted on a balance that pays for one: the one billed second
// fails its generation with insufficientCredits, which Wait reports as
// Fatal and Terminal (the task is over; the run must stop).
func TestEmulatorCreditsRunOutDuringGeneration(t *testing.T) {
	v := newEmuEnv(t, emulator.Options{Balance: jobPrice}, func(o *runware.Options) { o.BatchWindow = 50 * time.Millisecond })
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _, errs[i] = v.run(v.task())
		}()
	}
	wg.Wait()
	ok, fatal := 0, 0
	for _, err := range errs {
		if err == nil {
			ok++
			continue
		}
		if e := asError(t, err); e.Class == runware.Fatal && e.Code == "insufficientCredits" && e.Terminal {
			fatal++
		} else {
			t.Errorf("got %#v", e)
		}
	}
	if ok != 1 || fatal != 1 {
		t.Errorf("%d succeeded, %d fatal (want 1, 1)", ok, fatal)
	}
	if s := v.emu.Stats(); s.TasksAccepted != 2 || s.CostBilled != jobPrice {
		t.Errorf("emulator %+v", s)
	}
}

// A proxy's non-JSON 404 to getResponse says nothing about the task: the
// client keeps polling and gets the result; the task is paid once.
func TestEmulatorNonJSON404PollKeepsPolling(t *testing.T) {
	v := newEmuEnv(t, emulator.Options{})
	v.emu.Inject(emulator.Fault{Kind: emulator.FaultNonJSON, TaskType: "getResponse", Status: 404, Count: 3})
	task := v.task()
	sr, res, err := v.run(task)
	if err != nil || sr.Attempts != 1 || len(res.Items) != 1 {
		t.Fatalf("%+v %+v %v", sr, res, err)
	}
	v.billedOnce(task.TaskUUID)
	if s := v.c.Stats(); s.PollRequests < 4 {
		t.Errorf("client %+v: want the three failed polls and more", s)
	}
}

// A 429 with Retry-After answered to getResponse delays the next poll of
// the task by that much.
func TestEmulatorPollRetryAfter(t *testing.T) {
	v := newEmuEnv(t, emulator.Options{})
	v.emu.Inject(emulator.Fault{Kind: emulator.FaultStatus, TaskType: "getResponse", Status: 429, RetryAfter: "1"})
	task := v.task()
	if _, err := v.c.Submit(context.Background(), task); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	res, err := v.c.Wait(context.Background(), task.TaskUUID, 1)
	if err != nil || len(res.Items) != 1 {
		t.Fatalf("%+v %v", res, err)
	}
	if el := time.Since(start); el < time.Second {
		t.Errorf("Wait returned after %v; the 429 said Retry-After: 1", el)
	}
	v.billedOnce(task.TaskUUID)
}

// A failed uploadEndpoint PUT does not fail the task: the client returns
// the videoURL, from which the executor recovers the output.
func TestEmulatorFailedUploadStillReturnsVideoURL(t *testing.T) {
	v := newEmuEnv(t, emulator.Options{})
	v.emu.Inject(emulator.Fault{Kind: emulator.FaultUpload})
	task := v.task()
	task.Request.SetUploadEndpoint(v.sink.srv.URL + "/out/x.mp4?X-Amz-Signature=abc")
	_, res, err := v.run(task)
	if err != nil || len(res.Items) != 1 || res.Items[0].VideoURL == "" {
		t.Fatalf("%+v %v", res, err)
	}
	if s := v.emu.Stats(); s.UploadsFailed != 1 || s.BytesUploaded != 0 {
		t.Errorf("emulator %+v", s)
	}
	resp, err := http.Get(res.Items[0].VideoURL)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("videoURL: %v %v", resp, err)
	}
	resp.Body.Close()
}

// The client does not download outputs: a videoURL that answers 422 for a
// while is returned as is, and the downloader retries it.
func TestEmulatorVideoURL422IsReturnedAsIs(t *testing.T) {
	v := newEmuEnv(t, emulator.Options{})
	v.emu.Inject(emulator.Fault{Kind: emulator.FaultVideoURL422, Delay: 10 * time.Second})
	_, res, err := v.run(v.task())
	if err != nil || len(res.Items) != 1 {
		t.Fatalf("%+v %v", res, err)
	}
	resp, err := http.Get(res.Items[0].VideoURL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 422 {
		t.Errorf("videoURL answered %d, want 422 (not ready yet)", resp.StatusCode)
	}
}

func TestEmulatorExpiredTaskIsPermanent(t *testing.T) {
	v := newEmuEnv(t, emulator.Options{}, func(o *runware.Options) { o.PollInitialDelay = 200 * time.Millisecond })
	v.emu.Inject(emulator.Fault{Kind: emulator.FaultExpire})
	task := v.task()
	_, _, err := v.run(task)
	e := asError(t, err)
	if e.Class != runware.Permanent || e.Code != "taskNotFound" || e.HTTPStatus != 404 || e.TaskUUID != task.TaskUUID {
		t.Fatalf("got %#v", e)
	}
}

// dropAuth is a transport that loses the Authorization header on the way.
type dropAuth struct{ next http.RoundTripper }

func (d dropAuth) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Del("Authorization")
	return d.next.RoundTrip(r)
}

func TestEmulatorAuthErrorsAreFatal(t *testing.T) {
	cases := []struct {
		name  string
		tweak func(*runware.Options)
		code  string
	}{
		{"invalid key", func(o *runware.Options) { o.APIKey = "sk-wrong-SECRET" }, "invalidApiKey"},
		{"missing key", func(o *runware.Options) { o.HTTPClient = &http.Client{Transport: dropAuth{http.DefaultTransport}} }, "missingApiKey"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			v := newEmuEnv(t, emulator.Options{}, tc.tweak)
			_, err := v.c.Submit(context.Background(), v.task())
			e := asError(t, err)
			if e.Class != runware.Fatal || e.Code != tc.code || e.HTTPStatus != 401 || e.Parameter != "apiKey" {
				t.Fatalf("got %#v", e)
			}
			if strings.Contains(err.Error(), "SECRET") {
				t.Errorf("key leaked: %v", err)
			}
			if s := v.emu.Stats(); s.Requests != 1 || s.TasksAccepted != 0 {
				t.Errorf("emulator %+v (a Fatal error must not be retried)", s)
			}
			// The authentication task carries the key in its body, so only a
			// wrong key fails it.
			if err := v.c.Authenticate(context.Background()); (tc.code == "invalidApiKey") != (runware.ClassOf(err) == runware.Fatal) {
				t.Errorf("Authenticate: %v", err)
			}
		})
	}
}

// With a balance for exactly one job, the second submit and a following
// batch all get 402 insufficientCredits (Fatal) and nothing more is billed.
func TestEmulatorInsufficientCreditsIsFatal(t *testing.T) {
	v := newEmuEnv(t, emulator.Options{Balance: jobPrice}, func(o *runware.Options) { o.BatchWindow = 50 * time.Millisecond })
	first := v.task()
	if _, _, err := v.run(first); err != nil {
		t.Fatal(err)
	}
	var fatal atomic.Int32
	var wg sync.WaitGroup
	for range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := v.c.Submit(context.Background(), v.task())
			if e := asError(t, err); e.Class == runware.Fatal && e.Code == "insufficientCredits" && e.HTTPStatus == 402 &&
				e.Terminal && e.Attempts == 1 {
				fatal.Add(1)
			} else {
				t.Errorf("got %#v", e)
			}
		}()
	}
	wg.Wait()
	s := v.emu.Stats()
	if fatal.Load() != 3 || s.TasksAccepted != 1 || s.CostBilled != jobPrice {
		t.Errorf("fatal=%d emulator %+v", fatal.Load(), s)
	}
	if cs := v.c.Stats(); cs.Retries != 0 {
		t.Errorf("client retried a Fatal error: %+v", cs)
	}
}

func TestEmulatorValidationIsPermanent(t *testing.T) {
	cases := []struct {
		name    string
		edit    func(*runware.Task)
		param   string
		allowed bool
	}{
		{"output format", func(t *runware.Task) { t.Request.Set("outputFormat", kling.Str("AVI")) }, "outputFormat", true},
		{"output quality", func(t *runware.Task) { t.Request.Set("outputQuality", kling.Num(10)) }, "outputQuality", false},
		{"number results", func(t *runware.Task) { t.Request.Set("numberResults", kling.Num(9)) }, "numberResults", false},
		{"model", func(t *runware.Task) { t.Request.Model = "klingai:1@1" }, "model", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			v := newEmuEnv(t, emulator.Options{})
			task := v.task()
			tc.edit(&task)
			_, err := v.c.Submit(context.Background(), task)
			e := asError(t, err)
			if e.Class != runware.Permanent || e.HTTPStatus != 400 || e.Parameter != tc.param || e.TaskUUID != task.TaskUUID {
				t.Fatalf("got %#v", e)
			}
			if tc.allowed && len(e.AllowedValues) == 0 {
				t.Errorf("no allowedValues in %#v", e)
			}
			if s := v.emu.Stats(); s.Requests != 1 || s.TasksAccepted != 0 {
				t.Errorf("emulator %+v", s)
			}
		})
	}
}

// The preflight calls: the documented authentication task (also when the
// server refuses ping), and the balance as a number or as an object.
func TestEmulatorAuthenticateAndAccount(t *testing.T) {
	for _, shape := range []bool{false, true} {
		v := newEmuEnv(t, emulator.Options{Balance: 12345, RefusePing: true, BalanceObject: shape})
		if err := v.c.Authenticate(context.Background()); err != nil {
			t.Fatal(err)
		}
		acct, err := v.c.AccountDetails(context.Background())
		if err != nil || !acct.HasBalance || acct.BalanceUSD != 1.2345 {
			t.Errorf("object %t: AccountDetails = %+v, %v", shape, acct, err)
		}
	}
}

func TestEmulatorUploadMedia(t *testing.T) {
	v := newEmuEnv(t, emulator.Options{})
	if err := v.c.Authenticate(context.Background()); err != nil {
		t.Fatal(err)
	}
	id, u, err := v.c.UploadMedia(context.Background(), v.files.URL+"/speech_4_2s.wav")
	if err != nil || id == "" || u == "" {
		t.Fatalf("UploadMedia = %q %q %v", id, u, err)
	}
	task := v.task()
	task.Audio = id // a media UUID works as an input
	if _, res, err := v.run(task); err != nil || len(res.Items) != 1 {
		t.Fatalf("%+v %v", res, err)
	}
}

// A dry run (X-Runware-Dry-Run: 1) returns the cost and neither runs nor
// bills the task; the emulator's factor rehearses a price that differs
// from the rule.
func TestEmulatorQuote(t *testing.T) {
	v := newEmuEnv(t, emulator.Options{DryRunFactor: 7.4})
	usd, err := v.c.Quote(context.Background(), v.task())
	if err != nil {
		t.Fatal(err)
	}
	if want := kling.Price(math.Ceil(462 * 7.4)).USD(); usd != want {
		t.Errorf("quote $%v, want $%v", usd, want)
	}
	if s := v.emu.Stats(); s.DryRuns != 1 || s.TasksAccepted != 0 || s.CostBilled != 0 {
		t.Errorf("emulator %+v: a dry run must not run or bill", s)
	}
}
