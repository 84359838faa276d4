package emulator

import (
	"io"

	"github.com/dubline/dubline/media"
)

// Prober reads an input file: media.Probe by default. name is a hint (the
// URL's last path segment, or "data"/"base64") whose extension, when it
// has one, says what the bytes must be.
type Prober func(r io.ReaderAt, size int64, name string) (media.Info, error)

// defaultProbe is the same pure-Go probe the planner uses, so the
// emulator and the planner judge inputs alike.
var defaultProbe Prober = media.Probe
