package runware_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/dubline/dubline/kling"
	"github.com/dubline/dubline/runware"
	"github.com/dubline/dubline/runware/emulator"
)

// The benchmarks run the emulator in a child process (this test binary,
// re-executed with childEnv=1) so that its CPU is not charged to the
// client. The child serves the emulator and the test media on loopback,
// prints "ADDR <base URL>" and exits when its stdin closes.
const (
	childEnv        = "DUBLINE_EMULATOR_CHILD"
	childLatencyEnv = "DUBLINE_EMULATOR_LATENCY"
)

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) == "1" {
		if err := runEmulatorChild(); err != nil {
			fmt.Fprintln(os.Stderr, "emulator child:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func runEmulatorChild() error {
	latency, err := time.ParseDuration(os.Getenv(childLatencyEnv))
	if err != nil {
		return fmt.Errorf("%s: %w", childLatencyEnv, err)
	}
	emu := emulator.New(emulator.Options{APIKey: emuKey, Latency: latency, Seed: 1})
	defer emu.Close()
	mux := http.NewServeMux()
	mux.Handle("/files/", http.StripPrefix("/files/", http.FileServer(http.Dir(filepath.Join("..", "testdata", "media")))))
	mux.Handle("/", emu)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: mux}
	go srv.Serve(ln)
	fmt.Printf("ADDR http://%s\n", ln.Addr())
	_, _ = io.Copy(io.Discard, os.Stdin) // until the parent closes our stdin
	return srv.Close()
}

// startEmulatorChild starts the child and returns its base URL.
func startEmulatorChild(b *testing.B, latency time.Duration) string {
	b.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"=1", childLatencyEnv+"="+latency.String())
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		stdin.Close()
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill() // our own child, by its process handle
			<-done
		}
	})
	line, err := bufio.NewReader(stdout).ReadString('\n')
	base, ok := strings.CutPrefix(strings.TrimSpace(line), "ADDR ")
	if err != nil || !ok {
		b.Fatalf("child said %q: %v", line, err)
	}
	return base
}

func childStats(b *testing.B, base string) emulator.Stats {
	b.Helper()
	resp, err := http.Get(base + "/debug/stats")
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	var s emulator.Stats
	if err := json.NewDecoder(resp.Body).Decode(&s); err != nil {
		b.Fatal(err)
	}
	return s
}

