package executor

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dubline/dubline/kling"
	"github.com/dubline/dubline/planner"
	"github.com/dubline/dubline/runware"
	"github.com/dubline/dubline/storage"
)

// Secrets the fakes put into URLs and errors; tests assert they never leak.
const (
	sinkSig   = "SINKSIGNATURE"
	inputSig  = "INPUTSIGNATURE"
	videoTok  = "VIDEOTOKEN"
	apiSecret = "sk-test-APIKEY-123"
)

// fakeTask is a task the fake server accepted.
type fakeTask struct {
	task   runware.Task
	waits  int
	result *runware.Result
}

// fakeAPI is an in-memory Runware with knobs. A task is billed when it is
// accepted; accepting the same taskUUID twice is impossible (conflict).
type fakeAPI struct {
	mu       sync.Mutex
	tasks    map[string]*fakeTask
	order    []string // accepted taskUUIDs in order
	submits  []runware.Task
	sink     *fakeSink // receives uploads to uploadEndpoint when upload is true
	upload   bool
	uploadCT string // content type Runware "sends"; default the format's

	// Knobs. Hooks run without the lock held.
	onSubmit      func(t runware.Task, call int) error              // error instead of accepting
	onSubmitCheck func(uuid string)                                 // observes the journal as the request leaves
	onWait        func(ctx context.Context, t *fakeTask) error      // error instead of a result
	cost          func(t runware.Task) (usd float64, reported bool) // default: reported estimate-like 0.0462
	items         func(t runware.Task) int                          // results to return; default NumberResults

	active, peak atomic.Int64 // tasks between Submit and the end of Wait
}

func newFakeAPI(sink *fakeSink) *fakeAPI {
	return &fakeAPI{tasks: map[string]*fakeTask{}, sink: sink, upload: true}
}

func (f *fakeAPI) Submit(ctx context.Context, t runware.Task) (runware.SubmitResult, error) {
	if f.onSubmitCheck != nil {
		f.onSubmitCheck(t.TaskUUID)
	}
	f.mu.Lock()
	f.submits = append(f.submits, t)
	call := len(f.submits)
	_, known := f.tasks[t.TaskUUID]
	f.mu.Unlock()
	if f.onSubmit != nil {
		if err := f.onSubmit(t, call); err != nil {
			return runware.SubmitResult{}, err
		}
	}
	if err := ctx.Err(); err != nil {
		return runware.SubmitResult{}, err
	}
	if known {
		if t.Resend {
			return runware.SubmitResult{Conflict: true, Attempts: 1}, nil
		}
		return runware.SubmitResult{}, &runware.Error{Class: runware.Permanent, Code: "conflictTaskUUID", HTTPStatus: 409, TaskUUID: t.TaskUUID}
	}
	f.mu.Lock()
	f.tasks[t.TaskUUID] = &fakeTask{task: t}
	f.order = append(f.order, t.TaskUUID)
	f.mu.Unlock()
	return runware.SubmitResult{Attempts: 1}, nil
}

func (f *fakeAPI) Wait(ctx context.Context, uuid string, n int) (*runware.Result, error) {
	f.mu.Lock()
	ft := f.tasks[uuid]
	if ft != nil {
		ft.waits++
	}
	f.mu.Unlock()
	if ft == nil {
		// As the client reports it: the server's answer for this very task.
		return nil, &runware.Error{Class: runware.Permanent, Code: "taskNotFound", TaskUUID: uuid, Terminal: true,
			Message: "task not found"}
	}
	if p := f.active.Add(1); p > f.peak.Load() {
		for {
			old := f.peak.Load()
			if p <= old || f.peak.CompareAndSwap(old, p) {
				break
			}
		}
	}
	defer f.active.Add(-1)
	if f.onWait != nil {
		if err := f.onWait(ctx, ft); err != nil {
			return nil, err
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return f.finish(ft), nil
}

// finish makes the task's result (once) and PUTs to its uploadEndpoint.
func (f *fakeAPI) finish(ft *fakeTask) *runware.Result {
	f.mu.Lock()
	defer f.mu.Unlock()
	if ft.result != nil {
		return ft.result
	}
	t := ft.task
	n := t.Request.NumberResults()
	if f.items != nil {
		n = f.items(t)
	}
	res := &runware.Result{TaskUUID: t.TaskUUID}
	usd, reported := 0.0462, true
	if f.cost != nil {
		usd, reported = f.cost(t)
	}
	for i := 0; i < n; i++ {
		it := runware.Item{VideoUUID: fmt.Sprintf("v-%s-%d", t.TaskUUID, i),
			VideoURL: fmt.Sprintf("https://runware.test/video/%s-%d.mp4?token=%s", t.TaskUUID, i, videoTok)}
		if reported {
			c := usd / float64(n)
			it.Cost = &c
		}
		res.Items = append(res.Items, it)
	}
	res.Cost, res.CostReported = usd, reported
	if f.upload && t.Request.UploadEndpoint() != "" && f.sink != nil {
		ct := f.uploadCT
		if ct == "" {
			ct = kling.ContentType(t.Request.OutputFormat())
		}
		f.sink.put(keyFromURL(t.Request.UploadEndpoint()), 1234, ct)
	}
	ft.result = res
	return res
}

// accepted returns how many tasks were accepted (= billed) in all.
func (f *fakeAPI) accepted() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.order)
}

func (f *fakeAPI) submitCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.submits)
}

func (f *fakeAPI) submitted() []runware.Task {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]runware.Task(nil), f.submits...)
}

