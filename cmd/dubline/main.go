// Command dubline runs batch lip-sync dubbing jobs from a YAML manifest
// through KlingAI Lip-Sync on Runware. See README.md.
//
// This package only turns flags into options, makes one call, and maps the
// outcome to an exit code (exit.go). The work lives in pipeline, planner,
// executor, storage and runware.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

// env is the process state a command may touch, injectable for tests.
type env struct {
	stdout, stderr io.Writer
	lookup         func(string) (string, bool)
	log            *slog.Logger
	// preflight bounds the check of the API before a run (default
	// defaultPreflight): long enough to retry a blip, short enough to fail
	// fast on a dead endpoint.
	preflight time.Duration
}

const defaultPreflight = 10 * time.Second

func main() {
	ctx, stop := signalContext()
	defer stop()
	e := env{stdout: os.Stdout, stderr: os.Stderr, lookup: os.LookupEnv}
	os.Exit(run(ctx, os.Args[1:], e))
}

const usage = `usage: dubline <command> [flags] [MANIFEST]

commands:
  validate MANIFEST   check the manifest and local inputs; no network (exit 0 ok, 2 invalid)
  plan MANIFEST       validate, probe media, price every job, check the budget (0 ok, 2 invalid, 4 over budget)
  run MANIFEST        plan, then execute; resumes from the journal (0, 1, 2, 3, 4, 130)
  status MANIFEST     what the journal says, per job and in total
  sandbox             serve the local Runware emulator
  schema              print the manifest's JSON Schema
  version             print the version

Run 'dubline <command> -h' for a command's flags.
`

// run dispatches a command and returns the process exit code.
func run(ctx context.Context, args []string, e env) int {
	if e.log == nil {
		e.log = slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: logLevel(e)}))
	}
	if e.preflight <= 0 {
		e.preflight = defaultPreflight
	}
	if len(args) == 0 {
		fmt.Fprint(e.stderr, usage)
		return ExitInvalid
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "validate":
		return cmdValidate(ctx, rest, e)
	case "plan":
		return cmdPlan(ctx, rest, e)
	case "run":
		return cmdRun(ctx, rest, e)
	case "status":
		return cmdStatus(ctx, rest, e)
	case "sandbox":
		return cmdSandbox(ctx, rest, e)
	case "schema":
		return cmdSchema(rest, e)
	case "version", "--version", "-version":
		fmt.Fprintln(e.stdout, "dubline", version)
		return ExitOK
	case "help", "-h", "--help", "-help":
		fmt.Fprint(e.stdout, usage)
		return ExitOK
	}
	fmt.Fprintf(e.stderr, "dubline: unknown command %q\n\n%s", cmd, usage)
	return ExitInvalid
}

func logLevel(e env) slog.Level {
	if v, _ := e.lookup("DUBLINE_LOG"); strings.EqualFold(v, "debug") {
		return slog.LevelDebug
	}
	return slog.LevelInfo
}

// parseArgs parses flags that may come before or after the positional
// arguments ("dubline plan m.yaml --json" and "dubline plan --json m.yaml").
func parseArgs(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

// oneManifest parses flags and returns the single MANIFEST argument.
func oneManifest(fs *flag.FlagSet, args []string, e env) (string, int) {
	fs.SetOutput(e.stderr)
	pos, err := parseArgs(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		return "", ExitOK
	}
	if err != nil {
		return "", ExitInvalid
	}
	if len(pos) != 1 {
		fmt.Fprintf(e.stderr, "dubline %s: want exactly one MANIFEST argument, got %d\n", fs.Name(), len(pos))
		return "", ExitInvalid
	}
	return pos[0], -1
}

// signalContext is cancelled by the first SIGINT/SIGTERM; a second one
// exits at once with 130 (the journal is consistent at every fsync).
func signalContext() (context.Context, func()) {
	ctx, cancel := context.WithCancel(context.Background())
	ch := make(chan os.Signal, 2)
	signal.Notify(ch, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-ch
		fmt.Fprintln(os.Stderr, "dubline: interrupted; finishing in-flight bookkeeping (press Ctrl-C again to exit now)")
		cancel()
		<-ch
		fmt.Fprintln(os.Stderr, "dubline: second interrupt; exiting now")
		os.Exit(ExitInterrupted)
	}()
	return ctx, func() { signal.Stop(ch); cancel() }
}