func benchTask(base string) runware.Task {
	return runware.Task{
		TaskUUID: uuid.NewString(), Request: kling.DefaultRequest(),
		Video: base + "/files/face.mp4", Audio: base + "/files/speech_4_2s.wav",
	}
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkInFlightRequestRate: N tasks in flight whose generations never
// finish inside the window; the client's request rate is measured from 10 s
// to 25 s after the submissions, with the default poll schedule except a
// 1 s first poll.
func BenchmarkInFlightRequestRate(b *testing.B) {
	for _, n := range []int{100, 1000} {
		b.Run(fmt.Sprintf("tasks=%d", n), func(b *testing.B) {
			base := startEmulatorChild(b, time.Hour)
			for range b.N {
				c, err := runware.New(runware.Options{URL: base + "/v1", APIKey: emuKey, PollInitialDelay: time.Second})
				if err != nil {
					b.Fatal(err)
				}
				ctx, cancel := context.WithCancel(context.Background())
				var wg sync.WaitGroup
				for range n {
					wg.Add(1)
					go func() {
						defer wg.Done()
						t := benchTask(base)
						if _, err := c.Submit(ctx, t); err != nil {
							b.Error(err)
							return
						}
						if _, err := c.Wait(ctx, t.TaskUUID, 1); err != nil && ctx.Err() == nil {
							b.Error(err)
						}
					}()
				}
				time.Sleep(10 * time.Second)
				s0 := c.Stats()
				const window = 15 * time.Second
				time.Sleep(window)
				s1 := c.Stats()
				cancel()
				wg.Wait()
				c.Close()
				b.ReportMetric(float64(s1.Requests-s0.Requests)/window.Seconds(), "req/s")
				b.ReportMetric(float64(s1.TaskPolls-s0.TaskPolls)/window.Seconds(), "taskpolls/s")
				b.ReportMetric(float64(s0.SubmitRequests), "submit-reqs")
			}
		})
	}
}

// BenchmarkFullCycle: 5,000 jobs (submit + wait) at concurrency 200 with
// 1 s generations; reports API requests per job and client CPU per job.
func BenchmarkFullCycle(b *testing.B) {
	const jobs, concurrency = 5000, 200
	base := startEmulatorChild(b, time.Second)
	for range b.N {
		c, err := runware.New(runware.Options{URL: base + "/v1", APIKey: emuKey,
			PollInitialDelay: time.Second, PollInterval: 500 * time.Millisecond, PollMaxInterval: 2 * time.Second})
		if err != nil {
			b.Fatal(err)
		}
		before := childStats(b, base)
		work := make(chan struct{})
		var wg sync.WaitGroup
		var mu sync.Mutex
		failures := 0
		cpu0, start := cpuTime(), time.Now()
		for range concurrency {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range work {
					t := benchTask(base)
					_, err := c.Submit(context.Background(), t)
					if err == nil {
						_, err = c.Wait(context.Background(), t.TaskUUID, 1)
					}
					if err != nil {
						mu.Lock()
						failures++
						mu.Unlock()
					}
				}
			}()
		}
		for range jobs {
			work <- struct{}{}
		}
		close(work)
		wg.Wait()
		cpu, elapsed := cpuTime()-cpu0, time.Since(start)
		s := c.Stats()
		c.Close()
		after := childStats(b, base)
		if failures != 0 || after.Succeeded-before.Succeeded != jobs || after.TasksAccepted-before.TasksAccepted != jobs {
			b.Fatalf("failures=%d emulator succeeded %d accepted %d", failures,
				after.Succeeded-before.Succeeded, after.TasksAccepted-before.TasksAccepted)
		}
		b.ReportMetric(float64(s.Requests)/jobs, "req/job")
		b.ReportMetric(float64(s.SubmitRequests)/jobs, "submitreq/job")
		b.ReportMetric(float64(s.PollRequests)/jobs, "pollreq/job")
		b.ReportMetric(float64(s.TaskPolls)/jobs, "taskpolls/job")
		b.ReportMetric(cpu.Seconds()*1000/jobs, "cpu-ms/job")
		b.ReportMetric(jobs/elapsed.Seconds(), "jobs/s")
	}
}

// BenchmarkTenThousandInFlight: 10,000 tasks submitted at once and waited
// for with the default options, 60 s generations (the emulator in a child
// process). Reports API requests and client CPU per job, and the client
// process's peak RSS with all 10,000 in flight.
func BenchmarkTenThousandInFlight(b *testing.B) {
	const jobs = 10000
	base := startEmulatorChild(b, time.Minute)
	for range b.N {
		c, err := runware.New(runware.Options{URL: base + "/v1", APIKey: emuKey})
		if err != nil {
			b.Fatal(err)
		}
		var wg sync.WaitGroup
		var failures atomic.Int64
		cpu0, start := cpuTime(), time.Now()
		for range jobs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				t := benchTask(base)
				_, err := c.Submit(context.Background(), t)
				if err == nil {
					_, err = c.Wait(context.Background(), t.TaskUUID, 1)
				}
				if err != nil {
					failures.Add(1)
				}
			}()
		}
		wg.Wait()
		cpu, elapsed := cpuTime()-cpu0, time.Since(start)
		s := c.Stats()
		c.Close()
		if n := failures.Load(); n != 0 {
			b.Fatalf("%d failures", n)
		}
		b.ReportMetric(float64(s.Requests)/jobs, "req/job")
		b.ReportMetric(float64(s.PollRequests)/jobs, "pollreq/job")
		b.ReportMetric(cpu.Seconds()*1000/jobs, "cpu-ms/job")
		b.ReportMetric(float64(maxRSS())/(1<<20), "peakRSS-MiB")
		b.ReportMetric(elapsed.Seconds(), "s-wall")
	}
}

// maxRSS is this process's peak resident set in bytes (Linux: ru_maxrss in KiB).
func maxRSS() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Maxrss * 1024
}
