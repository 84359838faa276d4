package media

import (
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// fixtures is the shared test media made by testdata/make-media.sh.
const fixtures = "../testdata/media"

// ffprobeDuration is ffprobe's format duration for path. For ADTS (.aac)
// ffprobe's format duration is a bitrate estimate (12.30 s for a 12.61 s
// file), so there the reference is ffprobe's packet count x 1024 / rate.
func ffprobeDuration(t testing.TB, path string) float64 {
	t.Helper()
	if _, err := exec.LookPath("ffprobe"); err != nil {
		t.Fatalf("ffprobe is required for this test (apt-get install ffmpeg): %v", err)
	}
	args := []string{"-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", path}
	if strings.HasSuffix(path, ".aac") {
		args = []string{"-v", "error", "-count_packets", "-select_streams", "a:0", "-show_entries", "stream=nb_read_packets,sample_rate", "-of", "csv=p=0", path}
	}
	out, err := exec.Command("ffprobe", args...).Output()
	if err != nil {
		t.Fatalf("ffprobe %s: %v", path, err)
	}
	s := strings.TrimSpace(string(out))
	if strings.HasSuffix(path, ".aac") {
		rate, packets, ok := strings.Cut(s, ",")
		r, err1 := strconv.ParseFloat(rate, 64)
		p, err2 := strconv.ParseFloat(packets, 64)
		if !ok || err1 != nil || err2 != nil || r == 0 {
			t.Fatalf("ffprobe %s: unexpected output %q", path, s)
		}
		return p * 1024 / r
	}
	d, err := strconv.ParseFloat(s, 64)
	if err != nil {
		t.Fatalf("ffprobe %s: unexpected output %q", path, s)
	}
	return d
}

// ffprobeTol is how far our duration may be from ffprobe's. MP3 is the
// widest: ours is the exact gapless length, ffprobe 5.1 counts whole
// frames, which is 1600 samples (exactly 0.100 s) more for tone_12_5s.mp3.
const ffprobeTol = 0.1 + 1e-6

func TestProbeFixtures(t *testing.T) {
	tests := []struct {
		file   string
		format string
		video  bool
		audio  bool
		w, h   int
		want   float64 // nominal length from make-media.sh
		tol    float64
	}{
		{"face.mp4", "mp4", true, true, 1280, 720, 3, 0.001},
		{"face.mov", "mov", true, true, 1280, 720, 3, 0.001},
		{"face_moov_end.mp4", "mp4", true, true, 1280, 720, 3, 0.001},
		{"face_12s.mp4", "mp4", true, true, 1280, 720, 12, 0.001},
		{"face_600.mp4", "mp4", true, true, 600, 600, 3, 0.001},
		{"face_small.mp4", "mp4", true, true, 320, 240, 3, 0.001},
		{"face.webm", "webm", true, true, 1280, 720, 3, 0.01}, // Opus codec delay: 3.008
		{"speech_4_2s.m4a", "m4a", false, true, 0, 0, 4.2, 0.001},
		{"speech_4_2s.wav", "wav", false, true, 0, 0, 4.2, 0.001},
		{"speech_es_3_6s.mp3", "mp3", false, true, 0, 0, 3.6, 0.001},
		{"tone_1s.m4a", "m4a", false, true, 0, 0, 1, 0.001},
		{"tone_1s.mp3", "mp3", false, true, 0, 0, 1, 0.001},
		{"tone_1s.wav", "wav", false, true, 0, 0, 1, 0.001},
		{"tone_4_2s.m4a", "m4a", false, true, 0, 0, 4.2, 0.001},
		{"tone_4_2s.mp3", "mp3", false, true, 0, 0, 4.2, 0.001},
		{"tone_4_2s.wav", "wav", false, true, 0, 0, 4.2, 0.001},
		{"tone_4_2s.ogg", "ogg", false, true, 0, 0, 4.2, 0.001},
		{"tone_4_2s.opus", "opus", false, true, 0, 0, 4.2, 0.001},
		// ADTS has no priming/padding info: 1024 priming samples plus the
		// last frame's padding are in the length.
		{"tone_4_2s.aac", "aac", false, true, 0, 0, 4.2, 0.13},
		{"tone_5_2s.m4a", "m4a", false, true, 0, 0, 5.2, 0.001},
		{"tone_5_2s.mp3", "mp3", false, true, 0, 0, 5.2, 0.001},
		{"tone_5_2s.wav", "wav", false, true, 0, 0, 5.2, 0.001},
		{"tone_12_5s.m4a", "m4a", false, true, 0, 0, 12.5, 0.001},
		{"tone_12_5s.mp3", "mp3", false, true, 0, 0, 12.5, 0.001},
		{"tone_12_5s.wav", "wav", false, true, 0, 0, 12.5, 0.001},
		{"tone_12_5s.ogg", "ogg", false, true, 0, 0, 12.5, 0.001},
		{"tone_12_5s.opus", "opus", false, true, 0, 0, 12.5, 0.001},
		{"tone_12_5s.aac", "aac", false, true, 0, 0, 12.5, 0.13},
	}
	// Every fixture that is media must be in the table.
	all, _ := filepath.Glob(filepath.Join(fixtures, "*"))
	listed := map[string]bool{"not_media.mp4": true, "truncated.mp4": true, "make-media.sh": true}
	for _, tc := range tests {
		listed[tc.file] = true
	}
	for _, f := range all {
		if !listed[filepath.Base(f)] {
			t.Errorf("fixture %s is not in the table", filepath.Base(f))
		}
	}
	var rows []string
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			path := filepath.Join(fixtures, tc.file)
			got, err := ProbeFile(path)
			if err != nil {
				t.Fatalf("ProbeFile: %v", err)
			}
			st, _ := os.Stat(path)
			if got.Format != tc.format || got.Video != tc.video || got.Audio != tc.audio || got.Width != tc.w || got.Height != tc.h || got.Size != st.Size() {
				t.Errorf("got %+v, want format %s video %v audio %v %dx%d size %d", got, tc.format, tc.video, tc.audio, tc.w, tc.h, st.Size())
			}
			if math.Abs(got.Seconds-tc.want) > tc.tol {
				t.Errorf("duration %.6f s, want %.3f s within %.3f", got.Seconds, tc.want, tc.tol)
			}
			ff := ffprobeDuration(t, path)
			if math.Abs(got.Seconds-ff) > ffprobeTol {
				t.Errorf("duration %.6f s, ffprobe %.6f s: differ by more than 0.1 s", got.Seconds, ff)
			}
			rows = append(rows, fmt.Sprintf("| %-20s | %-4s | %9.6f | %9.6f | %+.4f |", tc.file, got.Format, got.Seconds, ff, got.Seconds-ff))
		})
	}
	t.Logf("\n| file                 | fmt  | ours (s)  | ffprobe   | diff    |\n|---|---|---|---|---|\n%s", strings.Join(rows, "\n"))
}

