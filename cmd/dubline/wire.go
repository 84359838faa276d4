package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/dubline/dubline/executor"
	"github.com/dubline/dubline/internal/redact"
	"github.com/dubline/dubline/planner"
	"github.com/dubline/dubline/runware"
	"github.com/dubline/dubline/runware/emulator"
	"github.com/dubline/dubline/staging"
	"github.com/dubline/dubline/storage"
)

// deps are the parts a run is made of, checked before anything is submitted.
type deps struct {
	api      executor.API
	quoter   executor.Quoter
	sink     storage.Destination
	inputs   executor.Inputs
	stateDir string
	scope    string // API endpoint and account, for caches of Runware-side state
	secrets  []string
	account  runware.Account // the balance, when Runware reported one
	closers  []func()
}

func (d *deps) close() {
	for i := len(d.closers) - 1; i >= 0; i-- {
		d.closers[i]()
	}
}

// wire builds the Runware client (or the sandbox), the output sink and the
// input stager, and checks each one: API reachable and key accepted, bucket
// writable, state directory writable. Any failure is a usage error (exit 2)
// because nothing has been submitted yet.
func wire(ctx context.Context, p *planner.Plan, f runFlags, s3 *s3Client, e env) (_ *deps, err error) {
	d := &deps{}
	defer func() {
		if err != nil {
			d.close()
		}
	}()
	d.stateDir = stateDir(p.ManifestDir, f)
	if err := checkWritableDir(d.stateDir); err != nil {
		return nil, fmt.Errorf("state directory: %w", err)
	}

	client, err := apiClient(ctx, p, f, e, d)
	if err != nil {
		return nil, err
	}
	d.api, d.quoter = client, client

	if p.Output.Kind == "s3" {
		s3c, err := s3.get(ctx, p.Output)
		if err != nil {
			return nil, err
		}
		if err := s3c.Preflight(ctx, p.Output.Bucket, p.Output.Prefix); err != nil {
			return nil, fmt.Errorf("output %s: %w", "s3://"+p.Output.Bucket+"/"+p.Output.Prefix, err)
		}
	}
	if d.sink, err = destination(ctx, p, s3); err != nil {
		return nil, err
	}
	var s3c *storage.S3
	if p.UsesS3() {
		if s3c, err = s3.get(ctx, p.Output); err != nil {
			return nil, err
		}
	}
	in := &staging.Inputs{TTL: p.Output.PresignTTL, Uploader: client, StateDir: d.stateDir, Scope: d.scope}
	if f.sel.sandbox {
		in.StateDir = "" // the in-process emulator forgets its media when the process exits
	}
	if s3c != nil {
		in.S3 = s3c
		in.Staging = p.Output.Staging
	}
	d.inputs = in
	return d, nil
}

