package emulator

import (
	"bytes"
	"math"
	"testing"
	"time"

	"github.com/dubline/dubline/kling"
)

func TestAsyncLifecycle(t *testing.T) {
	v := newEnv(t, Options{Latency: 150 * time.Millisecond})
	id := newID()
	r := v.post(body(v.task(id)))
	if r.Status != 200 || len(r.Data) != 1 || len(r.Data[0]) != 2 || r.Data[0]["taskType"] != "videoInference" || r.Data[0]["taskUUID"] != id {
		t.Fatalf("ack: %d %s", r.Status, r.Raw)
	}
	// Right after the ack the task is processing, with a progress figure.
	p := v.post(getResponse(id))
	if p.Status != 200 || len(p.Data) != 1 || p.Data[0]["status"] != "processing" || p.Data[0]["progress"] == nil || p.Data[0]["videoURL"] != nil {
		t.Fatalf("first poll: %s", p.Raw)
	}
	done := v.wait(id, 1)
	it := done.Data[0]
	if it["status"] != "success" || it["taskType"] != "videoInference" || it["taskUUID"] != id || it["NSFWContent"] != false {
		t.Fatalf("success item: %v", it)
	}
	if !validUUIDv4(it["videoUUID"].(string)) {
		t.Fatalf("videoUUID %v", it["videoUUID"])
	}
	if _, ok := it["seed"].(float64); !ok {
		t.Fatalf("seed missing: %v", it)
	}
	// 4.2 s of audio -> 5 billable seconds -> tier 1.
	if it["cost"] != 0.0462 {
		t.Fatalf("cost %v, want 0.0462", it["cost"])
	}
	st, h, b := get(t, it["videoURL"].(string))
	if st != 200 || h.Get("Content-Type") != "video/mp4" || !bytes.Equal(b, readFile(t, "face.mp4")) {
		t.Fatalf("videoURL: %d %s, %d bytes", st, h.Get("Content-Type"), len(b))
	}
	s := v.e.Stats()
	if s.TasksAccepted != 1 || s.Succeeded != 1 || s.Failed != 0 || s.CostBilled != 462 || s.BilledByUUID[id] != 462 || s.AcceptedByUUID[id] != 1 {
		t.Fatalf("stats: %+v", s)
	}
	// The poll is stable: polling again gives the same item.
	again := v.post(getResponse(id))
	if again.Data[0]["videoUUID"] != it["videoUUID"] || again.Data[0]["seed"] != it["seed"] {
		t.Fatal("poll results changed")
	}
}

func TestNoCostUnlessAsked(t *testing.T) {
	v := newEnv(t, Options{})
	id := newID()
	task := v.task(id)
	delete(task, "includeCost")
	v.post(body(task))
	it := v.wait(id, 1).Data[0]
	if _, has := it["cost"]; has || it["status"] != "success" {
		t.Fatalf("cost without includeCost: %v", it)
	}
	if v.e.Stats().CostBilled != 462 {
		t.Fatal("billing must not depend on includeCost")
	}
}

func TestNumberResults(t *testing.T) {
	v := newEnv(t, Options{Latency: 60 * time.Millisecond, LatencyJitter: 50 * time.Millisecond, Seed: 7})
	id := newID()
	task := v.task(id)
	task["numberResults"] = 3
	task["inputs"].(map[string]any)["audio"] = v.file("tone_12_5s.wav") // 13 billable s: 0.0924 + 3*0.0092
	if r := v.post(body(task)); len(r.Data) != 1 {
		t.Fatalf("one ack per task regardless of numberResults: %s", r.Raw)
	}
	done := v.wait(id, 3)
	if len(done.Data) != 3 {
		t.Fatalf("want 3 items: %s", done.Raw)
	}
	seeds, uuids := map[float64]bool{}, map[any]bool{}
	var sum float64
	for _, it := range done.Data {
		seeds[it["seed"].(float64)] = true
		uuids[it["videoUUID"]] = true
		sum += it["cost"].(float64)
	}
	if len(seeds) != 3 || len(uuids) != 3 {
		t.Fatalf("results must differ in seed and videoUUID: %s", done.Raw)
	}
	want := kling.JobPrice(12.5, 3)
	if kling.FromUSD(sum) != want || v.e.Stats().BilledByUUID[id] != want || want != 3*(924+3*92) {
		t.Fatalf("item costs sum to %v, billed %v, want %v", sum, v.e.Stats().BilledByUUID[id], want)
	}
}

func TestPartialResults(t *testing.T) {
	// Two results, one fast and one slow: a poll in between shows one
	// success and one processing item, in a stable order.
	v := newEnv(t, Options{Latency: 300 * time.Millisecond, LatencyJitter: 290 * time.Millisecond, Seed: 3})
	id := newID()
	task := v.task(id)
	task["numberResults"] = 2
	v.post(body(task))
	var saw bool
	for deadline := time.Now().Add(3 * time.Second); time.Now().Before(deadline) && !saw; time.Sleep(3 * time.Millisecond) {
		r := v.post(getResponse(id))
		if len(r.Data) != 2 {
			t.Fatalf("every poll lists all items: %s", r.Raw)
		}
		n := 0
		for _, d := range r.Data {
			if d["status"] == "success" {
				n++
			}
		}
		if n == 2 {
			break
		}
		saw = n == 1
	}
	if !saw {
		t.Fatal("never saw one success beside one processing item")
	}
	v.wait(id, 2)
}

