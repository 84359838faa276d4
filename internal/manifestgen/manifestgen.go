// Package manifestgen writes large, realistic Dubline manifests for
// benchmarks and load tests: n jobs of about 150 bytes each, so 100,000
// jobs make a ~15 MB file. Output is deterministic for a given n and
// Options, so benchmark runs compare like with like.
package manifestgen

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
)

// Options tune the generated manifest. The zero value is a valid choice.
type Options struct {
	// Name is the manifest's name; default "bench".
	Name string
	// OutputURL is the output location; default "s3://dubs-bench/out/".
	OutputURL string
	// Seed varies the audio durations; the same seed gives the same file.
	Seed uint64
}

// Generate writes a manifest with n jobs to w. Each job has an id, an
// s3:// video and audio, audioSeconds between 2.0 and 59.9, and tags.
func Generate(w io.Writer, n int, opt Options) error {
	if n < 0 {
		return fmt.Errorf("manifestgen: negative job count %d", n)
	}
	if opt.Name == "" {
		opt.Name = "bench"
	}
	if opt.OutputURL == "" {
		opt.OutputURL = "s3://dubs-bench/out/"
	}
	bw := bufio.NewWriterSize(w, 64<<10)
	fmt.Fprintf(bw, `version: 1
name: %s
output:
  url: %s
  key: "{id}.{ext}"
  presignTTL: 2h
limits:
  concurrency: 8
  budgetUSD: "%d.00"
defaults:
  outputFormat: MP4
  outputQuality: 95
  numberResults: 1
  originalAudioVolume: 0
  soundVolume: 1
  includeCost: true
  ttl: 86400
  safety: {checkContent: true, mode: fast}
jobs:
`, opt.Name, opt.OutputURL, n/5+1)
	rng := opt.Seed*0x9E3779B97F4A7C15 + 1
	var buf []byte
	for i := 0; i < n; i++ {
		rng = rng*6364136223846793005 + 1442695040888963407 // LCG: cheap, deterministic
		tenths := 20 + int((rng>>33)%580)                   // 2.0 .. 59.9 s
		const lang = "es"
		buf = buf[:0]
		buf = append(buf, "  - id: ep"...)
		buf = appendPadded(buf, i)
		buf = append(buf, '-')
		buf = append(buf, lang...)
		buf = append(buf, "\n    video: s3://media/ep"...)
		buf = appendPadded(buf, i)
		buf = append(buf, ".mp4\n    audio: s3://media/ep"...)
		buf = appendPadded(buf, i)
		buf = append(buf, '.')
		buf = append(buf, lang...)
		buf = append(buf, ".wav\n    audioSeconds: "...)
		buf = strconv.AppendInt(buf, int64(tenths/10), 10)
		buf = append(buf, '.')
		buf = strconv.AppendInt(buf, int64(tenths%10), 10)
		buf = append(buf, "\n    tags: ["...)
		buf = append(buf, lang...)
		buf = append(buf, ", s"...)
		buf = strconv.AppendInt(buf, int64(i/1000+1), 10)
		buf = append(buf, "]\n"...)
		if _, err := bw.Write(buf); err != nil {
			return fmt.Errorf("manifestgen: write job %d: %w", i, err)
		}
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("manifestgen: flush: %w", err)
	}
	return nil
}

// appendPadded appends i with at least six digits ("000042").
func appendPadded(b []byte, i int) []byte {
	s := strconv.Itoa(i)
	for k := len(s); k < 6; k++ {
		b = append(b, '0')
	}
	return append(b, s...)
}
