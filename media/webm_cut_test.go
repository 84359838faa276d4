package media

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A WebM cut after its header (Info, Tracks) used to probe as the full
// length from Info/Duration; the Segment's stated size now tells.
func TestProbeWebMCutInClusters(t *testing.T) {
	full, err := os.ReadFile(filepath.Join(fixtures, "face.webm"))
	if err != nil {
		t.Fatal(err)
	}
	for _, keep := range []int{20000, len(full) - 1} {
		info, err := probeBoth(t, full[:keep], "cut.webm")
		if !errors.Is(err, ErrTruncated) || !strings.Contains(err.Error(), "Segment declares") {
			t.Errorf("cut to %d of %d bytes: got %+v, %v; want ErrTruncated from the Segment size", keep, len(full), info, err)
		}
	}
	if info, err := probeBoth(t, full, "face.webm"); err != nil || !info.Video {
		t.Errorf("whole file: %+v, %v", info, err)
	}
}
