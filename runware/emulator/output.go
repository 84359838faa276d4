package emulator

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"

	"github.com/dubline/dubline/kling"
)

// produce makes a task's output: the source video as is, or with
// Options.FFmpeg the source video with its audio mixed per the volumes
// and encoded in the requested format. No lip-sync is done.
func (e *Emulator) produce(ctx context.Context, req videoReq, in inputs) ([]byte, error) {
	if !e.o.FFmpeg {
		return in.video, nil
	}
	bin, err := exec.LookPath("ffmpeg")
	if err != nil {
		e.o.Logger.Warn("emulator: ffmpeg not on PATH; output is the source video")
		return in.video, nil
	}
	dir, err := os.MkdirTemp("", "emulator-ffmpeg-*")
	if err != nil {
		return nil, fmt.Errorf("temp dir: %w", err)
	}
	defer os.RemoveAll(dir)
	vpath, apath := filepath.Join(dir, "in."+in.videoInfo.Format), filepath.Join(dir, "audio."+in.audioInfo.Format)
	if err := os.WriteFile(vpath, in.video, 0o600); err != nil {
		return nil, fmt.Errorf("write video: %w", err)
	}
	if err := os.WriteFile(apath, in.audio, 0o600); err != nil {
		return nil, fmt.Errorf("write audio: %w", err)
	}
	out := filepath.Join(dir, "out."+kling.Ext(req.OutputFormat))
	orig, sound := strconv.FormatFloat(req.OrigVolume, 'f', 2, 64), strconv.FormatFloat(req.SoundVolume, 'f', 2, 64)
	// Mix with the original track when there is one; the output keeps the
	// video's length (Kling keeps the input video's timing window).
	mix := "[0:a]volume=" + orig + "[o];[1:a]volume=" + sound + ",apad[s];[o][s]amix=inputs=2:duration=first:normalize=0[a]"
	only := "[1:a]volume=" + sound + ",apad[a]"
	var stderr bytes.Buffer
	for _, graph := range []string{mix, only} {
		args := []string{"-hide_banner", "-loglevel", "error", "-y", "-i", vpath, "-i", apath,
			"-filter_complex", graph, "-map", "0:v:0", "-map", "[a]", "-shortest"}
		args = append(args, codecArgs(req.OutputFormat)...)
		stderr.Reset()
		cmd := exec.CommandContext(ctx, bin, append(args, out)...)
		cmd.Stderr = &stderr
		if err = cmd.Run(); err == nil {
			return os.ReadFile(out)
		}
	}
	return nil, fmt.Errorf("ffmpeg: %w: %s", err, truncate(stderr.String(), 300))
}

func codecArgs(format string) []string {
	if format == "WEBM" {
		return []string{"-c:v", "libvpx", "-deadline", "realtime", "-cpu-used", "8", "-b:v", "300k", "-c:a", "libopus", "-b:a", "32k"}
	}
	return []string{"-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "64k", "-movflags", "+faststart"}
}
