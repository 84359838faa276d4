package emulator

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"time"
)

// MediaInfo is what the emulator needs to know about an input. Its fields
// mirror media.Info, so media.Probe can be plugged in as a Prober.
type MediaInfo struct {
	Format  string // "mp4", "mov", "m4a", "wav", "mp3", "aac", "webm", "ogg", … ("" unknown)
	Video   bool   // has a video stream
	Seconds float64
	Width   int
	Height  int
	Size    int64
}

// Prober reads an input file. name is a hint (URL path or "video"/"audio").
type Prober func(r io.ReaderAt, size int64, name string) (MediaInfo, error)

// errNotMedia is returned for input that no prober understands.
var errNotMedia = errors.New("not a media file")

// defaultProbe sniffs the container from the first bytes and asks ffprobe
// for streams and duration.
func defaultProbe(r io.ReaderAt, size int64, name string) (MediaInfo, error) {
	head := make([]byte, 16)
	n, _ := r.ReadAt(head, 0)
	info := MediaInfo{Format: sniff(head[:n]), Size: size}
	if info.Format == "" {
		return info, errNotMedia
	}
	f, err := os.CreateTemp("", "emulator-probe-*")
	if err != nil {
		return info, fmt.Errorf("probe %s: %w", name, err)
	}
	defer os.Remove(f.Name())
	_, err = io.Copy(f, io.NewSectionReader(r, 0, size))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return info, fmt.Errorf("probe %s: %w", name, err)
	}
	return ffprobe(f.Name(), info)
}

func ffprobe(path string, info MediaInfo) (MediaInfo, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "ffprobe", "-v", "error", "-print_format", "json",
		"-show_entries", "format=duration:stream=codec_type,width,height", path).Output()
	if err != nil {
		return info, fmt.Errorf("%w: ffprobe: %v", errNotMedia, err)
	}
	var res struct {
		Format  struct{ Duration string }
		Streams []struct {
			CodecType     string `json:"codec_type"`
			Width, Height int
		}
	}
	if err := json.Unmarshal(out, &res); err != nil {
		return info, fmt.Errorf("ffprobe output: %w", err)
	}
	info.Seconds, _ = strconv.ParseFloat(res.Format.Duration, 64)
	for _, s := range res.Streams {
		if s.CodecType == "video" && !info.Video {
			info.Video, info.Width, info.Height = true, s.Width, s.Height
		}
	}
	if info.Seconds <= 0 || len(res.Streams) == 0 {
		return info, fmt.Errorf("%w: no streams or duration", errNotMedia)
	}
	return info, nil
}

// sniff names a container from its first bytes.
func sniff(b []byte) string {
	switch {
	case len(b) >= 12 && string(b[4:8]) == "ftyp":
		switch string(b[8:12]) {
		case "qt  ":
			return "mov"
		case "M4A ", "M4B ":
			return "m4a"
		}
		return "mp4"
	case len(b) >= 12 && string(b[:4]) == "RIFF" && string(b[8:12]) == "WAVE":
		return "wav"
	case bytes.HasPrefix(b, []byte("ID3")):
		return "mp3"
	case len(b) >= 2 && b[0] == 0xFF && b[1]&0xF6 == 0xF0:
		return "aac" // ADTS: 12-bit sync, layer 00
	case len(b) >= 2 && b[0] == 0xFF && b[1]&0xE0 == 0xE0:
		return "mp3"
	case bytes.HasPrefix(b, []byte{0x1A, 0x45, 0xDF, 0xA3}):
		return "webm"
	case bytes.HasPrefix(b, []byte("OggS")):
		return "ogg"
	}
	return ""
}
