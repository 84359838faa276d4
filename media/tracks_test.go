package media

import (
	"path/filepath"
	"testing"
)

// Info.Audio says whether there is an audio track, so that the planner can
// refuse an audio input without sound and a video input without picture.
// The single-stream files are remuxed (-c copy) from the fixtures.
func TestProbeAudioVideoTracks(t *testing.T) {
	dir := t.TempDir()
	abs := func(f string) string {
		p, err := filepath.Abs(filepath.Join(fixtures, f))
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	runFFmpeg(t, dir, "-i", abs("face.mp4"), "-an", "-c", "copy", "video_only.mp4")
	runFFmpeg(t, dir, "-i", abs("face.mp4"), "-vn", "-c", "copy", "audio_only.mp4")
	runFFmpeg(t, dir, "-i", abs("face.mov"), "-an", "-c", "copy", "video_only.mov")
	runFFmpeg(t, dir, "-i", abs("face.webm"), "-an", "-c", "copy", "video_only.webm")
	runFFmpeg(t, dir, "-i", abs("face.webm"), "-vn", "-c", "copy", "audio_only.webm")
	tests := []struct {
		path         string
		video, audio bool
	}{
		{filepath.Join(dir, "video_only.mp4"), true, false},
		{filepath.Join(dir, "audio_only.mp4"), false, true},
		{filepath.Join(dir, "video_only.mov"), true, false},
		{filepath.Join(dir, "video_only.webm"), true, false},
		{filepath.Join(dir, "audio_only.webm"), false, true},
		{abs("face.mp4"), true, true},
		{abs("face.mov"), true, true},
		{abs("face.webm"), true, true},
		{abs("speech_4_2s.m4a"), false, true},
		{abs("tone_4_2s.wav"), false, true},
		{abs("tone_4_2s.mp3"), false, true},
		{abs("tone_4_2s.aac"), false, true},
		{abs("tone_4_2s.ogg"), false, true},
		{abs("tone_4_2s.opus"), false, true},
	}
	for _, tc := range tests {
		info, err := ProbeFile(tc.path)
		if err != nil {
			t.Errorf("%s: %v", filepath.Base(tc.path), err)
			continue
		}
		if info.Video != tc.video || info.Audio != tc.audio {
			t.Errorf("%s: Video=%v Audio=%v, want Video=%v Audio=%v", filepath.Base(tc.path), info.Video, info.Audio, tc.video, tc.audio)
		}
	}
}