// fakeSink is an in-memory destination.
type fakeSink struct {
	mu       sync.Mutex
	objs     map[string]storage.Object
	copies   int
	copyFail int // fail this many CopyFromURL calls first
	copyCT   string
	copyErr  error                           // every CopyFromURL fails with it
	copyHook func(ctx context.Context) error // runs first, without the lock; an error fails the copy
	statErr  error
	noUpload bool // UploadURL fails
}

func newFakeSink() *fakeSink { return &fakeSink{objs: map[string]storage.Object{}} }

func (s *fakeSink) UploadURL(ctx context.Context, key, ct string, ttl time.Duration) (string, error) {
	if s.noUpload {
		return "", fmt.Errorf("presign https://sink.test/%s?X-Amz-Signature=%s: denied", key, sinkSig)
	}
	return fmt.Sprintf("https://sink.test/%s?X-Amz-Signature=%s&X-Amz-Credential=AKIA", key, sinkSig), nil
}

func (s *fakeSink) Stat(ctx context.Context, key string) (storage.Object, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.statErr != nil {
		return storage.Object{}, s.statErr
	}
	o, ok := s.objs[key]
	if !ok {
		return storage.Object{}, fmt.Errorf("stat %s: %w", key, storage.ErrNotFound)
	}
	return o, nil
}

func (s *fakeSink) CopyFromURL(ctx context.Context, src, key, ct string) (storage.Object, error) {
	s.mu.Lock()
	hook := s.copyHook
	s.mu.Unlock()
	if hook != nil {
		if err := hook(ctx); err != nil {
			return storage.Object{}, err
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.copies++
	if s.copyErr != nil {
		return storage.Object{}, s.copyErr
	}
	if s.copyFail > 0 {
		s.copyFail--
		return storage.Object{}, fmt.Errorf("GET %s: 502 bad gateway", src)
	}
	if !strings.Contains(src, videoTok) {
		return storage.Object{}, fmt.Errorf("unexpected source")
	}
	stored := ct
	if s.copyCT != "" {
		stored = s.copyCT
	}
	o := storage.Object{Key: key, Size: 999, ContentType: stored}
	s.objs[key] = o
	if err := storage.Verify(o, ct); err != nil { // as every Destination does
		return storage.Object{}, err
	}
	return o, nil
}

func (s *fakeSink) String() string { return "mem://out/" }

func (s *fakeSink) put(key string, size int64, ct string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.objs[key] = storage.Object{Key: key, Size: size, ContentType: ct}
}

func (s *fakeSink) del(key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.objs, key)
}

func (s *fakeSink) copyCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.copies
}

func keyFromURL(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return ""
	}
	return strings.TrimPrefix(p.Path, "/")
}

// fakeInputs returns presigned-looking URLs.
type fakeInputs struct{ fail bool }

func (f fakeInputs) URL(ctx context.Context, in planner.Input) (string, error) {
	if f.fail {
		return "", fmt.Errorf("stage %s: upload https://stage.test/x?X-Amz-Signature=%s failed", in.Raw, inputSig)
	}
	return "https://inputs.test/" + in.Raw + "?X-Amz-Signature=" + inputSig, nil
}

// testPlan makes n one-result MP4 jobs with the given estimate each.
func testPlan(n int, est kling.Price) *planner.Plan {
	p := &planner.Plan{Name: "test-run", Concurrency: 4, BudgetWindow: 20 * time.Hour, Output: planner.Output{PresignTTL: time.Hour}}
	for i := 0; i < n; i++ {
		id := fmt.Sprintf("job-%03d", i)
		p.Jobs = append(p.Jobs, planner.Job{
			Index: i, ID: id,
			Video:           planner.Input{Raw: id + ".mp4", Kind: planner.InputLocal},
			Audio:           planner.Input{Raw: id + ".wav", Kind: planner.InputLocal},
			Tags:            []string{map[bool]string{true: "even", false: "odd"}[i%2 == 0]},
			Request:         new(kling.DefaultRequest()),
			BillableSeconds: 5, Estimate: est,
			OutputKeys:  []string{id + ".mp4"},
			Fingerprint: "fp-" + id,
		})
		p.Total += est
	}
	return p
}

// env is a test setup: fakes plus options.
type env struct {
	t    *testing.T
	api  *fakeAPI
	sink *fakeSink
	plan *planner.Plan
	opt  Options
	uuid atomic.Int64
}

func newEnv(t *testing.T, n int) *env {
	t.Helper()
	e := &env{t: t, sink: newFakeSink(), plan: testPlan(n, 462)}
	e.api = newFakeAPI(e.sink)
	e.opt = Options{
		API: e.api, Dest: e.sink, Inputs: fakeInputs{},
		StateDir: t.TempDir(),
		Secrets:  []string{apiSecret},
		NewUUID: func() string {
			return fmt.Sprintf("00000000-0000-4000-8000-%012d", e.uuid.Add(1))
		},
	}
	return e
}

func (e *env) run(ctx context.Context) *Report {
	e.t.Helper()
	rep, err := Run(ctx, e.plan, e.opt)
	if err != nil {
		e.t.Fatalf("Run: %v", err)
	}
	return rep
}

func (e *env) journal() *journalData {
	e.t.Helper()
	d, err := readJournal(JournalPath(e.opt.StateDir, e.plan.Name))
	if err != nil {
		e.t.Fatalf("read journal: %v", err)
	}
	return d
}

func jobByID(t *testing.T, r *Report, id string) JobReport {
	t.Helper()
	for _, j := range r.Jobs {
		if j.ID == id {
			return j
		}
	}
	t.Fatalf("job %s not in report", id)
	return JobReport{}
}

func countStates(r *Report) map[string]int {
	m := map[string]int{}
	for _, j := range r.Jobs {
		m[j.State]++
	}
	return m
}
