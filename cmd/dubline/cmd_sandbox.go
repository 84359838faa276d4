package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/dubline/dubline/runware/emulator"
)

// cmdSandbox serves the Runware emulator until interrupted.
func cmdSandbox(ctx context.Context, args []string, e env) int {
	fs := flag.NewFlagSet("sandbox", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	listen := fs.String("listen", "127.0.0.1:8787", "address to serve on")
	var o emulator.Options
	o.RegisterFlags(fs)
	pos, err := parseArgs(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		return ExitOK
	}
	if err != nil || len(pos) > 0 {
		return ExitInvalid
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		fmt.Fprintf(e.stderr, "dubline sandbox: %v\n", err)
		return ExitInvalid
	}
	if o.PublicURL == "" {
		o.PublicURL = "http://" + ln.Addr().String()
	}
	o.Logger = e.log
	em := emulator.New(o)
	defer em.Close()
	srv := &http.Server{Handler: em, ReadHeaderTimeout: 10 * time.Second}
	fmt.Fprintf(e.stdout, "Runware emulator on http://%s/v1 (stats: /debug/stats); RUNWARE_API_URL=http://%s/v1\n", ln.Addr(), ln.Addr())
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(sctx)
		return ExitOK
	case err := <-errc:
		fmt.Fprintf(e.stderr, "dubline sandbox: %v\n", err)
		return ExitInternal
	}
}