func TestProbeBadInput(t *testing.T) {
	dir := t.TempDir()
	wav, err := os.ReadFile(filepath.Join(fixtures, "tone_4_2s.wav"))
	if err != nil {
		t.Fatal(err)
	}
	mp4, err := os.ReadFile(filepath.Join(fixtures, "face_moov_end.mp4"))
	if err != nil {
		t.Fatal(err)
	}
	mp3, err := os.ReadFile(filepath.Join(fixtures, "tone_4_2s.mp3"))
	if err != nil {
		t.Fatal(err)
	}
	ogg, err := os.ReadFile(filepath.Join(fixtures, "tone_4_2s.ogg"))
	if err != nil {
		t.Fatal(err)
	}
	random := make([]byte, 4096)
	rand.New(rand.NewSource(1)).Read(random)
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	tests := []struct {
		name    string
		path    string
		want    error
		mention []string // words the message must contain
	}{
		{"text as mp4", filepath.Join(fixtures, "not_media.mp4"), ErrNotMedia, []string{"expected an MP4", "18 bytes of text, not media"}},
		{"faststart cut at 2000 bytes", filepath.Join(fixtures, "truncated.mp4"), ErrTruncated, []string{"moov", "file ends"}},
		{"wav renamed mp3", write("tone.mp3", wav), ErrNotMedia, []string{"expected an MP3", "found a WAV"}},
		{"wav renamed mp4", write("tone.mp4", wav), ErrNotMedia, []string{"expected an MP4", "found a WAV"}},
		{"mp4 renamed wav", write("face.wav", mp4), ErrNotMedia, []string{"expected a WAV", "found an MP4"}},
		{"empty mp4", write("empty.mp4", nil), ErrTruncated, []string{"empty"}},
		{"empty mp3", write("empty.mp3", nil), ErrTruncated, []string{"empty"}},
		{"random bytes mp4", write("random.mp4", random), ErrNotMedia, []string{"expected an MP4"}},
		{"random bytes mp3", write("random.mp3", random), ErrNotMedia, []string{"expected an MP3"}},
		{"random bytes wav", write("random.wav", random), ErrNotMedia, []string{"expected a WAV"}},
		{"random bytes aac", write("random.aac", random), ErrNotMedia, []string{"expected an AAC"}},
		{"random bytes no extension", write("random", random), ErrNotMedia, []string{"expected a media file"}},
		{"moov-at-end mp4 missing its tail", write("cut.mp4", mp4[:len(mp4)/2]), ErrTruncated, []string{"mdat"}},
		{"wav missing its tail", write("cut.wav", wav[:1000]), ErrTruncated, []string{"data chunk"}},
		{"mp3 cut inside its ID3 tag", write("cut.mp3", mp3[:10]), ErrTruncated, []string{"ID3"}},
		{"mp3 without frames", write("noframes.mp3", append(append([]byte{}, mp3[:45]...), random[:2000]...)), ErrNotMedia, []string{"no MPEG audio frame"}},
		{"ogg missing its tail", write("cut.ogg", ogg[:100]), ErrTruncated, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ProbeFile(tc.path)
			if err == nil {
				t.Fatalf("no error; got %+v", got)
			}
			if !errors.Is(err, tc.want) {
				t.Errorf("error %q does not wrap %v", err, tc.want)
			}
			for _, w := range tc.mention {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
			if got != (Info{}) {
				t.Errorf("error came with a non-zero Info %+v", got)
			}
			t.Logf("%v", err)
		})
	}
}