func TestDuplicateTaskUUID(t *testing.T) {
	v := newEnv(t, Options{})
	id := newID()
	task := v.task(id)
	if r := v.post(body(task)); r.Status != 200 {
		t.Fatalf("first: %s", r.Raw)
	}
	for range 2 {
		r := v.post(body(task))
		if r.Status != 409 || errField(r, "code") != "conflictTaskUUID" || errField(r, "taskUUID") != id || errField(r, "parameter") != "taskUUID" {
			t.Fatalf("duplicate: %d %s", r.Status, r.Raw)
		}
	}
	v.wait(id, 1)
	// Still refused after the task finished.
	if r := v.post(body(task)); r.Status != 409 {
		t.Fatalf("after completion: %d", r.Status)
	}
	s := v.e.Stats()
	if s.AcceptedByUUID[id] != 1 || s.DuplicatesRefused != 3 || s.TasksAccepted != 1 || s.BilledByUUID[id] != 462 {
		t.Fatalf("stats %+v", s)
	}
}

func TestBalance(t *testing.T) {
	v := newEnv(t, Options{Balance: 400})
	task := v.task(newID())
	r := v.post(body(task))
	if r.Status != 402 || errField(r, "code") != "insufficientCredits" || errField(r, "taskUUID") != task["taskUUID"] {
		t.Fatalf("below tier-1 price: %d %s", r.Status, r.Raw)
	}
	v.e.SetBalance(500)
	task2 := v.task(newID())
	task2["numberResults"] = 2 // at least 0.0924
	if r := v.post(body(task2)); r.Status != 402 {
		t.Fatalf("two results on 0.05: %d %s", r.Status, r.Raw)
	}
	// Two one-result jobs at 0.0462 on 0.05: both accepted, only one can be paid.
	a, b := v.task(newID()), v.task(newID())
	if r := v.post(body(a, b)); r.Status != 200 || len(r.Data) != 2 {
		t.Fatalf("accept both: %s", r.Raw)
	}
	ra, rb := v.wait(a["taskUUID"].(string), 1), v.wait(b["taskUUID"].(string), 1)
	failed := ra
	if len(ra.Errors) == 0 {
		failed = rb
	}
	if failed.Status != 200 || errField(failed, "code") != "insufficientCredits" || errField(failed, "status") != "error" {
		t.Fatalf("the unpaid task: %s", failed.Raw)
	}
	s := v.e.Stats()
	if s.Succeeded != 1 || s.Failed != 1 || s.CostBilled != 462 {
		t.Fatalf("stats %+v", s)
	}
	if bal, limited := v.e.Balance(); !limited || bal != 38 {
		t.Fatalf("balance %v %v, want 0.0038", bal, limited)
	}
	r = v.post(`[{"taskType":"accountManagement","operation":"getDetails"}]`)
	if math.Abs(r.Data[0]["balance"].(float64)-0.0038) > 1e-9 {
		t.Fatalf("getDetails: %s", r.Raw)
	}
}

func TestInvalidMedia(t *testing.T) {
	v := newEnv(t, Options{})
	for _, tc := range []struct{ name, video, audio, code, param string }{
		{"video not media", "not_media.mp4", "speech_4_2s.wav", "invalidVideoFormat", "inputs.video"},
		{"video too small", "face_small.mp4", "speech_4_2s.wav", "invalidWidth", "inputs.video"},
		{"video webm", "face.webm", "speech_4_2s.wav", "invalidVideoFormat", "inputs.video"},
		{"video truncated", "truncated.mp4", "speech_4_2s.wav", "invalidVideoFormat", "inputs.video"},
		{"audio too short", "face.mp4", "tone_1s.wav", "invalidAudioDuration", "inputs.audio"},
		{"audio ogg", "face.mp4", "tone_4_2s.ogg", "invalidAudioFormat", "inputs.audio"},
		{"audio is a video", "face.mp4", "face.mp4", "invalidAudioFormat", "inputs.audio"},
		{"video 404", "missing.mp4", "speech_4_2s.wav", "downloadFailed", "inputs.video"},
		{"audio unreachable", "face.mp4", "http://127.0.0.1:1/a.wav", "downloadFailed", "inputs.audio"},
		{"audio unknown media UUID", "face.mp4", "0b2d7c1e-4c0e-4a8e-9a0b-1d7f3c2b9e11", "downloadFailed", "inputs.audio"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id := newID()
			task := v.task(id)
			in := task["inputs"].(map[string]any)
			for _, x := range []struct{ key, val string }{{"video", tc.video}, {"audio", tc.audio}} {
				if len(x.val) > 4 && (x.val[:4] == "http" || validUUIDv4(x.val)) {
					in[x.key] = x.val
				} else {
					in[x.key] = v.file(x.val)
				}
			}
			if r := v.post(body(task)); r.Status != 200 {
				t.Fatalf("inputs are checked after the ack: %s", r.Raw)
			}
			r := v.wait(id, 1)
			if r.Status != 200 || len(r.Errors) != 1 || len(r.Data) != 0 {
				t.Fatalf("want one error, got %d %s", r.Status, r.Raw)
			}
			e := r.Errors[0]
			if e["code"] != tc.code || e["status"] != "error" || e["taskUUID"] != id || e["taskType"] != "videoInference" || e["parameter"] != tc.param {
				t.Fatalf("got %v, want %s on %s", e, tc.code, tc.param)
			}
			if v.e.Stats().BilledByUUID[id] != 0 {
				t.Fatal("a failed task was billed")
			}
		})
	}
	if s := v.e.Stats(); s.CostBilled != 0 || s.Succeeded != 0 {
		t.Fatalf("stats %+v", s)
	}
}
