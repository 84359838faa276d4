package media

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"

	mkv "github.com/remko/go-mkvparse"
)

// maxMKVHeader bounds how much of a WebM/Matroska file is parsed looking
// for Info and Tracks; muxers put both before the first Cluster, within a
// few KB (more with big CodecPrivate or attachments before them).
const maxMKVHeader = 4 << 20

// errStop ends an EBML parse once the header elements are read.
var errStop = errors.New("stop")

type mkvHandler struct {
	mkv.DefaultHandler
	docType       string
	scale         int64
	dur           float64
	haveDur       bool
	info, tracks  bool
	trackType     int64
	w, h          int64
	video, audio  bool
	width, height int64
	segmentEnd    int64 // where the Segment's stated size ends; -1 if unknown (live)
}

func (h *mkvHandler) HandleMasterBegin(id mkv.ElementID, e mkv.ElementInfo) (bool, error) {
	if e.Level > 6 {
		return false, errTooDeep
	}
	switch id {
	case mkv.SegmentElement:
		if e.Size >= 0 && h.segmentEnd < 0 {
			h.segmentEnd = e.Offset + e.Size
		}
		return true, nil
	case mkv.EBMLElement, mkv.InfoElement, mkv.TracksElement, mkv.VideoElement:
		return true, nil
	case mkv.TrackEntryElement:
		h.trackType, h.w, h.h = 0, 0, 0
		return true, nil
	case mkv.ClusterElement:
		return false, errStop // media data starts; headers are over
	}
	return false, nil
}

func (h *mkvHandler) HandleMasterEnd(id mkv.ElementID, _ mkv.ElementInfo) error {
	switch id {
	case mkv.InfoElement:
		h.info = true
	case mkv.TracksElement:
		h.tracks = true
	case mkv.TrackEntryElement:
		if h.trackType == 1 && !h.video {
			h.video, h.width, h.height = true, h.w, h.h
		}
		if h.trackType == 2 {
			h.audio = true
		}
	}
	if h.info && h.tracks {
		return errStop
	}
	return nil
}

func (h *mkvHandler) HandleString(id mkv.ElementID, v string, _ mkv.ElementInfo) error {
	if id == mkv.DocTypeElement {
		h.docType = v
	}
	return nil
}

func (h *mkvHandler) HandleInteger(id mkv.ElementID, v int64, _ mkv.ElementInfo) error {
	switch id {
	case mkv.TimecodeScaleElement:
		h.scale = v
	case mkv.TrackTypeElement:
		h.trackType = v
	case mkv.PixelWidthElement:
		h.w = v
	case mkv.PixelHeightElement:
		h.h = v
	}
	return nil
}

func (h *mkvHandler) HandleFloat(id mkv.ElementID, v float64, _ mkv.ElementInfo) error {
	if id == mkv.DurationElement {
		h.dur, h.haveDur = v, true
	}
	return nil
}

// probeMKV parses the EBML header, Segment/Info and Segment/Tracks with
// go-mkvparse, from an in-memory copy of at most maxMKVHeader bytes.
func probeMKV(r io.ReaderAt, size int64, head []byte) (Info, error) {
	if len(head) < 4 || sniff(head) != kindMKV {
		return Info{}, fmt.Errorf("expected %s, found %s: %w", kindMKV.describe(), foundBytes(head, size), ErrNotMedia)
	}
	// Muxers write Info and Tracks in the first few KB: try the first
	// block, then up to maxMKVHeader (each a single request when remote).
	var h *mkvHandler
	var buf []byte
	for _, limit := range []int64{DefaultBlockSize, maxMKVHeader} {
		n := min(size, limit)
		if err := prefetch(r, 0, n); err != nil {
			return Info{}, fmt.Errorf("read WebM header: %w", err)
		}
		var err error
		if buf, err = readExact(r, size, 0, int(n), "WebM header"); err != nil {
			return Info{}, err
		}
		h = &mkvHandler{scale: 1000000, segmentEnd: -1}
		err = parseMKV(buf, h)
		if h.info && h.tracks || n == size {
			if err != nil {
				return Info{}, err
			}
			break
		}
		if err != nil && !errors.Is(err, ErrTruncated) {
			return Info{}, err
		}
	}
	if !h.info {
		if int64(len(buf)) == size {
			return Info{}, fmt.Errorf("no Segment/Info element: %w", ErrTruncated)
		}
		return Info{}, fmt.Errorf("no Segment/Info element in the first %d bytes: %w", len(buf), ErrUnsupported)
	}
	if h.segmentEnd > size {
		// The header is whole but the clusters after it are cut short.
		return Info{}, fmt.Errorf("WebM Segment declares data up to offset %d but the file ends at %d: %w", h.segmentEnd, size, ErrTruncated)
	}
	if !h.haveDur {
		return Info{}, fmt.Errorf("WebM has no Duration element (a live recording? remux it): %w", ErrUnsupported)
	}
	if h.scale <= 0 || math.IsNaN(h.dur) || math.IsInf(h.dur, 0) || h.dur < 0 {
		return Info{}, fmt.Errorf("WebM states an invalid duration %v x %d ns: %w", h.dur, h.scale, ErrNotMedia)
	}
	format := "webm"
	if h.docType == "matroska" {
		format = "mkv"
	}
	info := Info{Format: format, Video: h.video, Audio: h.audio, Seconds: h.dur * float64(h.scale) / 1e9}
	if h.video && h.width > 0 && h.height > 0 && h.width <= 1<<20 && h.height <= 1<<20 {
		info.Width, info.Height = int(h.width), int(h.height)
	}
	return info, nil
}

func parseMKV(buf []byte, h *mkvHandler) (err error) {
	defer recovered("WebM", &err)
	err = mkv.Parse(bytes.NewReader(buf), h)
	switch {
	case err == nil, errors.Is(err, errStop):
		return nil
	case errors.Is(err, io.ErrUnexpectedEOF):
		return fmt.Errorf("parse WebM header: %v: %w", err, ErrTruncated)
	}
	if h.info && h.tracks {
		return nil
	}
	return fmt.Errorf("parse WebM header: %v: %w", err, ErrNotMedia)
}
