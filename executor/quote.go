package executor

import (
	"context"
	"fmt"
	"math"

	"golang.org/x/sync/errgroup"

	"github.com/dubline/dubline/kling"
	"github.com/dubline/dubline/planner"
	"github.com/dubline/dubline/runware"
)

// Quoter asks Runware what a task would cost without running it;
// *runware.Client satisfies it.
type Quoter interface {
	Quote(ctx context.Context, t runware.Task) (usd float64, err error)
}

// Quotes are Runware's dry-run prices, by job id.
type Quotes map[string]kling.Price

// QuoteJobs quotes each distinct request among jobs once: jobs with the
// same parameters, billable audio seconds and whole video seconds share a
// price, so one of them (the first) is sent as a dry run with its real
// inputs and the answer applies to all. The video length is in the key
// because the only live figure known (7.4x the model page's rate) fits
// billing on the video.
func QuoteJobs(ctx context.Context, jobs []*planner.Job, q Quoter, in Inputs) (Quotes, error) {
	type key struct {
		req            *kling.Request
		billed, videoS int
	}
	groups := map[key][]*planner.Job{}
	var order []key
	for _, j := range jobs {
		k := key{j.Request, j.BillableSeconds, int(math.Ceil(j.VideoSeconds))}
		if groups[k] == nil {
			order = append(order, k)
		}
		groups[k] = append(groups[k], j)
	}
	prices := make([]kling.Price, len(order))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(4)
	for i, k := range order {
		g.Go(func() error {
			j := groups[k][0]
			video, err := in.URL(gctx, j.Video)
			if err != nil {
				return fmt.Errorf("quote %s: video %s: %w", j.ID, j.Video.Raw, err)
			}
			audio, err := in.URL(gctx, j.Audio)
			if err != nil {
				return fmt.Errorf("quote %s: audio %s: %w", j.ID, j.Audio.Raw, err)
			}
			usd, err := q.Quote(gctx, runware.Task{Video: video, Audio: audio, Request: *j.Request})
			if err != nil {
				return fmt.Errorf("quote %s: %w", j.ID, err)
			}
			prices[i] = kling.Price(math.Ceil(usd*float64(kling.PerUSD) - 1e-6))
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	out := Quotes{}
	for i, k := range order {
		for _, j := range groups[k] {
			out[j.ID] = prices[i]
		}
	}
	return out, nil
}