// Without a known extension the format is sniffed from the bytes.
func TestProbeSniffsWithoutExtension(t *testing.T) {
	for file, format := range map[string]string{
		"face.mp4": "mp4", "face.mov": "mov", "face.webm": "webm", "tone_4_2s.wav": "wav",
		"tone_4_2s.mp3": "mp3", "tone_4_2s.ogg": "ogg", "tone_4_2s.opus": "opus", "tone_4_2s.aac": "aac",
	} {
		b, err := os.ReadFile(filepath.Join(fixtures, file))
		if err != nil {
			t.Fatal(err)
		}
		got, err := Probe(bytesReaderAt(b), int64(len(b)), "3f2a9c1e-uuid")
		if err != nil || got.Format != format || got.Seconds <= 0 {
			t.Errorf("%s without extension: got %+v, %v; want format %s", file, got, err, format)
		}
	}
}

// go-mkvparse panics on a zero-length signed integer or date element; the
// probe turns that into an error.
func TestProbeRecoversParserPanic(t *testing.T) {
	webm := []byte{
		0x1A, 0x45, 0xDF, 0xA3, 0x87, 0x42, 0x82, 0x84, 'w', 'e', 'b', 'm', // EBML header, DocType webm
		0x18, 0x53, 0x80, 0x67, 0x01, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, // Segment, unknown size
		0x15, 0x49, 0xA9, 0x66, 0x83, 0x44, 0x61, 0x80, // Info { DateUTC, 0 bytes }
		0xEC, 0x80, // Void, so the empty read is not at the end of the data
	}
	_, err := Probe(bytesReaderAt(webm), int64(len(webm)), "x.webm")
	if !errors.Is(err, ErrNotMedia) || !strings.Contains(err.Error(), "parser failed") {
		t.Fatalf("got %v, want a recovered parser failure wrapping ErrNotMedia", err)
	}
	t.Log(err)
}

func BenchmarkProbeFile(b *testing.B) {
	for _, f := range []string{"face.mp4", "face_moov_end.mp4"} {
		b.Run(f, func(b *testing.B) {
			path := filepath.Join(fixtures, f)
			for b.Loop() {
				if _, err := ProbeFile(path); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// bytesReaderAt is an io.ReaderAt over a byte slice.
type bytesReaderAt []byte

func (b bytesReaderAt) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 || off >= int64(len(b)) {
		if len(p) == 0 && off >= 0 {
			return 0, nil
		}
		return 0, io.EOF
	}
	n := copy(p, b[off:])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}