// apiClient returns the Runware client, pointed at the sandbox emulator
// with --sandbox, checks the key with the documented authentication task
// and reads the balance (accountManagement getDetails) into d.account. A
// balance that cannot be read is a warning, not a stop: the run's own 402
// handling still protects the account.
func apiClient(ctx context.Context, p *planner.Plan, f runFlags, e env, d *deps) (*runware.Client, error) {
	opt := runware.Options{URL: p.ProviderURL, Logger: e.log}
	if u, ok := e.lookup("RUNWARE_API_URL"); ok && u != "" {
		opt.URL = u
	}
	if f.sel.sandbox {
		url, stop, err := startSandbox()
		if err != nil {
			return nil, err
		}
		d.closers = append(d.closers, stop)
		opt.URL, opt.APIKey = url, "sandbox"
		// The sandbox answers in about a second: poll like it.
		opt.PollInitialDelay, opt.PollInterval, opt.PollMaxInterval = 500*time.Millisecond, 250*time.Millisecond, time.Second
		opt.PollRoundGap = 100 * time.Millisecond
		fmt.Fprintf(e.stderr, "sandbox: Runware emulator at %s (no lip-sync is done, nothing is billed)\n", url)
	} else {
		key, _ := e.lookup("RUNWARE_API_KEY")
		if key == "" {
			return nil, errors.New("RUNWARE_API_KEY is not set (use --sandbox to rehearse without an account)")
		}
		opt.APIKey = key
		d.secrets = append(d.secrets, key)
	}
	sum := sha256.Sum256([]byte(opt.APIKey))
	d.scope = redact.URL(opt.URL) + "#" + hex.EncodeToString(sum[:6])
	if f.pollDelay > 0 {
		opt.PollInitialDelay = f.pollDelay
	}
	if f.pollEvery > 0 {
		opt.PollInterval = f.pollEvery
		opt.PollMaxInterval = max(f.pollEvery, opt.PollMaxInterval)
	}
	client, err := runware.New(opt)
	if err != nil {
		return nil, fmt.Errorf("runware client: %w", err)
	}
	d.closers = append(d.closers, func() { client.Close() })
	pctx, cancel := context.WithTimeout(ctx, e.preflight)
	defer cancel()
	if err := client.Authenticate(pctx); err != nil {
		return nil, fmt.Errorf("Runware API at %s: %w", redact.URL(opt.URL), err)
	}
	acct, err := client.AccountDetails(pctx)
	switch {
	case runware.ClassOf(err) == runware.Fatal:
		return nil, fmt.Errorf("Runware API at %s: %w", redact.URL(opt.URL), err)
	case err != nil:
		e.log.Warn("could not read the account balance; running without the balance check", "err", err)
	case !acct.HasBalance:
		e.log.Warn("the account details carried no balance; running without the balance check")
	}
	d.account = acct
	return client, nil
}

// destination is where the plan's results go: the S3 prefix (through the
// run's one S3 client) or a local directory.
func destination(ctx context.Context, p *planner.Plan, s3 *s3Client) (storage.Destination, error) {
	if p.Output.Kind == "s3" {
		s3c, err := s3.get(ctx, p.Output)
		if err != nil {
			return nil, err
		}
		return storage.NewS3Destination(s3c, p.Output.Bucket, p.Output.Prefix), nil
	}
	dest, err := storage.NewDirDestination(p.Output.Dir)
	if err != nil {
		return nil, fmt.Errorf("output directory: %w", err)
	}
	return dest, nil
}

// startSandbox serves an in-process emulator on a loopback port.
func startSandbox() (string, func(), error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, fmt.Errorf("sandbox: %w", err)
	}
	base := "http://" + ln.Addr().String()
	_, ffmpegErr := exec.LookPath("ffmpeg")
	em := emulator.New(emulator.Options{
		APIKey: "sandbox", PublicURL: base, FFmpeg: ffmpegErr == nil,
		Latency: time.Second, LatencyJitter: 300 * time.Millisecond,
		// A fresh seed per process: media and video UUIDs must not repeat
		// across sandbox processes.
		Seed: time.Now().UnixNano(),
	})
	srv := &http.Server{Handler: em, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	stop := func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
		em.Close()
	}
	return base + "/v1", stop, nil
}

// stateDir is where the journal lives: --state, else .dubline beside the
// manifest, with sandbox rehearsals in their own .dubline/sandbox so a
// rehearsal's "succeeded" never makes a real run skip a job.
func stateDir(manifestDir string, f runFlags) string {
	switch {
	case f.sel.state != "":
		return f.sel.state
	case f.sel.sandbox:
		return filepath.Join(manifestDir, ".dubline", "sandbox")
	}
	return filepath.Join(manifestDir, ".dubline")
}

func checkWritableDir(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("cannot create %s: %w", dir, err)
	}
	f, err := os.CreateTemp(dir, ".probe-*")
	if err != nil {
		return fmt.Errorf("cannot write to %s: %w", dir, err)
	}
	name := f.Name()
	f.Close()
	return os.Remove(name)
}
