package emulator

import (
	"bytes"
	"net/http"
	"path"
	"strings"
	"time"
)

// serveMedia serves media stored by mediaStorage upload.
func (e *Emulator) serveMedia(w http.ResponseWriter, r *http.Request) {
	id := strings.ToLower(strings.TrimPrefix(r.URL.Path, "/media/"))
	e.mu.Lock()
	b, ok := e.media[id]
	e.mu.Unlock()
	if !ok {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", b.contentType)
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(b.data))
}

// serveVideo serves a generated video at its videoURL: 404 if unknown,
// 422 while a FaultVideoURL422 window lasts, 410 after its ttl.
func (e *Emulator) serveVideo(w http.ResponseWriter, r *http.Request) {
	name := path.Base(r.URL.Path)
	id := strings.TrimSuffix(name, path.Ext(name))
	e.mu.Lock()
	o, ok := e.videos[id]
	now := e.now()
	e.mu.Unlock()
	switch {
	case !ok:
		http.NotFound(w, r)
	case now.After(o.expires):
		http.Error(w, "410 gone: the video's ttl has expired", http.StatusGone)
	case now.Before(o.notReadyUntil):
		http.Error(w, "422 the video is still being processed", http.StatusUnprocessableEntity)
	default:
		w.Header().Set("Content-Type", o.contentType)
		http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(o.data))
	}
}
